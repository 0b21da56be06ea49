"""Domain types every layer shares: messages, usage, ids, tool specs, errors.

Imports nothing of Parley's, so providers, tools and stores can use it without the engine.
"""
