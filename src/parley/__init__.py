"""Parley: a language-server-style agent server."""

from parley.protocol.version import PROTOCOL_VERSION, SCHEMA_VERSION

__version__ = "0.1.0"

__all__ = ["PROTOCOL_VERSION", "SCHEMA_VERSION", "__version__"]
