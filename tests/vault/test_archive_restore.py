"""Backup and restore through the public API: round trips, change detection, excludes, faults."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from mamori.vault import SnapshotNotFoundError, init_repository, open_repository
from mamori.vault.backend import FileType
from mamori.vault.errors import InvalidArgumentError, NotFoundError
from mamori.vault.pack import BlobType
from tests.vault.restic_oracle import PASSWORD, assert_same_tree, make_odd_tree


@pytest.fixture
def repo_url(tmp_path: Path) -> str:
    url = str(tmp_path / "repo")
    init_repository(url, PASSWORD).close()
    return url


def test_round_trip_keeps_names_content_and_metadata(tmp_path: Path, repo_url: str) -> None:
    src = make_odd_tree(tmp_path / "src", depth=12)
    os.setxattr(src / "small.txt", "user.note", b"kept")
    with open_repository(repo_url, PASSWORD) as repo:
        result = repo.backup([src], host="h", tags=["t1"])
        assert result.errors == []
        restored = repo.restore(result.snapshot_id, tmp_path / "out", verify=True)
        assert restored.failed == [] and restored.verified
        assert repo.check(read_data=True).ok
    out = tmp_path / "out" / str(src).lstrip("/")
    assert_same_tree(src, out)
    assert os.readlink(os.path.join(os.fsencode(out), b"link-bad-target")) == b"target-\xff"
    assert os.getxattr(out / "small.txt", "user.note") == b"kept"


def test_unchanged_files_are_not_read_again(tmp_path: Path, repo_url: str) -> None:
    src = make_odd_tree(tmp_path / "src", depth=2)
    with open_repository(repo_url, PASSWORD) as repo:
        first = repo.backup([src], host="h")
        stored = sum(blob.length for _pack, blob in repo.low.index.blobs())
        assert first.bytes_added == stored  # "added to the repository": every blob, as stored
        data_blobs = repo.low.index.count(BlobType.DATA)
        second = repo.backup([src], host="h")
        assert second.parent_id == first.snapshot_id
        assert second.files_new == second.files_changed == 0
        assert repo.low.index.count(BlobType.DATA) == data_blobs  # no file content was stored again
        assert second.bytes_added < 4096  # only trees of the (busy) directories above src may differ
        (src / "small.txt").write_text("changed\n")
        third = repo.backup([src], host="h")
        assert third.files_changed == 1
        assert b"".join(repo.open_file("latest", f"{src}/small.txt")) == b"changed\n"
        assert [s.id for s in repo.snapshots()] == [first.snapshot_id, second.snapshot_id, third.snapshot_id]


def test_excludes_and_restore_subsets(tmp_path: Path, repo_url: str) -> None:
    src = tmp_path / "src"
    (src / "keep" / "cache").mkdir(parents=True)
    (src / "keep" / "a.txt").write_text("a")
    (src / "keep" / "b.tmp").write_text("b")
    (src / "keep" / "cache" / "c.txt").write_text("c")
    with open_repository(repo_url, PASSWORD) as repo:
        result = repo.backup([src], excludes=["*.tmp", "keep/cache"])
        paths = {n.path for n in repo.ls("latest", str(src))}
        assert f"{src}/keep/a.txt" in paths
        assert not any(p.endswith((".tmp", "/cache", "c.txt")) for p in paths)
        repo.restore(result.snapshot_id, tmp_path / "only", include=["a.txt"])
    restored = tmp_path / "only" / str(src).lstrip("/") / "keep"
    assert sorted(os.listdir(restored)) == ["a.txt"]


def test_sparse_file_restores_sparse(tmp_path: Path, repo_url: str) -> None:
    src = tmp_path / "src"
    src.mkdir()
    with open(src / "sparse.img", "wb") as f:
        f.write(b"head")
        f.truncate(64 * 1024 * 1024)
    with open_repository(repo_url, PASSWORD) as repo:
        repo.restore(repo.backup([src]).snapshot_id, tmp_path / "out")
    out = tmp_path / "out" / str(src).lstrip("/") / "sparse.img"
    assert out.stat().st_size == 64 * 1024 * 1024
    assert out.read_bytes()[:4] == b"head"
    assert out.stat().st_blocks * 512 <= 16 * 1024 * 1024  # only the chunk holding "head" is written


def test_unreadable_file_is_reported_and_the_rest_saved(tmp_path: Path, repo_url: str) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.txt").write_text("fine")
    secret = src / "secret.txt"
    secret.write_text("no")
    seen: list[Path] = []
    with open_repository(repo_url, PASSWORD) as repo:
        if os.geteuid() == 0:
            # root reads everything: make the file vanish between listing and reading instead
            orig_open = os.open

            def vanish(path: object, *args: object, **kw: object) -> int:
                if isinstance(path, bytes) and path.endswith(b"secret.txt"):
                    raise FileNotFoundError(2, "No such file or directory", path)
                return orig_open(path, *args, **kw)  # type: ignore[arg-type]

            mp = pytest.MonkeyPatch()
            mp.setattr(os, "open", vanish)
        else:
            secret.chmod(0)
            mp = pytest.MonkeyPatch()
        try:
            result = repo.backup([src], on_error=lambda p, e: seen.append(p) or True)
        finally:
            mp.undo()
        assert [e.path for e in result.errors] == [str(secret)]
        assert seen == [secret]
        assert {n.path for n in repo.ls("latest", str(src))} == {str(src), f"{src}/ok.txt"}


def test_missing_pack_fails_only_the_files_that_need_it(tmp_path: Path, repo_url: str) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "first.bin").write_bytes(os.urandom(20 * 1024 * 1024))
    (src / "second.txt").write_text("small")
    with open_repository(repo_url, PASSWORD) as repo:
        snap = repo.backup([src]).snapshot_id
        first = next(n for n in repo.ls(snap) if n.path.endswith("first.bin"))
        assert first.content is not None
        pack_of_first = repo.low.lookup_blob(BlobType.DATA, bytes.fromhex(first.content[0]))
    assert pack_of_first is not None
    pack_id = pack_of_first[0]
    pack_path = Path(repo_url) / "data" / pack_id[:2] / pack_id
    pack_path.chmod(0o600)
    pack_path.unlink()
    with open_repository(repo_url, PASSWORD) as repo:
        result = repo.restore(snap, tmp_path / "out")
    assert [f.path for f in result.failed] == [f"{src}/first.bin"]
    assert (tmp_path / "out" / str(src).lstrip("/") / "second.txt").read_text() == "small"


def test_garbage_snapshot_file_is_named_and_others_still_restore(tmp_path: Path, repo_url: str) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("x")
    with open_repository(repo_url, PASSWORD) as repo:
        good = repo.backup([src]).snapshot_id
    bad_id = "ab" * 32
    (Path(repo_url) / "snapshots" / bad_id).write_bytes(b"garbage, not an encrypted snapshot")
    with open_repository(repo_url, PASSWORD) as repo:
        assert [s.id for s in repo.snapshots()] == [good]
        assert [i for i, _ in repo.snapshot_errors] == [bad_id]
        with pytest.raises(Exception, match=bad_id[:8]):
            repo.find_snapshot(bad_id)
        assert repo.restore(good, tmp_path / "out").failed == []
        with pytest.raises(SnapshotNotFoundError):
            repo.find_snapshot("0" * 10)


def test_garbage_index_file_is_named_and_other_snapshots_still_restore(tmp_path: Path, repo_url: str) -> None:
    """Each backup writes its own index file; a damaged one must not make the others' snapshots unrestorable."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "a.txt").write_text("first backup")
    (second / "b.txt").write_text("second backup, other content")
    indexes = Path(repo_url) / "index"
    with open_repository(repo_url, PASSWORD) as repo:
        old = repo.backup([first]).snapshot_id
        damaged = {p.name for p in indexes.iterdir()}
        new = repo.backup([second]).snapshot_id
    (bad,) = damaged
    (indexes / bad).chmod(0o600)
    (indexes / bad).write_bytes(b"garbage, not an encrypted index")
    with open_repository(repo_url, PASSWORD) as repo:
        result = repo.restore(new, tmp_path / "out")
        assert result.failed == []
        assert (
            tmp_path / "out" / str(second).lstrip("/") / "b.txt"
        ).read_text() == "second backup, other content"
        assert [i for i, _ in repo.index_errors] == [bad]
        damaged_restore = repo.restore(old, tmp_path / "out-old")
        assert damaged_restore.files_restored == 0
        assert any(bad in f.message and "rebuild-index" in f.message for f in damaged_restore.failed)


def test_backup_stream_stores_one_file(tmp_path: Path, repo_url: str) -> None:
    import io

    data = os.urandom(3 * 1024 * 1024) + b"tail"
    with open_repository(repo_url, PASSWORD) as repo:
        result = repo.backup_stream(io.BytesIO(data), "db.dump", tags=["pg"])
        assert b"".join(repo.open_file(result.snapshot_id, "/db.dump")) == data
        assert repo.find_snapshot("latest").paths == ["/db.dump"]
    assert list((Path(repo_url) / "snapshots").iterdir())
    assert FileType.SNAPSHOT.value == "snapshots"


def test_one_file_system_keeps_mount_points_empty(tmp_path: Path, repo_url: str) -> None:
    # /dev/shm is a tmpfs mounted inside /dev (devtmpfs): with one_file_system it stays empty
    marker = Path("/dev/shm") / f"mamori-test-{os.getpid()}"
    marker.mkdir()
    try:
        (marker / "f").write_text("on another file system")
        with open_repository(repo_url, PASSWORD) as repo:
            repo.backup([Path("/dev")], one_file_system=True, excludes=["/dev/pts", "/dev/mqueue"])
            paths = {n.path for n in repo.ls("latest", "/dev")}
            assert "/dev/shm" in paths
            assert not any(p.startswith("/dev/shm/") for p in paths)
            repo.backup([marker.parent], one_file_system=True)
            assert f"{marker}/f" in {n.path for n in repo.ls("latest", "/dev/shm")}
    finally:
        (marker / "f").unlink()
        marker.rmdir()


def test_very_deep_trees_back_up_and_restore(tmp_path: Path, repo_url: str) -> None:
    src = tmp_path / "src"
    src.mkdir()
    fd = os.open(src, os.O_RDONLY)
    for _ in range(1200):  # deeper than Python's default recursion limit allows to walk naively
        os.mkdir("d", dir_fd=fd)
        nxt = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nxt
    with open(os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as f:
        f.write("deep")
    os.close(fd)
    try:
        with open_repository(repo_url, PASSWORD) as repo:
            result = repo.backup([src])
            assert result.errors == [] and result.dirs == 1201
            restored = repo.restore(result.snapshot_id, tmp_path / "out")
            assert restored.files_restored == 1 and restored.failed == []
            assert sum(1 for n in repo.ls("latest", str(src)) if n.type == "dir") == 1201
    finally:
        # pytest's own cleanup of old temp folders recurses and dies on 1,200 levels; rm does not
        subprocess.run(["rm", "-rf", str(src), str(tmp_path / "out")], check=True)


def test_exact_paths_take_brackets_and_wildcards_literally(tmp_path: Path, repo_url: str) -> None:
    src = tmp_path / "src"
    for folder in ("フォルダ[2026]", "フォルダ2", "*", "?x"):
        (src / folder).mkdir(parents=True)
        (src / folder / "見積書[最終].xlsx").write_bytes(folder.encode())
    (src / "フォルダ[2026]" / "見積書最.xlsx").write_text("a pattern would match this too")
    with open_repository(repo_url, PASSWORD) as repo:
        snap = repo.backup([src]).snapshot_id
        one = repo.restore(snap, tmp_path / "one", paths=[f"{src}/フォルダ[2026]/見積書[最終].xlsx"])
        star = repo.restore(snap, tmp_path / "star", paths=[f"{src}/*"])
        everything = repo.restore(snap, tmp_path / "all", paths=["/"])
        with pytest.raises(InvalidArgumentError):
            repo.restore(snap, tmp_path / "x", paths=["/"], include=["*"])
    restored = tmp_path / "one" / str(src).lstrip("/")
    assert (one.files_restored, os.listdir(restored)) == (1, ["フォルダ[2026]"])
    assert os.listdir(restored / "フォルダ[2026]") == ["見積書[最終].xlsx"]
    assert star.files_restored == 1 and os.listdir(tmp_path / "star" / str(src).lstrip("/")) == ["*"]
    assert everything.files_restored == 5


def test_list_dir_reads_only_the_trees_along_the_path(tmp_path: Path, repo_url: str) -> None:
    src = tmp_path / "src"
    for d in range(5):
        (src / f"課{d}").mkdir(parents=True)
        for f in range(3):
            (src / f"課{d}" / f"{f}.txt").write_text(f"{d}/{f}")
    with open_repository(repo_url, PASSWORD) as repo:
        snap = repo.backup([src]).snapshot_id
        loaded: list[bytes] = []
        real = repo.low.load_blob
        repo.low.load_blob = lambda t, i: loaded.append(i) or real(t, i)  # type: ignore[method-assign]
        children = repo.list_dir(snap, str(src))
        assert [c.path for c in children] == [f"{src}/課{d}" for d in range(5)]
        assert len(loaded) == len(src.parts)  # the root tree and one per component, no folder below
        assert [c.path for c in repo.list_dir(snap, f"{src}/課2")] == [f"{src}/課2/{f}.txt" for f in range(3)]
        with pytest.raises(NotFoundError):
            repo.list_dir(snap, f"{src}/課2/0.txt")


def test_restore_a_folder_into_a_chosen_folder_keeping_or_replacing_what_is_there(
    tmp_path: Path, repo_url: str
) -> None:
    src = tmp_path / "src"
    (src / "課" / "sub").mkdir(parents=True)
    (src / "課" / "見積書.xlsx").write_text("from the snapshot")
    (src / "課" / "sub" / "a.txt").write_text("a")
    with open_repository(repo_url, PASSWORD) as repo:
        snap = repo.backup([src]).snapshot_id
        dest = tmp_path / "dest"
        (dest / "課").mkdir(parents=True)
        (dest / "課" / "見積書.xlsx").write_text("edited since")
        (dest / "課" / "mine.txt").write_text("mine")
        kept = repo.restore(snap, dest, paths=[f"{src}/課"], base=str(src), overwrite="never")
        assert (kept.files_restored, kept.files_skipped) == (1, 1)
        assert (dest / "課" / "見積書.xlsx").read_text() == "edited since"
        assert (dest / "課" / "sub" / "a.txt").read_text() == "a"
        replaced = repo.restore(snap, dest, paths=[f"{src}/課"], base=str(src), overwrite="always")
        assert (replaced.files_restored, replaced.files_skipped) == (2, 0)
        assert (dest / "課" / "見積書.xlsx").read_text() == "from the snapshot"
        assert (dest / "課" / "mine.txt").read_text() == "mine"  # never deleted
        with pytest.raises(InvalidArgumentError):
            repo.restore(snap, dest, paths=["/"], base=f"{src}/課/見積書.xlsx")


def test_find_names_each_path_once_with_the_newest_snapshot_holding_it(tmp_path: Path, repo_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    src = tmp_path / "src"
    src.mkdir()
    (src / "見積書[最終].xlsx").write_text("v1")
    (src / "議事録.txt").write_text("x")
    now = datetime.now(UTC)
    with open_repository(repo_url, PASSWORD) as repo:
        old = repo.backup([src], time=now - timedelta(days=40)).snapshot_id
        week = repo.backup([src], time=now - timedelta(days=7)).snapshot_id
        (src / "見積書[最終].xlsx").unlink()
        repo.backup([src], time=now)
        hits = repo.find("*見積書[[]最終]*", since=now - timedelta(days=30))
        assert [(h.node.path, h.snapshot.id) for h in hits] == [(f"{src}/見積書[最終].xlsx", week)]
        assert [h.snapshot.id for h in repo.find("*見積書*")] == [week]
        assert repo.find("*見積書*", since=now - timedelta(days=1)) == []
        assert old
