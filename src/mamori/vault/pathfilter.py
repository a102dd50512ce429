"""restic-style path patterns for `--exclude`, `--exclude-file` and restore's `--include`/`--exclude`.

A pattern is a `/`-separated list of shell globs (`*`, `?`, `[...]`, and `**` for any number of
directories). An absolute pattern is matched from the root; a relative one may start at any
directory. A pattern that matches a directory also matches everything below it (restic semantics).
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Sequence
from pathlib import Path

from mamori.vault.errors import InvalidArgumentError


@functools.lru_cache(maxsize=1024)
def _compile(component: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(component), re.DOTALL)


class PathFilter:
    """Matches snapshot-style absolute paths (`/srv/data/x`) against a list of patterns."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = [p for p in (s.strip() for s in patterns) if p]
        self._parsed: list[tuple[bool, list[str]]] = []
        for pattern in self.patterns:
            absolute = pattern.startswith("/")
            parts = [c for c in pattern.split("/") if c not in ("", ".")]
            if not parts:
                raise InvalidArgumentError(f"empty pattern {pattern!r}: give a file or directory glob")
            self._parsed.append((absolute, parts))

    def __bool__(self) -> bool:
        return bool(self._parsed)

    def matches(self, path: str) -> bool:
        """True if a pattern matches the path or one of its parent directories."""
        parts = [c for c in path.split("/") if c]
        for absolute, pattern in self._parsed:
            starts = [0] if absolute else range(len(parts))
            if any(_match_prefix(pattern, parts[s:]) for s in starts):
                return True
        return False

    def may_match_below(self, path: str) -> bool:
        """True if some file below directory `path` could match (restore walks only these dirs)."""
        parts = [c for c in path.split("/") if c]
        for absolute, pattern in self._parsed:
            if not absolute or "**" in pattern:
                return True
            if all(
                _compile(p).match(c) for p, c in zip(pattern, parts, strict=False)
            ):  # a prefix of the pattern fits the dir
                return True
        return False


def _match_prefix(pattern: list[str], parts: list[str]) -> bool:
    """Does the pattern match the first components of `parts` (any suffix may remain)?"""
    if not pattern:
        return True
    head = pattern[0]
    if head == "**":
        return any(_match_prefix(pattern[1:], parts[i:]) for i in range(len(parts) + 1))
    if not parts:
        return False
    return bool(_compile(head).match(parts[0])) and _match_prefix(pattern[1:], parts[1:])


def read_pattern_file(path: Path) -> list[str]:
    """Patterns from an exclude file: one per line, blank lines and `#` comments ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidArgumentError(f"cannot read exclude file {path}: {exc.strerror}") from exc
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
