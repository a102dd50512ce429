"""`mamori vault backup|snapshots|ls|find|diff|restore` as a user runs them: output, exit codes, errors."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mamori.vault.cli import main
from mamori.vault.timefmt import format_time, now
from tests.vault.repo_helpers import init_on_disk
from tests.vault.restic_oracle import PASSWORD, restic


def run(*argv: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        real = sys.stdin
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
        try:
            code = main(list(argv), stdout=out, stderr=err)
        finally:
            sys.stdin = real
    else:
        code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "repo"
    monkeypatch.setenv("MAMORI_REPOSITORY", str(path))
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)
    init_on_disk(path, PASSWORD)
    return path


@pytest.fixture
def src(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "報告書.txt").write_text("令和8年度\n", encoding="utf-8")
    (root / "docs" / "skip.tmp").write_text("temporary")
    (root / "data.bin").write_bytes(os.urandom(100_000))
    return root


def test_backup_snapshots_ls_find_diff_restore(repo: Path, src: Path, tmp_path: Path) -> None:
    code, out, err = run("backup", str(src), "--tag", "daily,fs", "--exclude", "*.tmp", "--host", "city-fs")
    assert code == 0, err
    assert "snapshot" in out and "saved" in out
    code, out, _ = run("--json", "snapshots")
    snaps = json.loads(out)
    assert len(snaps) == 1 and snaps[0]["tags"] == ["daily", "fs"] and snaps[0]["hostname"] == "city-fs"
    first = snaps[0]["short_id"]

    code, out, _ = run("ls", "latest", str(src))
    assert f"{src}/docs/報告書.txt" in out.splitlines()
    assert "skip.tmp" not in out
    code, out, _ = run("find", "報告*")
    assert code == 0 and "報告書.txt" in out

    (src / "docs" / "new.txt").write_text("new")
    (src / "data.bin").unlink()
    excludes = tmp_path / "excludes.txt"
    excludes.write_text("# temporary files\n*.tmp\n", encoding="utf-8")
    code, out, _ = run(
        "--json",
        "backup",
        str(src),
        "--host",
        "city-fs",
        "--exclude-file",
        str(excludes),
        "--time",
        "2026-04-01 09:00:00+09:00",
    )
    summary = json.loads(out)
    assert code == 0 and summary["message_type"] == "summary" and summary["parent_id"].startswith(first)
    code, out, _ = run("--json", "snapshots")
    # --time: now the oldest snapshot, printed as stored (with its offset), as restic prints it
    assert json.loads(out)[0]["time"] == "2026-04-01T09:00:00+09:00"
    code, out, _ = run("ls", summary["snapshot_id"], str(src))
    assert "skip.tmp" not in out
    code, out, _ = run("diff", first, summary["snapshot_id"])
    assert f"+    {src}/docs/new.txt" in out.splitlines()
    assert f"-    {src}/data.bin" in out.splitlines()

    code, out, err = run(
        "restore", summary["snapshot_id"][:10], "--target", str(tmp_path / "out"), "--verify"
    )
    assert code == 0, err
    assert "verified" in out
    restored = tmp_path / "out" / str(src).lstrip("/")
    assert (restored / "docs" / "報告書.txt").read_text(encoding="utf-8") == "令和8年度\n"
    assert sorted(os.listdir(restored / "docs")) == ["new.txt", "報告書.txt"]


def test_backup_from_stdin(repo: Path) -> None:
    dump = b"COPY residents FROM stdin;\n" * 1000
    code, _out, err = run("backup", "--stdin", "--stdin-filename", "jumin.sql", stdin=dump)
    assert code == 0, err
    restic_out = restic(repo, "dump", "latest", "/jumin.sql").stdout
    assert restic_out == dump


def test_unreadable_and_vanished_files_exit_3_and_the_rest_is_saved(
    repo: Path, src: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = src / "secret"
    secret.write_text("x")
    vanishing = src / "vanishing"
    vanishing.write_text("y")
    real_open = os.open

    def failing_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
        # root reads every file, so unreadability and a file deleted between listing and reading
        # are simulated where the archiver opens files (by path, or by name in an open folder)
        where = path
        if isinstance(kwargs.get("dir_fd"), int) and isinstance(path, bytes):
            where = os.path.join(os.readlink(f"/proc/self/fd/{kwargs['dir_fd']}").encode(), path)
        if where == os.fsencode(secret):
            raise PermissionError(13, "Permission denied", str(secret))
        if where == os.fsencode(vanishing):
            raise FileNotFoundError(2, "No such file or directory", str(vanishing))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as patched:
        patched.setattr(os, "open", failing_open)
        code, _out, err = run("backup", str(src), str(src / "not-there"))
    assert code == 3
    lines = err.splitlines()
    assert len(lines) == 3 and all(line.startswith("error: ") for line in lines)
    assert {"secret", "vanishing", "not-there"} == {
        line.split(":")[1].strip().rsplit("/", 1)[1] for line in lines
    }
    code, out, _ = run("ls", "latest", str(src))
    listed = out.splitlines()
    assert f"{src}/docs/報告書.txt" in listed and f"{src}/secret" not in listed


def test_wrong_password_exit_12_one_line(repo: Path, src: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMORI_PASSWORD", "not the password")
    code, out, err = run("snapshots")
    assert code == 12
    assert out == "" and err.count("\n") == 1 and "wrong password" in err


def test_missing_repository_exit_10(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)
    code, _out, err = run("-r", str(tmp_path / "nowhere"), "snapshots")
    assert code == 10
    assert err.count("\n") == 1 and "no repository" in err


def test_a_plain_file_given_as_repository_is_exit_10(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)
    (tmp_path / "notes.txt").write_text("not a repository")
    code, _out, err = run("-r", str(tmp_path / "notes.txt"), "snapshots")
    assert code == 10, err
    assert err.count("\n") == 1 and "no repository" in err


def test_a_target_that_cannot_be_created_is_named_readably(repo: Path, src: Path, tmp_path: Path) -> None:
    assert run("backup", str(src))[0] == 0
    (tmp_path / "blocker").write_text("a file where the target's parent should be")
    target = tmp_path / "blocker" / "out"
    code, _out, err = run("restore", "latest", "--target", str(target))
    assert code == 1
    assert err.count("\n") == 1 and str(target) in err and "b'" not in err, err


def test_unknown_snapshot_and_bad_arguments_are_one_line_errors(repo: Path) -> None:
    code, _out, err = run("restore", "deadbeef", "--target", "/tmp/never")
    assert code == 1 and err.count("\n") == 1 and "deadbeef" in err
    code, _out, err = run("backup")
    assert code == 1 and "nothing to back up" in err
    code, _out, err = run("backup", "--time", "yesterday-ish", "/etc/hostname")
    assert code == 1 and "--time" in err


def test_locked_repository_exit_11(repo: Path, src: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time,sys; time.sleep(30)"],
    )
    try:
        restic_lock = json.dumps(
            {
                "time": format_time(now()),
                "exclusive": True,
                "hostname": os.uname().nodename,
                "username": "root",
                "pid": holder.pid,
            }
        )
        from mamori.vault.backend import FileType
        from mamori.vault.backend.location import open_backend
        from mamori.vault.repository import Repository

        low = Repository.open(open_backend(str(repo)), PASSWORD)
        low.save_unpacked(FileType.LOCK, restic_lock.encode())
        code, _out, err = run("backup", str(src))
        assert code == 11, err
        assert err.count("\n") == 1 and "locked" in err
    finally:
        holder.kill()
        holder.wait()


def test_cli_entry_point_runs_as_a_program(repo: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mamori.cli.main", "vault", "snapshots"], capture_output=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""


def test_program_output_and_exit_code_arrive_through_pipes(repo: Path, src: Path, tmp_path: Path) -> None:
    """The program ends without the interpreter's teardown: its buffered output must still arrive."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # block-buffered pipes
    program = [sys.executable, "-m", "mamori.cli.main", "vault"]
    proc = subprocess.run([*program, "--json", "backup", str(src)], env=env, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["message_type"] == "summary" and summary["files_new"] == 3
    proc = subprocess.run([*program, "--json", "snapshots"], env=env, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert [s["id"] for s in json.loads(proc.stdout)] == [summary["snapshot_id"]]
    missing = tmp_path / "no-such-repo"
    proc = subprocess.run(
        [*program, "-r", str(missing), "snapshots"], env=env, capture_output=True, timeout=120
    )
    assert proc.returncode == 10
    assert proc.stdout == b"" and proc.stderr.count(b"\n") == 1 and str(missing).encode() in proc.stderr
