"""Converting between wire dicts (camelCase) and the attrs types of protocol/types.py."""

from __future__ import annotations

import enum
import functools
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from parley.core.naming import camel
from parley.protocol import types as t

T = TypeVar("T")


def _content_block(data: Any, _: Any) -> t.ContentBlock:
    if data["type"] == "image":
        return t.ImageContent("image", data["mimeType"], data["data"])
    return t.TextContent("text", data["text"])


def _mcp_server(data: Any, _: Any) -> t.McpServer:
    if data.get("type") == "http":
        return converter().structure(data, t.McpServerHttp)
    return converter().structure(data, t.McpServerStdio)


def _prompt(data: Any, _: Any) -> t.PromptText | list[t.ContentBlock]:
    if isinstance(data, str):
        return t.PromptText(data)
    return [_content_block(item, None) for item in data]


def make_converter() -> cattrs.Converter:
    conv = cattrs.Converter()

    def renames(cls: type) -> dict[str, Any]:
        return {f.name: override(rename=camel(f.name)) for f in attrs.fields(cls)}

    def struct_factory(cls: type) -> Any:
        return make_dict_structure_fn(cls, conv, **renames(cls))

    def unstruct_factory(cls: type) -> Any:
        return make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True, **renames(cls))

    conv.register_structure_hook_factory(attrs.has, struct_factory)
    conv.register_unstructure_hook_factory(attrs.has, unstruct_factory)
    conv.register_structure_hook(t.ContentBlock, _content_block)
    conv.register_structure_hook(t.McpServer, _mcp_server)
    conv.register_structure_hook(typing.Union[t.PromptText, list[t.ContentBlock]], _prompt)  # noqa: UP007
    conv.register_structure_hook(typing.Any, lambda v, _: v)
    conv.register_unstructure_hook(enum.Enum, lambda e: e.value)
    return conv


@functools.cache
def converter() -> cattrs.Converter:
    return make_converter()


def structure(data: Any, cls: type[T]) -> T:
    return converter().structure(data if data is not None else {}, cls)


# Per class, looked up once: the converter's own dispatch costs several times the conversion
# of a small event, and every event of every turn comes through here.
_UNSTRUCTURE_HOOKS: dict[type[Any], Callable[[Any], Any]] = {}


def unstructure(obj: Any) -> Any:
    cls = type(obj)
    hook = _UNSTRUCTURE_HOOKS.get(cls)
    if hook is None:
        hook = _UNSTRUCTURE_HOOKS[cls] = converter().get_unstructure_hook(cls)
    return hook(obj)
