"""Loading a downloaded Pwned Passwords corpus (`SHA1:COUNT` lines ordered by hash) into the compact
index `breached` reads: streamed, resumable after an interruption, with progress reported.

Because the input is sorted, both files are written sequentially: `hashes.partial` (18 bytes per
record) and `offsets.partial` (the first record of every prefix, filled as prefixes go by). Every
CHECKPOINT_LINES a checkpoint records how far the input was read; a new call with the same file
continues from there. The finished files replace the previous corpus only at the end (rename), so
lookups keep working during a load.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from .breached import OFFSET, PREFIXES, RECORD, corpus_dir
from .errors import PasswordsError

CHECKPOINT_LINES = 1_000_000
SEPARATORS = (b":", b"\n", b"\r", b"")

Progress = Callable[[int, int], None]


def _checkpoint_path(root: Path) -> Path:
    return root / "load.json"


def _read_checkpoint(root: Path, source: Path) -> dict[str, Any]:
    try:
        state = json.loads(_checkpoint_path(root).read_text())
    except (FileNotFoundError, ValueError):
        return {}
    stat = source.stat()
    if state.get("size") != stat.st_size or state.get("name") != source.name:
        return {}  # another file: start over
    return state


def _write_checkpoint(root: Path, source: Path, hashes, offsets, state: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    hashes.flush()
    offsets.flush()
    os.fsync(hashes.fileno())
    os.fsync(offsets.fileno())
    body = json.dumps({"name": source.name, "size": source.stat().st_size, **state})
    tmp = _checkpoint_path(root).with_suffix(".tmp")
    tmp.write_text(body)
    tmp.replace(_checkpoint_path(root))


def corpus_load(*, source: Path, progress: Progress, directory: Path | None = None) -> int:
    """Load (or continue loading) `source`; return the number of hashes in the finished index."""
    root = directory or corpus_dir()
    root.mkdir(parents=True, exist_ok=True)
    state = _read_checkpoint(root, source)
    offset, records, next_prefix = (
        state.get("offset", 0),
        state.get("records", 0),
        state.get("next_prefix", 0),
    )
    last = bytes.fromhex(str(state.get("last", "")))
    total = source.stat().st_size
    mode = "r+b" if state else "wb"
    with (
        source.open("rb") as src,
        (root / "hashes.partial").open(mode) as hashes,
        (root / "offsets.partial").open(mode) as offsets,
    ):
        hashes.truncate(records * RECORD)
        hashes.seek(records * RECORD)
        offsets.truncate(next_prefix * OFFSET.size)
        offsets.seek(next_prefix * OFFSET.size)
        src.seek(offset)
        line_number = state.get("line", 0)
        for raw in src:
            line_number += 1
            offset += len(raw)
            try:
                digest = bytes.fromhex(raw[:40].decode("ascii"))
            except (UnicodeDecodeError, ValueError):
                digest = b""
            if len(digest) != 20 or raw[40:41] not in SEPARATORS:
                if not raw.strip():
                    continue
                raise PasswordsError(
                    _("%(line)s 行目が「SHA-1:件数」の形式ではありません") % {"line": line_number},
                    code="corpus_format",
                )
            if digest <= last:  # same length: byte order is numeric order
                raise PasswordsError(
                    _("%(line)s 行目: ハッシュ順に並んでいません（ordered-by-hash の版を使ってください）")
                    % {"line": line_number},
                    code="corpus_order",
                )
            last = digest
            prefix = int.from_bytes(digest[:3], "big") >> 4  # the first 5 hex digits
            if next_prefix <= prefix:  # every prefix up to this one starts here
                offsets.write(OFFSET.pack(records) * (prefix + 1 - next_prefix))
                next_prefix = prefix + 1
            hashes.write(digest[2:])
            records += 1
            if records % CHECKPOINT_LINES == 0:
                _write_checkpoint(root, source, hashes, offsets, dict(
                    offset=offset, records=records, next_prefix=next_prefix, last=last.hex(), line=line_number
                ))  # fmt: skip
                progress(offset, total)
        offsets.write(OFFSET.pack(records) * (PREFIXES + 1 - next_prefix))
    (root / "hashes.partial").replace(root / "hashes.bin")
    (root / "offsets.partial").replace(root / "offsets.bin")
    _checkpoint_path(root).unlink(missing_ok=True)
    progress(total, total)
    return records
