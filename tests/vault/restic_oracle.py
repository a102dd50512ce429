"""Run the real `restic` binary (the oracle) against a repository, and build odd file trees for it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import require_tool

PASSWORD = "correct horse battery staple"


def restic(
    repo: Path, *args: str, check: bool = True, password: str = PASSWORD
) -> subprocess.CompletedProcess[bytes]:
    """Run restic with the test password; fail the test with restic's stderr if it fails."""
    exe = require_tool("restic")
    env = {**os.environ, "RESTIC_PASSWORD": password, "RESTIC_CACHE_DIR": str(repo.parent / ".restic-cache")}
    env.pop("RESTIC_REPOSITORY", None)
    proc = subprocess.run(
        [exe, "-r", str(repo), "--no-cache", *args], env=env, capture_output=True, timeout=600
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"restic {' '.join(args)} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}"
        )
    return proc


def restic_json(repo: Path, *args: str) -> Any:
    """restic's --json output, decoded."""
    return json.loads(restic(repo, "--json", *args).stdout)


ODD_NAMES = [
    b'quote"name',
    b"back\\slash",
    b"new\nline",
    b"ctrl\x01\x1b\x7fchars",
    b"tab\there",
    b"invalid\xff\xfeutf8",
    "日本語のファイル名.txt".encode(),
    "全角\u3000空白".encode(),
    b"<html>&amp;",
    b"x" * 255,
    b"-leading-dash",
    b" space ",
]


def make_odd_tree(root: Path, *, large: int = 0, depth: int = 30) -> Path:
    """A tree exercising every naming and metadata corner restic stores; returns its root."""
    root.mkdir(parents=True)
    base = os.fsencode(root)
    for i, name in enumerate(ODD_NAMES):
        with open(os.path.join(base, name), "wb") as f:
            f.write(b"content of odd file %d\n" % i * (i + 1))
    (root / "empty").write_bytes(b"")
    (root / "small.txt").write_text("小さなファイル\n", encoding="utf-8")
    (root / "chunky.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    (root / "zeros.bin").write_bytes(bytes(2 * 1024 * 1024))
    deep = root
    for level in range(depth):
        deep = deep / f"d{level}"
    deep.mkdir(parents=True)
    (deep / "bottom.txt").write_text("deep\n")
    os.symlink("small.txt", root / "link-to-small")
    os.symlink("does/not/exist", root / "dangling")
    os.symlink(b"target-\xff", os.path.join(base, b"link-bad-target"))
    os.link(root / "small.txt", root / "hardlink-to-small")
    os.mkfifo(root / "fifo")
    if os.geteuid() == 0:  # device nodes can only be made (and restored) by root
        os.mknod(root / "null-device", 0o620 | stat.S_IFCHR, os.makedev(1, 3))
    sub = root / "sub dir"
    sub.mkdir()
    (sub / "a").write_text("a\n")
    os.chmod(sub / "a", 0o640)
    (sub / "exec.sh").write_text("#!/bin/sh\n")
    os.chmod(sub / "exec.sh", 0o755)
    if large:
        with open(root / "large.bin", "wb") as f:
            block = os.urandom(1 << 20)
            for i in range(large >> 20):
                f.write(block[i % 251 :] + block[: i % 251] if i % 3 else bytes(1 << 20))
    os.utime(root / "small.txt", ns=(1_600_000_000_123_456_789, 1_600_000_000_987_654_321))
    return root


def tree_state(root: Path) -> dict[bytes, tuple[object, ...]]:
    """What a user checks after a restore: per relative path its type, content hash, mode, mtime,
    link target, and which paths are hard links of each other."""
    import hashlib
    import stat as st_

    base = os.fsencode(root)
    state: dict[bytes, tuple[object, ...]] = {}
    inodes: dict[int, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(base):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, base)
            s = os.lstat(full)
            kind = st_.S_IFMT(s.st_mode)
            if st_.S_ISREG(s.st_mode):
                with open(full, "rb") as f:
                    digest = hashlib.file_digest(f, "sha256").hexdigest()
                link_of = inodes.setdefault(s.st_ino, rel) if s.st_nlink > 1 else None
                state[rel] = (kind, digest, st_.S_IMODE(s.st_mode), s.st_mtime_ns, link_of)
            elif st_.S_ISLNK(s.st_mode):
                state[rel] = (kind, os.readlink(full))
            elif st_.S_ISDIR(s.st_mode):
                state[rel] = (kind, st_.S_IMODE(s.st_mode), s.st_mtime_ns)
            else:
                state[rel] = (kind, st_.S_IMODE(s.st_mode), s.st_mtime_ns, s.st_rdev)
    return state


def assert_same_tree(expected: Path, actual: Path) -> None:
    """The restored tree equals the original in everything `tree_state` records."""
    want, got = tree_state(expected), tree_state(actual)
    assert sorted(got) == sorted(want)
    for rel, value in want.items():
        assert got[rel] == value, rel
