"""Receiving uploads: a multipart body streamed straight to disk, checked, and stored by content.

Each file part is written to ``upload_dir/.incoming`` as it arrives, hashed on the way; bytes past
the size limit are not written (the file is rejected, the rest of the request still read). A file
is accepted only after its type is checked twice (extension and content: RIFF/WAVE, ID3 or MPEG
frame, fLaC, OggS, ``ftyp``; a transcript must parse as a corpus-format call), and it is stored
under its SHA-256, synced to disk, before the job row that makes it accepted is committed.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from api.config import RECORDING_TYPES, TRANSCRIPT_TYPES

FILE_FIELD = "files"
METADATA_FIELD = "metadata"
MAX_FILES = 1000
MAX_FIELD_BYTES = 1024 * 1024
MAX_HEADER_BYTES = 16 * 1024
HEAD_BYTES = 64
INCOMING = ".incoming"


class UploadError(Exception):
    """The request as a whole cannot be taken (not multipart, malformed, unknown part, too many files)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class ReceivedFile:
    """One file part: where its bytes are waiting, how many there were, their hash, and any problem."""

    filename: str
    temp: Path
    size: int = 0
    head: bytes = b""
    too_large: bool = False
    sha256: str = ""
    reason: str | None = None
    kind: str | None = None
    _hash: hashlib._Hash = field(default_factory=hashlib.sha256, repr=False)
    _out: IO[bytes] | None = field(default=None, repr=False)


class MultipartReceiver:
    """Parses a ``multipart/form-data`` body fed chunk by chunk (``feed``, then ``finish``): file
    parts named ``files`` go to disk, the ``metadata`` field is kept as text."""

    def __init__(self, content_type: str | None, upload_dir: Path, max_bytes: int):
        kind, options = parse_options_header(content_type or "")
        if kind != b"multipart/form-data":
            raise UploadError(415, "send multipart/form-data: one or more parts named 'files' "
                                   "and optionally a 'metadata' JSON field")
        boundary = options.get(b"boundary")
        if not boundary:
            raise UploadError(400, "the multipart Content-Type has no boundary")
        self.incoming = upload_dir / INCOMING
        self.incoming.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.files: list[ReceivedFile] = []
        self.fields: dict[str, str] = {}
        self._headers: list[tuple[bytes, bytes]] = []
        self._name = self._value = b""
        self._file: ReceivedFile | None = None
        self._field: tuple[str, bytearray] | None = None
        self._parser = MultipartParser(boundary, {
            "on_part_begin": self._part_begin, "on_part_data": self._part_data, "on_part_end": self._part_end,
            "on_header_field": self._header_field, "on_header_value": self._header_value,
            "on_header_end": self._header_end, "on_headers_finished": self._headers_finished,
        })

    def feed(self, chunk: bytes) -> None:
        """Parse the next piece of the body (file bytes are written as they come)."""
        try:
            self._parser.write(chunk)
        except FormParserError as exc:
            raise UploadError(400, f"malformed multipart body ({exc})") from None

    def finish(self) -> None:
        """The body has ended: it must have ended cleanly."""
        try:
            self._parser.finalize()
        except FormParserError as exc:
            raise UploadError(400, f"malformed multipart body ({exc})") from None
        if self._file is not None or self._field is not None:
            raise UploadError(400, "the multipart body ended in the middle of a part")

    def discard(self) -> None:
        """Remove every temporary file still waiting (accepted files have been moved away)."""
        for received in self.files:
            if received._out is not None:
                received._out.close()
            received.temp.unlink(missing_ok=True)

    # --- parser callbacks ---

    def _part_begin(self) -> None:
        self._headers = []

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]
        self._check_header()

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]
        self._check_header()

    def _check_header(self) -> None:
        if len(self._name) + len(self._value) > MAX_HEADER_BYTES:
            raise UploadError(400, f"a part header is longer than {MAX_HEADER_BYTES} bytes")

    def _header_end(self) -> None:
        self._headers.append((self._name.lower(), self._value))
        self._name = self._value = b""

    def _headers_finished(self) -> None:
        disposition = next((v for k, v in self._headers if k == b"content-disposition"), b"")
        _, options = parse_options_header(disposition.decode("latin-1"))  # raw bytes back out, then UTF-8
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            if name != FILE_FIELD:
                raise UploadError(422, f"unexpected file part {name!r}: send recordings and transcripts "
                                       f"as parts named {FILE_FIELD!r}")
            if len(self.files) >= MAX_FILES:
                raise UploadError(413, f"too many files in one request (at most {MAX_FILES})")
            raw = options[b"filename"].decode("utf-8", "replace")
            received = ReceivedFile(safe_filename(raw), self.incoming / f"{uuid.uuid4().hex}.part")
            received._out = received.temp.open("wb")
            self.files.append(received)
            self._file = received
        else:
            if name != METADATA_FIELD:
                raise UploadError(422, f"unexpected form field {name!r}: the upload takes {FILE_FIELD!r} "
                                       f"(files) and {METADATA_FIELD!r} (a JSON object)")
            self._field = (name, bytearray())

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        piece = data[start:end]
        if self._field is not None:
            if len(self._field[1]) + len(piece) > MAX_FIELD_BYTES:
                raise UploadError(413, f"the {self._field[0]!r} field is larger than {MAX_FIELD_BYTES} bytes")
            self._field[1].extend(piece)
            return
        received = self._file
        if received is None:
            return
        if len(received.head) < HEAD_BYTES:
            received.head += piece[:HEAD_BYTES - len(received.head)]
        received.size += len(piece)
        if received.size > self.max_bytes:
            if not received.too_large:  # stop keeping it; the rest of the part is read and dropped
                received.too_large = True
                received._out.close()
                received._out = None
                received.temp.unlink(missing_ok=True)
            return
        received._hash.update(piece)
        received._out.write(piece)

    def _part_end(self) -> None:
        if self._field is not None:
            name, value = self._field
            self.fields[name] = value.decode("utf-8", "replace")
            self._field = None
            return
        received = self._file
        self._file = None
        if received is None:
            return
        received.sha256 = received._hash.hexdigest()
        if received._out is not None:
            received._out.flush()
            os.fsync(received._out.fileno())
            received._out.close()
            received._out = None


def safe_filename(name: str) -> str:
    """The file's own name without any folders a client put in front, at most 300 characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip().replace("\x00", "")
    return (name or "unnamed")[:300]


SIGNATURES = {
    ".wav": ("a WAV file (RIFF/WAVE header)", lambda h: h[:4] == b"RIFF" and h[8:12] == b"WAVE"),
    ".mp3": ("an MP3 file (ID3 tag or MPEG audio frame)",
             lambda h: h[:3] == b"ID3" or (len(h) > 1 and h[0] == 0xFF and (h[1] & 0xE0) == 0xE0)),
    ".flac": ("a FLAC file (fLaC header)", lambda h: h[:4] == b"fLaC"),
    ".ogg": ("an Ogg file (OggS header)", lambda h: h[:4] == b"OggS"),
    ".opus": ("an Ogg Opus file (OggS header)", lambda h: h[:4] == b"OggS"),
    ".m4a": ("an MPEG-4 audio file (ftyp box)", lambda h: h[4:8] == b"ftyp"),
}


def check_file(received: ReceivedFile, max_bytes: int, allowed_types: tuple[str, ...]) -> None:
    """Decide whether a received file can be taken: sets ``kind`` (recording / transcript) or
    ``reason`` (why not). Nothing else is done with a file that fails here."""
    ext = Path(received.filename).suffix.lower()
    allowed = ", ".join(allowed_types)
    if received.too_large:
        received.reason = f"file is larger than the limit of {_size(max_bytes)} ({_size(received.size)} or more)"
    elif not ext:
        received.reason = f"file name has no extension; allowed types: {allowed}"
    elif ext not in allowed_types or ext not in RECORDING_TYPES + TRANSCRIPT_TYPES:
        received.reason = f"type {ext} is not accepted; allowed types: {allowed}"
    elif received.size == 0:
        received.reason = "file is empty (0 bytes)"
    elif ext in TRANSCRIPT_TYPES:
        received.reason = transcript_problem(received.temp)
        received.kind = "transcript"
    else:
        what, matches = SIGNATURES.get(ext, ("", lambda h: True))
        received.reason = None if matches(received.head) else f"content is not {what}, though the name ends in {ext}"
        received.kind = "recording"
    if received.reason:
        received.kind = None


def transcript_problem(path: Path) -> str | None:
    """Why a transcript file cannot be used (None when it is a well-formed corpus-format call)."""
    from callscope.types import Conversation

    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        return "transcript is not UTF-8 text"
    except ValueError as exc:
        return f"transcript is not valid JSON ({exc})"
    try:
        Conversation.from_dict(data)
    except (ValueError, TypeError, KeyError) as exc:
        return f"transcript is not a call in the corpus format: {exc}"
    return None


def store(received: ReceivedFile, upload_dir: Path) -> Path:
    """Move a checked file to its place, named by its content hash, and sync the folder, so the file
    is durably on disk before any job row refers to it."""
    target = upload_dir / f"{received.sha256}{Path(received.filename).suffix.lower()}"
    os.replace(received.temp, target)
    fd = os.open(upload_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return target


def sweep_incoming(upload_dir: Path, older_than_s: float = 6 * 3600) -> None:
    """Delete half-received files left by requests that never finished (e.g. a killed service)."""
    folder = upload_dir / INCOMING
    cutoff = time.time() - older_than_s
    for path in folder.glob("*.part") if folder.is_dir() else ():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n} bytes"


def parse_metadata(text: str | None) -> dict:
    """The ``metadata`` field checked against ``UploadMetadata``: the fields given, JSON-ready.
    ``UploadError`` (422) names each unknown or bad field."""
    from pydantic import ValidationError

    from api.schemas.uploads import UploadMetadata

    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UploadError(422, f"metadata is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UploadError(422, "metadata must be a JSON object, e.g. {\"agent_id\": \"A017\", \"queue\": \"billing\"}")
    try:
        return UploadMetadata.model_validate_json(text).fields_set()  # JSON mode: times must be ISO strings
    except ValidationError as exc:
        allowed = ", ".join(UploadMetadata.model_fields)
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"])
            if error["type"] == "extra_forbidden":
                problems.append(f"unknown field {where!r} (allowed: {allowed})")
            else:
                problems.append(f"{where}: {error['msg']}")
        raise UploadError(422, "metadata: " + "; ".join(problems)) from None


def accept_files(db, config, files: list[ReceivedFile], meta: dict, actor: str, batch: str):
    """Check, store and queue each received file on its own (one bad file never stops the others);
    the per-file results, in the order the files came."""
    from sqlalchemy.exc import IntegrityError

    from api.schemas.uploads import FileResult
    from api.storage.audit import record
    from api.storage.jobs import enqueue, find_by_hash

    results = []
    for received in files:
        check_file(received, config.max_upload_bytes, config.allowed_types)
        common = {"filename": received.filename, "size": received.size}
        if received.reason:
            results.append(FileResult(status="rejected", reason=received.reason, **common))
            continue
        common.update(kind=received.kind, sha256=received.sha256)
        with db.session() as session:
            existing = find_by_hash(session, received.sha256)
            if existing is not None:
                results.append(_duplicate(existing, common))
                continue
        try:
            stored = store(received, config.upload_dir)
        except OSError as exc:
            results.append(FileResult(status="rejected", reason=f"could not store the file ({exc.strerror})", **common))
            continue
        try:
            with db.session() as session:
                job, duplicate = enqueue(session, content_hash=received.sha256, filename=received.filename,
                                         kind=received.kind, stored_path=str(stored.resolve()), size=received.size,
                                         meta=meta, batch=batch, uploaded_by=actor)
                if not duplicate:
                    record(session, actor, "upload.accept", f"job:{job.id}", filename=received.filename,
                           sha256=received.sha256, kind=received.kind, batch=batch)
                result = (_duplicate(job, common) if duplicate else
                          FileResult(status="accepted", job_id=job.id, state=job.state, **common))
        except IntegrityError:  # the same content accepted a moment ago by a concurrent request
            with db.session() as session:
                existing = find_by_hash(session, received.sha256)
                result = _duplicate(existing, common)
            if Path(existing.stored_path) != stored.resolve():
                stored.unlink(missing_ok=True)
        results.append(result)
    with db.session() as session:
        record(session, actor, "upload.batch", f"batch:{batch}",
               accepted=[r.job_id for r in results if r.status == "accepted"],
               duplicates=[r.job_id for r in results if r.status == "duplicate"],
               rejected=[{"filename": r.filename, "reason": r.reason} for r in results if r.status == "rejected"])
    return results


def _duplicate(job, common: dict):
    from api.schemas.uploads import FileResult

    return FileResult(status="duplicate", duplicate=True, job_id=job.id, state=job.state, **common)


def enqueue_path(db, config, path: Path, *, actor: str, batch: str | None = None, meta: dict | None = None,
                 audio: Path | None = None) -> tuple[int, bool]:
    """Queue a file already on this machine (e.g. the bundled demo calls) like an upload: checked,
    copied into the upload folder under its hash, synced, then queued. ``audio`` is a recording kept
    (copied the same way) as the call's audio for a transcript. Returns (job id, duplicate); raises
    ``ValueError`` with the reason for a file that would be rejected."""
    import shutil

    from api.storage.audit import record
    from api.storage.jobs import enqueue

    received = ReceivedFile(path.name, config.upload_dir / INCOMING / f"{uuid.uuid4().hex}.part")
    received.temp.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(path, received.temp)
        data = received.temp.read_bytes()
        received.size, received.head, received.sha256 = len(data), data[:HEAD_BYTES], hashlib.sha256(data).hexdigest()
        received.too_large = received.size > config.max_upload_bytes
        check_file(received, config.max_upload_bytes, config.allowed_types)
        if received.reason:
            raise ValueError(f"{path}: {received.reason}")
        meta = dict(meta or {})
        if audio is not None:
            kept = ReceivedFile(audio.name, config.upload_dir / INCOMING / f"{uuid.uuid4().hex}.part")
            shutil.copyfile(audio, kept.temp)
            kept.sha256 = hashlib.sha256(kept.temp.read_bytes()).hexdigest()
            _fsync(kept.temp)
            meta["_audio_path"] = str(store(kept, config.upload_dir).resolve())
        _fsync(received.temp)
        stored = store(received, config.upload_dir)
        with db.session() as session:
            job, duplicate = enqueue(session, content_hash=received.sha256, filename=path.name, kind=received.kind,
                                     stored_path=str(stored.resolve()), size=received.size, meta=meta, batch=batch,
                                     uploaded_by=actor)
            if not duplicate:
                record(session, actor, "upload.accept", f"job:{job.id}", filename=path.name, sha256=received.sha256,
                       kind=received.kind, batch=batch)
            return job.id, duplicate
    finally:
        received.temp.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())
