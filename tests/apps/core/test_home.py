"""MAMORI_HOME is private to the service user, checked as a user would: stat what mamori made."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mamori.apps.core.home import home_tighten


def _mamori(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `mamori ARGS` as a separate process with a permissive umask of its own parent (022)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["MAMORI_HOME"] = str(home)
    env.pop("MAMORI_AUDIT_KEY", None)
    env.pop("MAMORI_SECRET_KEY", None)
    env["MAMORI_DEMO_PASSWORD"] = "demo-password-for-tests"
    return subprocess.run(
        [sys.executable, "-m", "mamori.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: os.umask(0o022),
    )


def _readable_by_others(home: Path) -> list[str]:
    loose = []
    for path in [home, *home.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & (stat.S_IRWXG | stat.S_IRWXO) and not path.is_symlink():
            loose.append(f"{path.relative_to(home.parent)} {mode:04o}")
    return loose


@pytest.mark.slow
@pytest.mark.own_database
def test_a_new_home_and_everything_the_demo_creates_in_it_are_private(tmp_path):
    """The demo's database, keys, repositories, staged dumps, drill scratch and checkpoints."""
    home = tmp_path / "home"
    done = _mamori(home, "demo", "--no-serve")
    assert done.returncode == 0, done.stderr
    assert _mamori(home, "audit", "verify").returncode == 0  # writes a checkpoint
    names = {p.name for p in home.iterdir()}
    assert {"mamori.sqlite3", "secret_key", "audit_key", "audit-checkpoints", "repositories"} <= names
    assert len(list(home.rglob("*"))) > 100
    assert _readable_by_others(home) == []
    assert "readable by other users" not in done.stderr
    assert _processes_under(home) == [], "the demo's S3 server (and any other child) stops with the demo"


def _processes_under(home: Path) -> list[str]:
    """Command lines of running processes that name a path inside `home`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(home) in cmdline:
            found.append(cmdline)
    return found


@pytest.mark.own_database
def test_an_older_installation_readable_by_others_is_fixed_with_a_warning(tmp_path):
    home = tmp_path / "home"
    assert _mamori(home, "manage", "migrate", "--verbosity", "0").returncode == 0
    home.chmod(0o755)
    for name in ("mamori.sqlite3", "secret_key"):
        (home / name).chmod(0o644)
    done = _mamori(home, "manage", "check")
    assert done.returncode == 0, done.stderr
    assert f"MAMORI_HOME {home} was readable by other users (mode 0755); now 0700" in done.stderr
    assert f"the database {home / 'mamori.sqlite3'} was readable by other users (mode 0644)" in done.stderr
    assert f"file {home / 'secret_key'} was readable by other users (mode 0644); now 0600" in done.stderr
    assert _readable_by_others(home) == []


def test_a_file_mamori_cannot_change_is_named_with_the_command_to_run(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    database = home / "mamori.sqlite3"
    database.write_bytes(b"")
    database.chmod(0o644)

    def refuse(path, mode):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "chmod", refuse)
    [warning] = home_tighten(home, database)
    assert warning == (
        f"the database {database} is readable by other users (mode 0644) and cannot be changed "
        f"(Operation not permitted): run `chmod 600 {database}` as its owner"
    )
