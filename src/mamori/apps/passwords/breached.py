"""Known-leaked and common passwords, looked up by SHA-1 range (the Pwned Passwords k-anonymity format).

Two sources answer a 5-hex-digit SHA-1 prefix with the 35-digit suffixes under it:
- Django's list of 20,000 common passwords (always there; hashed once per process);
- the officer's downloaded Pwned Passwords corpus, loaded by `corpus.load` into MAMORI_HOME/pwned:
  `offsets.bin` (16^5 + 1 little-endian uint64 record numbers, one run per prefix) and `hashes.bin`
  (sorted SHA-1 digests without their first two bytes, 18 bytes each). A lookup is two seeks.
The whole password is compared, never substrings (NIST SP 800-63B-4 §3.1.1.2).
"""

from __future__ import annotations

import functools
import hashlib
import re
import struct
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.contrib.auth.password_validation import CommonPasswordValidator

PREFIXES = 16**5
RECORD = 18  # SHA-1 digest minus its first two bytes
OFFSET = struct.Struct("<Q")
PREFIX_RE = re.compile(r"^[0-9A-F]{5}$")


def corpus_dir() -> Path:
    return Path(settings.MAMORI_HOME) / "pwned"


def sha1_hex(password: str) -> str:
    return hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()


@functools.cache
def _common_by_prefix() -> dict[str, frozenset[str]]:
    ranges: dict[str, set[str]] = defaultdict(set)
    for password in CommonPasswordValidator().passwords:
        digest = sha1_hex(password)
        ranges[digest[:5]].add(digest[5:])
    return {k: frozenset(v) for k, v in ranges.items()}


def corpus_size(directory: Path | None = None) -> int:
    """Records in the loaded corpus (0 when none is loaded)."""
    path = (directory or corpus_dir()) / "offsets.bin"
    if not path.exists() or path.stat().st_size != (PREFIXES + 1) * OFFSET.size:
        return 0
    with path.open("rb") as f:
        f.seek(PREFIXES * OFFSET.size)
        return int(OFFSET.unpack(f.read(OFFSET.size))[0])


def corpus_range(prefix: str, directory: Path | None = None) -> list[str]:
    """The suffixes the loaded corpus holds under `prefix` (upper-case hex)."""
    root = directory or corpus_dir()
    if corpus_size(root) == 0:
        return []
    number = int(prefix, 16)
    with (root / "offsets.bin").open("rb") as f:
        f.seek(number * OFFSET.size)
        start, end = struct.unpack("<QQ", f.read(2 * OFFSET.size))
    with (root / "hashes.bin").open("rb") as f:
        f.seek(start * RECORD)
        data = f.read((end - start) * RECORD)
    return [data[i : i + RECORD].hex().upper()[1:] for i in range(0, len(data), RECORD)]


def range_suffixes(prefix: str) -> list[str]:
    """Every known suffix under a prefix, from both sources, sorted. `prefix` must be 5 hex digits."""
    prefix = prefix.upper()
    if not PREFIX_RE.match(prefix):
        raise ValueError(prefix)
    return sorted(set(_common_by_prefix().get(prefix, frozenset())) | set(corpus_range(prefix)))


def is_common(password: str) -> bool:
    digest = sha1_hex(password.lower())  # Django's list is lower-case and compared case-insensitively
    return digest[5:] in _common_by_prefix().get(digest[:5], frozenset())


def is_breached(password: str) -> bool:
    digest = sha1_hex(password)
    return digest[5:] in corpus_range(digest[:5])
