"""Identifiers Parley makes up: a readable prefix and 80 random bits."""

import os


def new_id(prefix: str) -> str:
    return f"{prefix}_{os.urandom(10).hex()}"
