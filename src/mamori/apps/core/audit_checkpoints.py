"""Checkpoints of the audit chain head, kept outside the database.

A checkpoint is a small JSON file naming the newest event (sequence, hash, time) when it was
written, MACed with the audit key. Copies travel with mamori's self-backup into the repositories,
so someone who can rewrite the database (even with the key) cannot also rewrite the checkpoints
already stored elsewhere: `mamori audit verify` compares the chain with each of them.

One file per day (`head-YYYY-MM-DD.json`) holds that day's newest head; a file is never replaced
by a checkpoint of a shorter chain, so deleting the newest events cannot erase the evidence of them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

FORMAT = "mamori-audit-checkpoint/1"
FILE_PREFIX = "head-"
MAX_FILE_BYTES = 4096


class CheckpointError(Exception):
    """A checkpoint file that cannot be read or is not authentic; the message says which and why."""


@dataclass(frozen=True)
class Checkpoint:
    sequence: int
    hash: str
    occurred_at: str  # ISO 8601, the event's own time
    written_at: str  # ISO 8601, when the checkpoint was taken

    def mac(self, key: bytes) -> str:
        body = json.dumps({"format": FORMAT, **asdict(self)}, sort_keys=True, separators=(",", ":"))
        return hmac.new(key, b"checkpoint\n" + body.encode(), hashlib.sha256).hexdigest()

    def dumps(self, key: bytes) -> bytes:
        document = {"format": FORMAT, **asdict(self), "mac": self.mac(key)}
        return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode()


def checkpoint_load(path: Path, key: bytes) -> Checkpoint:
    """Read and authenticate one checkpoint file."""
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise CheckpointError(f"checkpoint {path}: cannot read it ({exc.strerror})") from exc
    try:
        if len(raw) > MAX_FILE_BYTES:
            raise ValueError("too large")
        document = json.loads(raw)
        if document.get("format") != FORMAT:
            raise ValueError("unknown format")
        checkpoint = Checkpoint(
            sequence=int(document["sequence"]),
            hash=str(document["hash"]),
            occurred_at=str(document["occurred_at"]),
            written_at=str(document["written_at"]),
        )
        mac = str(document["mac"])
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CheckpointError(f"checkpoint {path}: not a mamori audit checkpoint") from exc
    if not hmac.compare_digest(mac, checkpoint.mac(key)):
        raise CheckpointError(f"checkpoint {path}: its MAC does not match the audit key (altered or forged)")
    return checkpoint


def checkpoint_files(directory: Path) -> list[Path]:
    """The checkpoint files in a directory, oldest day first."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.startswith(FILE_PREFIX) and p.suffix == ".json")


def checkpoint_path(directory: Path, day: date) -> Path:
    return directory / f"{FILE_PREFIX}{day.isoformat()}.json"


def checkpoint_save(directory: Path, checkpoint: Checkpoint, key: bytes, *, day: date) -> Path:
    """Write the day's checkpoint atomically (private directory and file, then rename into place)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = checkpoint_path(directory, day)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".checkpoint-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(checkpoint.dumps(key))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
