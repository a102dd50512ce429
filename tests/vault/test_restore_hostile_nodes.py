"""A restore over hostile nodes (`hostile_nodes.py`: fields other than the name) and hostile
surroundings (a target already holding symlinks, a folder swapped while the restore runs, patterns
with `..`). Whatever the repository or the target holds: nothing is written outside the target, the
restore runs to its end and `good.txt` is restored, and what is not restored is named. restic 0.14
restores the same repositories: the outcome is the same, or mamori's is the safer one said here.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mamori.vault import open_repository
from mamori.vault.api import Repository, RestoreResult
from mamori.vault.cli import main
from tests.vault.hostile import GOOD, PLANTED, files_outside
from tests.vault.hostile_nodes import DEPTH, MIDDLE, NOBODY, NodeCases, build_node_cases
from tests.vault.repo_helpers import PASSWORD
from tests.vault.restic_oracle import restic, tree_state

IS_ROOT = os.geteuid() == 0
BOTTOM = "/data" + "/d" * DEPTH + "/bottom.txt"
NOT_ROOT = "a device node can only be made by root: restore as root, or exclude it"
# (snapshot path, part of the reason) of everything mamori does not restore, per case, as root
FAILED = {
    "xattrs": [],
    "malformed": [
        ("/data/mode-inf", "invalid node 'm': mode inf is not a uint32"),
        ("/data/uid-2^40", "uid 1099511627776 is not a uint32"),
        ("/data/size-negative", "size -1 is not a uint64"),
        ("/data/mode-float", "mode 420.5 is not a uint32"),
        ("/data/nodes-number", "invalid tree: nodes is int, not a list"),
        ("/data/nested-json", "invalid tree: nested too deeply"),
    ],
    "symlink-nul": [("/data/nul-link", "invalid symlink target: it holds a NUL byte")],
    "cycle": [("/data/loop", "does not match its id")],
    "deep": [(BOTTOM, "File name too long")],  # only the file beyond PATH_MAX
    "hardlinks": [],
    "sizes": [],
    "specials": [
        ("/data/odd", 'file type "irregular" cannot be restored'),
        ("/data/weird", 'file type "no-such-type" cannot be restored'),
    ],
    "setuid": [],
}
RESTIC_EXIT = {case: 1 if failed else 0 for case, failed in FAILED.items()}


@pytest.fixture(scope="module")
def hostile() -> Iterator[NodeCases]:
    """The repository, in a folder everyone may read (one test restores as `nobody`)."""
    base = Path(tempfile.mkdtemp(prefix="mamori-hostile-nodes-"))
    try:
        base.chmod(0o755)
        cases = build_node_cases(base)
        for dirpath, _dirs, files in os.walk(cases.path):
            os.chmod(dirpath, 0o755)
            for name in files:
                os.chmod(os.path.join(dirpath, name), 0o644)
        (cases.path / "locks").chmod(0o777)  # the restore's lock, also as `nobody`
        (base / "targets").mkdir(mode=0o755)
        yield cases
    finally:  # rm, not shutil.rmtree: the deep case's 2,100 levels exceed Python's recursion limit
        subprocess.run(["rm", "-rf", "--one-file-system", str(base)], check=True)


def _restore(cases: NodeCases, case: str, target: Path, **kwargs: object) -> RestoreResult:
    with open_repository(str(cases.path), PASSWORD) as repo:
        return repo.restore(cases.snapshots[case], target, **kwargs)  # type: ignore[arg-type]


def _target(cases: NodeCases, name: str) -> Path:
    """A fresh restore target; every target of this module lies in `targets/`."""
    target = cases.path.parent / "targets" / name
    assert not target.exists()
    return target


def _nothing_outside(cases: NodeCases) -> None:
    """Nothing beside the repository and the targets, nothing where the hostile nodes point."""
    base = cases.path.parent
    assert files_outside(base, base / "targets") == [] and os.listdir(cases.outside) == []


@pytest.mark.parametrize("case", list(FAILED))
def test_a_hostile_node_fails_alone_by_name_and_the_restore_goes_on(hostile: NodeCases, case: str) -> None:
    target = _target(hostile, f"mamori-{case}")
    result = _restore(hostile, case, target)
    _nothing_outside(hostile)
    assert (target / "data" / "good.txt").read_bytes() == GOOD
    failed = [(f.path, f.message) for f in result.failed]
    assert [p for p, _m in failed] == [p for p, _m in FAILED[case]], failed
    for (_path, message), (_p, expected) in zip(failed, FAILED[case], strict=True):
        assert expected in message
    if case == "deep":
        _deep_folders_are_all_there(target)


@pytest.mark.restic
@pytest.mark.parametrize("case", list(FAILED))
def test_restic_restores_the_same_cases_with_the_same_exit_naming_the_same_paths(
    hostile: NodeCases, case: str
) -> None:
    target = _target(hostile, f"restic-{case}")
    proc = restic(hostile.path, "restore", hostile.snapshots[case], "--target", str(target), check=False)
    _nothing_outside(hostile)
    assert (target / "data" / "good.txt").read_bytes() == GOOD
    assert proc.returncode == RESTIC_EXIT[case], proc.stderr
    errors = proc.stderr.decode(errors="replace")
    for path, _reason in FAILED[case]:
        # restic names the deep case's folders from where paths grow too long, mamori only the file
        assert f"ignoring error for {path if case != 'deep' else '/data/d/d'}" in errors


def _deep_folders_are_all_there(target: Path) -> None:
    """2,100 levels: mamori makes each folder relative to its parent (no path is ever that long),
    so only the file at the bottom — which a worker opens by path — fails; restic 0.14 fails
    every folder from about the 2,000th level down (its paths exceed PATH_MAX)."""
    middle = os.path.join(target, "data", *["d"] * MIDDLE, "middle.txt")
    assert Path(middle).read_bytes() == b"middle\n"
    fd = os.open(target / "data", os.O_RDONLY)
    try:  # down by descriptors: the deepest folder exists
        for _ in range(DEPTH):
            fd, up = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd), fd
            os.close(up)
    finally:
        os.close(fd)


@pytest.mark.restic
@pytest.mark.parametrize("case", ["hardlinks", "specials", "setuid"])
def test_links_special_files_and_setuid_bits_restore_as_restic_restores_them(
    hostile: NodeCases, case: str
) -> None:
    """A hard link meets only files this restore made (a symlink of the same inode stays a symlink,
    an inode of a file of this host is only a number); fifos, devices
    (as root) and setuid bits of the snapshot's owners (as root) come out as restic makes them."""
    mine, theirs = _target(hostile, f"cmp-mamori-{case}"), _target(hostile, f"cmp-restic-{case}")
    _restore(hostile, case, mine)
    restic(hostile.path, "restore", hostile.snapshots[case], "--target", str(theirs), check=False)
    assert tree_state(mine) == tree_state(theirs)
    if case == "hardlinks":  # links meet only what this restore made, never a file of the host
        assert os.stat(mine / "data" / "host-1.txt").st_ino == os.stat(mine / "data" / "host-2.txt").st_ino
        assert os.stat(hostile.path / "config").st_nlink == 1
        assert (
            os.stat(mine / "data" / "a" / "src.txt").st_ino
            == os.stat(mine / "data" / "b" / "link.txt").st_ino
        )
        assert (mine / "data" / "t.txt").read_bytes() == PLANTED and os.stat(
            mine / "data" / "t.txt"
        ).st_nlink == 1
        assert (mine / "data" / "s").is_symlink()
    if case == "specials" and IS_ROOT:
        assert stat.S_ISCHR(os.lstat(mine / "data" / "null").st_mode)
        assert os.lstat(mine / "data" / "null").st_uid == 4242
        assert not (mine / "data" / "sock").exists()  # neither tool makes a socket


@pytest.mark.restic
def test_a_file_is_as_long_as_its_verified_content_whatever_size_its_node_claims(hostile: NodeCases) -> None:
    """restic 0.14 pads a file to a larger claimed size with zeros; mamori writes what the content
    blobs hold (each verified against its id) and nothing else. Neither makes a petabyte."""
    mine, theirs = _target(hostile, "sizes-mamori"), _target(hostile, "sizes-restic")
    _restore(hostile, "sizes", mine)
    restic(hostile.path, "restore", hostile.snapshots["sizes"], "--target", str(theirs))
    sizes = {}
    for name in ("claims-more.txt", "claims-less.txt", "claims-a-petabyte.txt"):
        sizes[name] = (os.path.getsize(mine / "data" / name), os.path.getsize(theirs / "data" / name))
    assert sizes == {
        "claims-more.txt": (18, 1000),
        "claims-less.txt": (18, 18),
        "claims-a-petabyte.txt": (0, 0),
    }


def _accepted(directory: Path, names: list[bytes]) -> set[bytes]:
    """The xattr names this kernel and file system take on a file of ours (the oracle for xattrs)."""
    probe = directory / "xattr-probe"
    probe.write_bytes(b"")
    accepted = set()
    for name in names:
        try:
            os.setxattr(probe, name, b"v")
            accepted.add(name)
        except (OSError, ValueError):
            pass
    probe.unlink()
    return accepted


@pytest.mark.restic
def test_each_extended_attribute_the_kernel_accepts_is_restored_the_others_are_left_out(
    hostile: NodeCases,
) -> None:
    """A NUL in a name, an empty name, an unknown namespace: left out without failing the file.
    (restic 0.14 stops at the first attribute the kernel refuses, and sets none after it.)"""
    target = _target(hostile, "xattrs")
    result = _restore(hostile, "xattrs", target)
    assert result.failed == []
    restored = target / "data" / "x.txt"
    assert restored.read_bytes() == b"x\n"
    names = [b"user.a\0b", b"user.fine", b"trusted.mamori", b"security.mamori", b"bogus.namespace", b""]
    expected = _accepted(target, names)
    assert b"user.fine" in expected or not IS_ROOT  # as root, at least this one is there to see
    assert {os.fsencode(n) for n in os.listxattr(restored)} - {b"system.posix_acl_access"} == expected
    theirs = _target(hostile, "xattrs-restic")
    restic(hostile.path, "restore", hostile.snapshots["xattrs"], "--target", str(theirs))
    assert os.listxattr(theirs / "data" / "x.txt") == []


def _as_nobody(run: Callable[[Repository], None], repo_path: Path) -> int:
    """Run `run(repo)` in a forked child with the uid and gid of `nobody` (as root), or here (not root).
    The child opens the repository before it gives up root, so everything the restore imports is loaded
    while the checkout can still be read (a checkout in a 0700 folder is not readable by nobody)."""
    if not IS_ROOT:
        with open_repository(str(repo_path), PASSWORD) as repo:
            run(repo)
        return 0
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            with open_repository(str(repo_path), PASSWORD) as repo:
                os.setgroups([])
                os.setresgid(NOBODY, NOBODY, NOBODY)
                os.setresuid(NOBODY, NOBODY, NOBODY)
                run(repo)
            code = 0
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


@pytest.mark.restic
def test_not_as_root_setuid_and_setgid_of_other_owners_are_dropped_and_devices_named(
    hostile: NodeCases,
) -> None:
    """Not root, every restored file belongs to the restoring user: "setuid 4242" would become
    "runs as the restoring user". mamori keeps setuid only for the restoring user's own uid and
    setgid only for its groups; restic 0.14 keeps both. A device node is named, as restic does."""
    base = _target(hostile, "not-root")
    base.mkdir()
    os.chown(base, NOBODY if IS_ROOT else os.getuid(), NOBODY if IS_ROOT else os.getgid())
    results: dict[str, list[tuple[str, str]]] = {}
    report = base / "failed.txt"

    def run(repo: Repository) -> None:
        lines = []
        try:
            for case in ("setuid", "specials"):
                for f in repo.restore(hostile.snapshots[case], base / "mamori" / case).failed:
                    lines.append(f"{case}\t{f.path}\t{f.message}")
        except Exception as exc:  # the child's failure, for the assertion below
            lines = [f"error\t\t{type(exc).__name__}: {exc}"]
        report.write_text("\n".join(lines))

    assert _as_nobody(run, hostile.path) == 0
    for line in report.read_text().splitlines():
        case, path, message = line.split("\t")
        results.setdefault(case, []).append((path, message))
    me = NOBODY if IS_ROOT else os.getuid()
    data = base / "mamori" / "setuid" / "data"
    modes = {name: stat.S_IMODE(os.stat(data / name).st_mode) for name in os.listdir(data)}
    assert modes["setuid-other"] == 0o755 and modes["setgid-other"] == 0o755
    assert modes["setuid-nobody"] == (0o4755 if me == NOBODY else 0o755)
    assert "setuid" not in results
    assert results["specials"] == [
        ("/data/null", NOT_ROOT),
        ("/data/disk", NOT_ROOT),
        ("/data/odd", 'file type "irregular" cannot be restored'),
        ("/data/weird", 'file type "no-such-type" cannot be restored'),
    ]
    assert stat.S_ISFIFO(os.lstat(base / "mamori" / "specials" / "data" / "pipe").st_mode)
    if IS_ROOT:  # restic as nobody: the documented difference
        theirs = base / "restic"
        exe = shutil.which("restic")
        assert exe is not None
        env = {"RESTIC_PASSWORD": PASSWORD, "HOME": str(base), "PATH": os.environ["PATH"]}
        args = [
            exe,
            "-r",
            str(hostile.path),
            "--no-cache",
            "--no-lock",
            "restore",
            hostile.snapshots["setuid"],
        ]
        subprocess.run(
            [*args, "--target", str(theirs)], env=env, user=NOBODY, group=NOBODY, extra_groups=[], check=True
        )
        assert stat.S_IMODE(os.stat(theirs / "data" / "setuid-other").st_mode) == 0o4755


@pytest.fixture
def victims(tmp_path: Path) -> Path:
    outside = tmp_path / "victims"
    outside.mkdir()
    (outside / "victim.txt").write_bytes(b"not yours\n")
    (outside / "victim2.txt").write_bytes(b"not yours either\n")
    return outside


def _plant_symlinks(target: Path, outside: Path) -> None:
    """A target already holding symlinks out of it where the snapshot has files and a folder."""
    (target / "data" / "a").mkdir(parents=True)
    os.symlink(outside / "victim.txt", target / "data" / "a" / "src.txt")  # a hard link's first name
    os.symlink(outside / "victim2.txt", target / "data" / "t.txt")
    os.symlink(outside, target / "data" / "b")  # where the snapshot has a folder


def _victims_untouched(outside: Path) -> None:
    assert sorted(os.listdir(outside)) == ["victim.txt", "victim2.txt"]
    assert (outside / "victim.txt").read_bytes() == b"not yours\n"
    assert (outside / "victim2.txt").read_bytes() == b"not yours either\n"


@pytest.mark.restic
def test_symlinks_already_in_the_target_are_replaced_or_kept_never_written_through(
    hostile: NodeCases, tmp_path: Path, victims: Path
) -> None:
    for overwrite in ("always", "never"):
        target = tmp_path / overwrite
        _plant_symlinks(target, victims)
        result = _restore(hostile, "hardlinks", target, overwrite=overwrite)
        _victims_untouched(victims)
        data = target / "data"
        assert not (data / "b").is_symlink() and (data / "b" / "link.txt").read_bytes() == b"linked\n"
        if overwrite == "always":
            assert result.failed == [] and not (data / "a" / "src.txt").is_symlink()
            assert os.stat(data / "a" / "src.txt").st_ino == os.stat(data / "b" / "link.txt").st_ino
        else:  # kept as they are (not followed): the hard link's other name is made afresh
            assert (data / "a" / "src.txt").is_symlink() and (data / "t.txt").is_symlink()
            assert result.files_skipped == 2
    # restic 0.14 writes through all three into the files and the folder outside its target
    target = tmp_path / "restic"
    _plant_symlinks(target, victims)
    restic(hostile.path, "restore", hostile.snapshots["hardlinks"], "--target", str(target))
    assert (victims / "victim2.txt").read_bytes() == PLANTED and (victims / "link.txt").exists()


@pytest.mark.restic
@pytest.mark.parametrize("pattern", ["../../outside", "/data/../../x", "..", "/data/.."])
def test_include_and_exclude_patterns_with_dotdot_never_reach_outside(
    hostile: NodeCases, pattern: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pattern is matched against snapshot paths, whose names are never `..`: such a component
    matches nothing in mamori (restic 0.14 cleans `/data/..` to `/` lexically and restores part)."""
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)
    snap = hostile.snapshots["hardlinks"]
    for option in ("--include", "--exclude"):
        target = _target(hostile, f"pattern-{pattern.replace('/', '_')}-{option.strip('-')}")
        out, err = io.StringIO(), io.StringIO()
        code = main(
            ["-r", str(hostile.path), "restore", snap, "-t", str(target), option, pattern],
            stdout=out,
            stderr=err,
        )
        assert code == 0, err.getvalue()
        _nothing_outside(hostile)
        restored = {p.relative_to(target).as_posix() for p in target.rglob("*")} if target.exists() else set()
        if option == "--include":
            assert not any(p.endswith(".txt") for p in restored)
        else:
            assert "data/good.txt" in restored and "data/b/link.txt" in restored
        theirs = _target(hostile, f"pattern-{pattern.replace('/', '_')}-restic{option}")
        restic(hostile.path, "restore", snap, "--target", str(theirs), option, pattern)
        _nothing_outside(hostile)


def test_a_folder_swapped_for_a_symlink_while_the_restore_runs_gets_nothing_more(
    hostile: NodeCases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone who can write to the target swaps `data/a` for a symlink to their folder while its
    jobs are still coming (two workers, jobs of four files: the first result comes back while the
    walk is still in `a`). The jobs still to run prove the folder by (device, inode) and write
    nothing; the hard link from `b` proves its source's inode and is not made to their file."""
    monkeypatch.setattr("mamori.vault.restorer.JOB_FILES", 4)
    monkeypatch.setattr("mamori.vault.restorer.os.cpu_count", lambda: 2)
    attacker = tmp_path / "attacker"
    attacker.mkdir()
    (attacker / "f00.txt").write_bytes(b"the attacker's\n")
    target = _target(hostile, "folder-swap")
    swapped: list[int] = []

    def swap(stats: object) -> None:
        if not swapped:
            swapped.append(len(os.listdir(target / "data" / "a")))
            os.rename(target / "data" / "a", target / "data" / "a-moved")
            os.symlink(attacker, target / "data" / "a")

    result = _restore(hostile, "folder-swap", target, progress=swap)
    assert swapped and swapped[0] < 40  # swapped while files of `a` were still to come
    assert os.listdir(attacker) == ["f00.txt"] and os.stat(attacker / "f00.txt").st_nlink == 1
    assert (attacker / "f00.txt").read_bytes() == b"the attacker's\n"
    failed = {f.path: f.message for f in result.failed}
    assert failed.pop("/data/b/link.txt") == "replaced during the restore, not written"
    assert failed and set(failed.values()) == {"its folder was replaced during the restore, not written"}
    assert all(p.startswith("/data/a/f") for p in failed)
    assert (target / "data" / "good.txt").read_bytes() == GOOD
    _nothing_outside(hostile)


class _SwapAfterFirstLook:
    """`os` as `confined` sees it, with a racer: right after the first look at `name` that finds it
    (a stat or an open), the entry is moved away and a symlink to `victim` put in its place — what
    a local user who can write to a folder being restored into can do at any moment."""

    def __init__(self, name: bytes, victim: Path) -> None:
        self.name, self.victim, self.swapped = name, victim, False

    def __getattr__(self, attr: str) -> object:
        return getattr(os, attr)

    def stat(self, path: bytes, **kwargs: object) -> os.stat_result:
        result = os.stat(path, **kwargs)  # type: ignore[arg-type]
        self._swap(path, kwargs.get("dir_fd"))
        return result

    def open(self, path: bytes, flags: int, *args: object, **kwargs: object) -> int:
        fd = os.open(path, flags, *args, **kwargs)  # type: ignore[arg-type]
        self._swap(path, kwargs.get("dir_fd"))
        return fd

    def _swap(self, path: bytes, dir_fd: object) -> None:
        if self.swapped or path != self.name or not isinstance(dir_fd, int):
            return
        self.swapped = True
        os.rename(self.name, self.name + b".moved", src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        os.symlink(self.victim, self.name, dir_fd=dir_fd)


def test_a_fifo_swapped_for_a_symlink_before_its_owner_and_mode_are_set_changes_nothing_outside(
    hostile: NodeCases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fifo `pipe` (mode 0666, owner 4242) is swapped for a symlink to a private file right
    after the restore made it: the owner and mode reach the fifo (proven by an O_PATH descriptor),
    never the file the symlink names."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"private\n")
    victim.chmod(0o600)
    before = os.stat(victim)
    racer = _SwapAfterFirstLook(b"pipe", victim)
    monkeypatch.setattr("mamori.vault.confined.os", racer)
    target = _target(hostile, "fifo-race")
    _restore(hostile, "specials", target)
    assert racer.swapped
    after = os.stat(victim)
    assert (stat.S_IMODE(after.st_mode), after.st_uid, after.st_gid) == (0o600, before.st_uid, before.st_gid)
    fifo = os.lstat(target / "data" / "pipe.moved")
    assert stat.S_ISFIFO(fifo.st_mode) and stat.S_IMODE(fifo.st_mode) == 0o666
    assert fifo.st_uid == (4242 if IS_ROOT else os.getuid())
