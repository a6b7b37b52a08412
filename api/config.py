"""Service settings: where data lives, which database, upload limits, workers, engine.

Read from ``CALLSCOPE_*`` environment variables (the README lists them) with command-line
options on top; everything has a default that runs on one machine with nothing installed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

RECORDING_TYPES = (".wav", ".mp3", ".m4a", ".ogg", ".opus", ".flac")
TRANSCRIPT_TYPES = (".json",)


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """Everything `callscope serve` needs to know; immutable once the service starts."""

    data_dir: Path = Path("callscope-data")
    db_url: str = ""  # default: SQLite file in data_dir
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_mb: float = 200.0
    allowed_types: tuple[str, ...] = RECORDING_TYPES + TRANSCRIPT_TYPES
    workers: int = 1  # worker processes for the pipeline
    engine: str = "local"  # local | ray
    ray_address: str | None = None
    max_attempts: int = 3  # a job failing this often is marked failed (a poisoned file fails alone)
    lease_s: float = 900.0  # a job whose worker is silent this long is taken over
    poll_s: float = 0.5
    models: Path | None = None  # model folder (default: bundled)
    untrained: bool = False
    whisper_model: Path | None = None
    admin_token: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        """The configured URL, or the SQLite file ``data_dir/callscope.db``."""
        return self.db_url or f"sqlite:///{(self.data_dir / 'callscope.db').resolve()}"

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    def with_(self, **changes) -> ServiceConfig:
        """A copy with some settings changed (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def config_from_env(env: dict[str, str] | None = None) -> ServiceConfig:
    """Settings from ``CALLSCOPE_<NAME>`` variables (e.g. CALLSCOPE_DB_URL, CALLSCOPE_WORKERS)."""
    env = dict(os.environ if env is None else env)
    values = {}
    for f in fields(ServiceConfig):
        raw = env.get(f"CALLSCOPE_{f.name.upper()}")
        if raw is None or f.name == "extra":
            continue
        kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
        if "Path" in kind:
            values[f.name] = Path(raw)
        elif kind.startswith("int"):
            values[f.name] = int(raw)
        elif kind.startswith("float"):
            values[f.name] = float(raw)
        elif kind.startswith("bool"):
            values[f.name] = raw.lower() in ("1", "true", "yes")
        elif kind.startswith("tuple"):
            values[f.name] = tuple(x.strip() for x in raw.split(",") if x.strip())
        else:
            values[f.name] = raw
    return ServiceConfig(**values)
