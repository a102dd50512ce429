"""mamori's own files: where a web restore may not write, and what a source may not back up.

A restore writes whatever the snapshot holds, and an officer may restore from a repository someone
else wrote. Into MAMORI_HOME that would replace the database, the keys or the dump profiles (and so
run programs as the service user); into the Python environment or mamori's own code it would run
code at the next start; into the service user's home, ~/.ssh or ~/.bashrc. So a restore target may
be none of these, lie inside none of them, and hold none of them below it.

The other way round, an officer who may download any file of a snapshot must not get MAMORI_HOME
into one (the database holds every repository password, encrypted with `repository.key` beside
it; `secret_key` signs sessions): a path source may not be, or lie inside, mamori's private places,
and one that holds them (`/`) must exclude them. The built-in system `mamori` backs those up.

Nor may a local repository lie in any of these places or hold one (an officer's repository would
write its files among the keys, the database or the code, and its prune would delete there),
except MAMORI_HOME/repositories, which is where mamori keeps repositories. The demo's fictional server folders (MAMORI_HOME/demo-data) are neither. Paths are compared after
resolving symlinks, when saved or requested and again when the worker runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.messages import Message

from . import engine
from .errors import BackupError

PROTECTED_TARGET = _(
    "{target} には復元できません（mamori 自身のデータかプログラムの場所 {protected} に重なります）。"
    "別のフォルダ（例: /srv/restore）を指定してください"
)
PRIVATE_SOURCE = _(
    "バックアップ元 {path} は mamori 自身のデータ {private} を含みます（組み込みのシステム mamori が"
    "バックアップします）。別のフォルダを指定するか、除外パターンに {private} を加えてください"
)
PROTECTED_REPOSITORY = _(
    "{path} にはリポジトリを置けません（mamori 自身のデータかプログラムの場所 {protected} に重なります）。"
    "別のフォルダ（例: /backup/restic）か {repositories} の下を指定してください"
)

Place = tuple[Path, bool]
"""A path, and whether a folder below it that is not hidden is fine (the service user's home)."""


def demo_data_dir() -> Path:
    """The demo's fictional server folders: inside MAMORI_HOME, yet a place like any server folder
    (the demo backs them up and restores into them)."""
    return Path(settings.MAMORI_HOME) / "demo-data"


def repositories_dir() -> Path:
    """Where mamori keeps repositories (the demo's, and the place to suggest): MAMORI_HOME/repositories,
    read when asked, so it follows MAMORI_HOME (a test's or a second instance's)."""
    return Path(settings.MAMORI_HOME) / "repositories"


def _private() -> list[Place]:
    """Where mamori's secrets live: its home (database, keys, sessions) and the audit checkpoints."""
    places = [Path(settings.MAMORI_HOME), Path(settings.MAMORI_AUDIT_CHECKPOINT_DIR)]
    return [(Path(os.path.realpath(p)), False) for p in places]


def _code() -> list[Place]:
    """What runs as the service user: the Python environment, mamori's package, the dump profiles,
    the user's home (its hidden entries: ~/.ssh, ~/.bashrc; a plain folder in it is fine)."""
    places = [(Path(sys.prefix), False), (Path(__file__).resolve().parents[2], False), (Path.home(), True)]
    profiles = getattr(settings, "MAMORI_DUMP_PROFILES", None) or os.environ.get("MAMORI_DUMP_PROFILES")
    if profiles:
        places.append((Path(profiles), False))
    return [(Path(os.path.realpath(p)), open_below) for p, open_below in places]


def _inside(path: Path, place: Path, open_below: bool) -> bool:
    """Is `path` at or below `place` in a part that counts as the place itself?"""
    if not path.is_relative_to(place):
        return False
    if path.is_relative_to(os.path.realpath(demo_data_dir())):
        return False
    parts = path.relative_to(place).parts
    return not (open_below and parts and not parts[0].startswith("."))


def restore_target_check(folder: str) -> Path:
    """`folder` with its symlinks resolved (restore into that, not through the symlinks again);
    `BackupError` when it would overlap mamori's own files."""
    target = Path(os.path.realpath(folder))
    for place, open_below in _private() + _code():
        if place.is_relative_to(target) or _inside(target, place, open_below):
            raise BackupError(
                Message(PROTECTED_TARGET, target=folder, protected=place), code="protected_target"
            )
    return target


def repository_path_check(path: str) -> None:
    """`BackupError` when a local repository at `path` would lie in mamori's own places or hold one
    (symlinks resolved): a repository at `/` or `/srv` writes its `data/`, `keys/`, `locks/` beside
    MAMORI_HOME and its prune deletes there. MAMORI_HOME/repositories, where mamori keeps
    repositories, excepted (a folder below it, not the folder itself)."""
    real = Path(os.path.realpath(path))
    repositories = Path(os.path.realpath(repositories_dir()))
    if real.is_relative_to(repositories) and real != repositories:
        return
    for place, open_below in _private() + _code():
        if place.is_relative_to(real) or _inside(real, place, open_below):
            raise BackupError(
                PROTECTED_REPOSITORY.format(path=path, protected=place, repositories=repositories),
                code="protected_repository",
            )


def source_path_check(path: str, excludes: Sequence[str]) -> None:
    """`BackupError` when backing up `path` (with `excludes`) would put mamori's secrets in a
    snapshot: `path` is or lies inside a private place, or holds one its excludes leave in."""
    real = Path(os.path.realpath(path))
    for place, open_below in _private():
        holds = place != real and place.is_relative_to(real)
        # excludes match the paths as backed up: only a path without symlinks can exclude by them
        if holds and real == Path(os.path.abspath(path)) and engine.excluded_by(excludes, str(place)):
            continue
        if holds or _inside(real, place, open_below):
            raise BackupError(Message(PRIVATE_SOURCE, path=path, private=place), code="private_source")
