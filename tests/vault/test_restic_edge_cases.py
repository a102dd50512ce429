"""mamori and restic 0.14 on the same repositories, written by the real restic, some damaged by script
(issue 11): each test runs both tools and asserts the same outcome."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from mamori.vault.backend.local import LocalBackend
from mamori.vault.cli import main
from mamori.vault.pack import BlobType
from mamori.vault.repository import Repository
from tests.vault.restic_oracle import PASSWORD, restic

pytestmark = pytest.mark.restic


def _tree_packs(path: Path) -> set[str]:
    with Repository.open(LocalBackend(path), PASSWORD) as repo:
        repo.load_index()
        return {pack for pack, blob in repo.index.blobs() if blob.type == BlobType.TREE}


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def test_a_missing_tree_pack_loses_only_the_subtrees_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 1: the first backup's tree pack is gone; `restore latest` restores everything still
    reachable, names the lost subtree by its path and exits 1."""
    repo, src = tmp_path / "repo", tmp_path / "src"
    (src / "old" / "deep").mkdir(parents=True)
    (src / "old" / "a.txt").write_text("old a")
    (src / "old" / "deep" / "b.txt").write_text("old b")
    restic(repo, "init")
    restic(repo, "backup", str(src))
    first_trees = _tree_packs(repo)
    (src / "new").mkdir()
    (src / "new" / "c.txt").write_text("new c")
    (src / "top.txt").write_text("top")
    restic(repo, "backup", str(src))
    for pack in first_trees:  # the trees of the first backup; the second shares its unchanged "old"
        data = repo / "data" / pack[:2] / pack
        data.chmod(0o600)
        data.unlink()

    theirs = restic(repo, "restore", "latest", "--target", str(tmp_path / "restic"), check=False)
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["-r", str(repo), "restore", "latest", "--target", str(tmp_path / "mamori")], stdout=out, stderr=err
    )

    assert theirs.returncode == 1 and code == 1
    restored = {k: v for k, v in _files(tmp_path / "mamori" / str(src).lstrip("/")).items()}
    assert restored == {"new/c.txt": b"new c", "top.txt": b"top"}
    assert restored == _files(tmp_path / "restic" / str(src).lstrip("/"))
    lost = [line for line in err.getvalue().splitlines() if line.startswith("error: not restored: ")]
    assert (
        len(lost) == 1
        and lost[0].startswith(f"error: not restored: {src}/old: tree ")
        and "cannot be read" in lost[0]
    )
    assert os.path.isdir(tmp_path / "mamori" / str(src).lstrip("/") / "old")  # the folder itself, empty


def _listing(repo: Path) -> dict[str, int]:
    return {
        str(p.relative_to(repo)): p.stat().st_size
        for p in repo.rglob("*")
        if p.is_file() and "locks" not in p.parts
    }


def test_prune_refuses_when_an_indexed_pack_is_missing_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11, item 2 (restic's `repo-data-missing`): restic stops with "packs from index missing in repo"."""
    repo, src = tmp_path / "repo", tmp_path / "src"
    src.mkdir()
    (src / "a.bin").write_bytes(os.urandom(50_000))
    restic(repo, "init")
    restic(repo, "backup", str(src))
    with Repository.open(LocalBackend(repo), PASSWORD) as low:
        low.load_index()
        data_pack = next(pack for pack, blob in low.index.blobs() if blob.type == BlobType.DATA)
    (repo / "data" / data_pack[:2] / data_pack).chmod(0o600)
    (repo / "data" / data_pack[:2] / data_pack).unlink()
    before = _listing(repo)

    theirs = restic(repo, "prune", check=False)
    assert theirs.returncode != 0 and b"missing" in theirs.stderr
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)
    out, err = io.StringIO(), io.StringIO()
    assert main(["-r", str(repo), "prune"], stdout=out, stderr=err) == 1
    assert f"1 packs named by the index are missing from the repository ({data_pack[:8]})" in err.getvalue()
    assert "prune changed nothing" in err.getvalue()
    assert _listing(repo) == before


def test_find_matches_what_restic_matches_and_names_an_unreadable_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11, items 3 and 4: restic's pattern rules, and a broken snapshot does not stop the search."""
    import json

    repo, src = tmp_path / "repo", tmp_path / "src"
    for rel in ("plain/small.txt", "plain/sub/b.txt", "d01x/deep/c.txt", "d01y.txt", "apple", "zeta/x.txt"):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(rel)
    restic(repo, "init")
    restic(repo, "backup", str(src))
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)
    for pattern in ("d01*", f"{src}/plain", "plain/small.txt", f"{src.name}/plain/*", "[a-c]*", "*.txt"):
        theirs = {
            m["path"]
            for s in json.loads(restic(repo, "--json", "find", pattern).stdout)
            for m in s["matches"]
        }
        out = io.StringIO()
        assert main(["-r", str(repo), "--json", "find", pattern], stdout=out, stderr=io.StringIO()) == 0
        ours = {m["path"] for m in json.loads(out.getvalue().splitlines()[-1])}
        assert ours == theirs and ours, pattern

    restic(repo, "backup", str(src / "plain"))
    tree_packs = _tree_packs(repo)
    # damage the trees of everything, then add a readable snapshot of "zeta" only
    for pack in tree_packs:
        (repo / "data" / pack[:2] / pack).chmod(0o600)
        (repo / "data" / pack[:2] / pack).unlink()
    restic(repo, "rebuild-index")
    restic(repo, "backup", str(src / "zeta"))
    out, err = io.StringIO(), io.StringIO()
    assert main(["-r", str(repo), "find", "x.txt"], stdout=out, stderr=err) == 1
    assert f"{src}/zeta/x.txt" in out.getvalue()
    assert err.getvalue().count("cannot be searched") == 2


def _dirs(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir()}


def test_restore_with_an_include_pattern_makes_only_the_folders_on_the_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 6: restic creates only the parents of what matched, not every folder of the snapshot."""
    repo, src = tmp_path / "repo", tmp_path / "src"
    for rel in ("a/x.txt", "a/empty-below/y.bin", "b/c/z.txt", "d/e/f/w.bin", "g/"):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        if not rel.endswith("/"):
            (src / rel).write_text(rel)
    restic(repo, "init")
    restic(repo, "backup", str(src))
    restic(repo, "restore", "latest", "--target", str(tmp_path / "restic"), "--include", "*.txt")
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)
    args = ["-r", str(repo), "restore", "latest", "--target", str(tmp_path / "mamori"), "--include", "*.txt"]
    assert main(args, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    ours = _dirs(tmp_path / "mamori" / str(src).lstrip("/"))
    assert ours == {"a", "b", "b/c"}
    assert ours == _dirs(tmp_path / "restic" / str(src).lstrip("/"))


def test_diff_reports_what_restic_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 5: a mode-only change is not shown, a change of type is T, folders end in /."""
    import re

    repo, src = tmp_path / "repo", tmp_path / "src"
    for rel in ("same.txt", "mode.txt", "content.txt", "gone/x.txt", "kind"):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(rel)
    restic(repo, "init")
    restic(repo, "backup", str(src))
    (src / "mode.txt").chmod(0o600)
    (src / "content.txt").write_text("changed")
    (src / "gone" / "x.txt").unlink()
    (src / "gone").rmdir()
    (src / "kind").unlink()
    (src / "kind").mkdir()
    (src / "added").mkdir()
    (src / "added" / "y.txt").write_text("y")
    restic(repo, "backup", str(src))
    first, second = (s["id"] for s in json.loads(restic(repo, "--json", "snapshots").stdout))
    line = re.compile(r"^([+\-MTU]+)\s+(/.*)$")
    theirs = {
        m.groups()
        for m in map(line.match, restic(repo, "diff", first, second).stdout.decode().splitlines())
        if m
    }
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)
    out = io.StringIO()
    assert main(["-r", str(repo), "diff", first, second], stdout=out, stderr=io.StringIO()) == 0
    ours = {m.groups() for m in map(line.match, out.getvalue().splitlines()) if m}
    changed = {p for _, p in ours}
    assert (
        f"{src}/mode.txt" not in changed and ("T", f"{src}/kind/") in ours and ("+", f"{src}/added/") in ours
    )
    assert ours - {("M", f"{src}/")} == theirs - {("M", f"{src}/")}  # restic may mark the parent folder


def test_ls_long_shows_setuid_owner_and_link_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 7: 4755 stays 4755; the owner and a symlink's target are shown."""
    repo, src = tmp_path / "repo", tmp_path / "src"
    src.mkdir()
    (src / "tool").write_text("#!/bin/sh\n")
    (src / "tool").chmod(0o4755)
    os.symlink("tool", src / "link")
    restic(repo, "init")
    restic(repo, "backup", str(src))
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)
    out = io.StringIO()
    assert main(["-r", str(repo), "ls", "-l", "latest", str(src)], stdout=out, stderr=io.StringIO()) == 0
    lines = {
        line.rsplit(" ", 1)[-1] if "->" not in line else line.split()[-3]: line
        for line in out.getvalue().splitlines()
    }
    tool = lines[f"{src}/tool"]
    owner = f"{src.stat().st_uid}"
    assert " 4755 " in tool and (owner in tool or "root" in tool)
    assert lines[f"{src}/link"].endswith(f"{src}/link -> tool")


def test_json_output_reads_like_restics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 8: snapshots --json keeps the stored time (nanoseconds, offset), uid and gid; ls --json starts
    with the snapshot and writes a non-UTF-8 name as restic does (strict JSON parsers accept it)."""
    repo, src = tmp_path / "repo", tmp_path / "src"
    src.mkdir()
    with open(os.path.join(os.fsencode(src), b"bad\xffname"), "wb") as f:
        f.write(b"x")
    restic(repo, "init")
    restic(repo, "backup", str(src), "--time", "2026-04-01 09:00:00")
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)
    (theirs,) = json.loads(restic(repo, "--json", "snapshots").stdout)
    out = io.StringIO()
    assert main(["-r", str(repo), "--json", "snapshots"], stdout=out, stderr=io.StringIO()) == 0
    (ours,) = json.loads(out.getvalue())
    for key in ("time", "tree", "paths", "hostname", "username", "uid", "gid", "id", "short_id"):
        assert ours.get(key) == theirs.get(key), key

    their_lines = [json.loads(line) for line in restic(repo, "--json", "ls", "latest").stdout.splitlines()]
    out = io.StringIO()
    assert main(["-r", str(repo), "--json", "ls", "latest"], stdout=out, stderr=io.StringIO()) == 0
    our_lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert our_lines[0]["struct_type"] == their_lines[0]["struct_type"] == "snapshot"
    assert our_lines[0]["id"] == their_lines[0]["id"]
    assert {n["path"] for n in our_lines[1:]} == {n["path"] for n in their_lines[1:]}
    assert all("\\udc" not in line for line in out.getvalue().splitlines())
