"""restic-style exclude/include patterns."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.vault.errors import InvalidArgumentError
from mamori.vault.pathfilter import PathFilter, read_pattern_file


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.tmp", "/srv/a/b.tmp", True),
        ("*.tmp", "/srv/a/b.txt", False),
        ("cache", "/home/u/cache/x/y", True),
        ("/srv/a", "/srv/a/deep/file", True),
        ("/srv/a", "/other/srv/a", False),
        ("a/**/z.txt", "/x/a/b/c/z.txt", True),
        ("a/**/z.txt", "/x/a/z.txt", True),
        ("文書_*.txt", "/fs/総務課/文書_000001.txt", True),
    ],
)
def test_matches(pattern: str, path: str, expected: bool) -> None:
    assert PathFilter([pattern]).matches(path) is expected


def test_include_descends_only_where_it_can_match() -> None:
    f = PathFilter(["/srv/data/keep"])
    assert f.may_match_below("/srv") and f.may_match_below("/srv/data")
    assert not f.may_match_below("/home")


def test_pattern_file_skips_comments_and_blanks(tmp_path: Path) -> None:
    p = tmp_path / "excludes"
    p.write_text("# comment\n\n*.iso\n  /tmp  \n", encoding="utf-8")
    assert read_pattern_file(p) == ["*.iso", "/tmp"]
    with pytest.raises(InvalidArgumentError, match="cannot read exclude file"):
        read_pattern_file(tmp_path / "missing")
    with pytest.raises(InvalidArgumentError):
        PathFilter(["/"])
