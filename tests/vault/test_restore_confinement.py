"""A restore never writes outside its target, whatever trees the repository holds (issue 10, item 1).

The repositories are hostile: trees written by hand with `..`, `.`, empty and absolute names, names
with slashes or a NUL, symlinks followed by names through them or by a file or folder of the same
name. Each test also restores `good.txt` of the same snapshot.
restic 0.14 restores the same repositories; its outcome is compared with ours.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from mamori.vault import open_repository
from mamori.vault.api import FileError
from mamori.vault.cli import main
from tests.vault.hostile import GOOD, build_hostile_repository, build_many_bad_names, files_outside, target_of
from tests.vault.repo_helpers import PASSWORD
from tests.vault.restic_oracle import restic

CASES = [
    "dotdot",
    "absolute",
    "slashes",
    "dot",
    "empty",
    "nul",
    "symlink-file",
    "symlink-then-file",
    "symlink-dir",
    "dir-symlink",
]
# What each case's refusal says, naming the directory of the snapshot that holds the bad node.
REFUSED = {
    "dotdot": 'invalid child node name ".."',
    "absolute": "invalid child node name",
    "slashes": 'invalid child node name "a/../../../../escaped.txt"',
    "dot": 'invalid child node name "."',
    "empty": 'invalid child node name ""',
    "nul": 'invalid child node name "escaped.txt\\x00.txt"',
    "symlink-file": 'invalid child node name "lnk/escaped.txt"',
    "symlink-then-file": 'repeated child node name "lnk"',
    "symlink-dir": 'repeated child node name "lnk"',
    "dir-symlink": 'repeated child node name "lnk"',
}


@pytest.mark.parametrize("case", CASES)
def test_engine_restore_stays_in_its_target_and_names_the_bad_path(tmp_path: Path, case: str) -> None:
    bad = build_hostile_repository(tmp_path)
    target = target_of(tmp_path)
    with open_repository(str(bad.path), PASSWORD) as repo:
        result = repo.restore(bad.snapshots[case], target, verify=True)
    assert files_outside(tmp_path, target) == []
    assert os.listdir(bad.outside) == []
    assert (target / "data" / "good.txt").read_bytes() == GOOD
    assert len(result.failed) == 1, result.failed
    assert result.failed[0].path == "/data"
    assert REFUSED[case] in result.failed[0].message
    if case in ("symlink-dir", "symlink-then-file"):  # the first "lnk", a symlink; nothing through it
        assert os.readlink(target / "data" / "lnk").startswith(str(bad.outside))


def test_cli_restore_exits_non_zero_naming_every_refused_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)
    bad = build_hostile_repository(tmp_path)
    target = target_of(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    for case in CASES:
        code = main(
            ["-r", str(bad.path), "restore", bad.snapshots[case], "--target", str(target / case)],
            stdout=out,
            stderr=err,
        )
        assert code == 1, err.getvalue()
    lines = err.getvalue().splitlines()
    assert len(lines) == len(CASES)
    for case, line in zip(CASES, lines, strict=True):
        assert line.startswith("error: not restored: /data: ") and REFUSED[case] in line
    # good.txt each time; "dir-symlink" also keeps its first "lnk", a real directory inside the target
    counts = [line.split()[1] for line in out.getvalue().splitlines()]
    assert counts == ["1"] * (len(CASES) - 1) + ["2"]
    assert files_outside(tmp_path, target) == []


def test_a_symlink_already_in_the_target_is_replaced_not_followed(tmp_path: Path) -> None:
    """Restoring into an existing folder: a symlink where the snapshot has a directory is not followed."""
    bad = build_hostile_repository(tmp_path)
    target = target_of(tmp_path)
    (target / "data").mkdir(parents=True)
    os.symlink(bad.outside, target / "data" / "lnk")
    with open_repository(str(bad.path), PASSWORD) as repo:
        repo.restore(bad.snapshots["dir-symlink"], target)
    assert os.listdir(bad.outside) == []
    assert not (target / "data" / "lnk").is_symlink()
    assert (target / "data" / "lnk" / "escaped.txt").is_file()  # inside the target: where it belongs


@pytest.mark.restic
@pytest.mark.parametrize("case", CASES)
def test_restic_restores_the_same_repositories_without_writing_outside(tmp_path: Path, case: str) -> None:
    bad = build_hostile_repository(tmp_path)
    target = target_of(tmp_path)
    proc = restic(bad.path, "restore", bad.snapshots[case], "--target", str(target), check=False)
    assert files_outside(tmp_path, target) == []
    assert os.listdir(bad.outside) == []
    assert (target / "data" / "good.txt").read_bytes() == GOOD
    # restic also exits non-zero: it refuses the same names; of two "lnk" it keeps the directory
    # and fails the symlink ("file exists"), where mamori keeps the first and refuses the repeat;
    # a NUL passes its name check and the kernel call refuses it ("invalid argument").
    assert proc.returncode == 1
    refusal = "invalid child node name"
    if case in ("symlink-then-file", "symlink-dir", "dir-symlink"):
        refusal = "file exists"
    elif case == "nul":
        refusal = "invalid argument"
    assert refusal in proc.stderr.decode(errors="replace")


def test_ls_leaves_refused_names_out_and_check_reports_them(tmp_path: Path) -> None:
    bad = build_hostile_repository(tmp_path)
    with open_repository(str(bad.path), PASSWORD) as repo:
        listed = {n.path for n in repo.ls(bad.snapshots["dotdot"])}
        assert listed == {"/data", "/data/good.txt"}
        assert {n.path for n in repo.ls(bad.snapshots["symlink-dir"])} == {
            "/data",
            "/data/good.txt",
            "/data/lnk",
        }
        result = repo.check()
    assert not result.ok
    messages = " | ".join(p.message for p in result.errors)
    for refusal in REFUSED.values():
        assert refusal in messages


def test_a_restore_and_a_listing_of_many_bad_names_keep_the_first_hundred_and_count_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snap = build_many_bad_names(tmp_path / "repo", 1000)
    with open_repository(str(tmp_path / "repo"), PASSWORD) as repo:
        result = repo.restore(snap, tmp_path / "target")
        listed = [n.path for n in repo.ls(snap)]
        assert (len(repo.tree_errors), repo.tree_error_count) == (100, 1000)  # before: 1,000 kept
    assert (len(result.failed), result.failed_count) == (100, 1000)
    assert result.failed[0] == FileError("/data", 'invalid child node name "bad/0000"')
    assert (tmp_path / "target" / "data" / "good.txt").read_bytes() == GOOD
    assert listed == ["/data", "/data/good.txt"]
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["-r", str(tmp_path / "repo"), "restore", snap, "--target", str(tmp_path / "t2")],
        stdout=out,
        stderr=err,
    )
    lines = err.getvalue().splitlines()
    assert code == 1 and len(lines) == 101 and lines[-1] == "error: 900 more not restored"
    err = io.StringIO()
    assert main(["-r", str(tmp_path / "repo"), "ls", snap], stdout=out, stderr=err) == 1
    assert err.getvalue().splitlines()[-1] == "warning: 900 more entries left out"
