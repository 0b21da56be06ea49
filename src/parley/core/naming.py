"""snake_case in Python, camelCase on the wire."""

import functools


@functools.cache
def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
