"""File-system steps that never follow a symlink: the restore's confinement to its target.

Directories are made and opened relative to their parent's descriptor with O_NOFOLLOW, files are
created O_CREAT|O_EXCL|O_NOFOLLOW in them, and anything done later by path first proves, by
(device, inode), that it reaches the inode made here: an O_PATH probe (which opens nothing, so no
device or fifo side effects), then the real open through /proc/self/fd of that probe.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from typing import Any

from mamori.vault.errors import VaultError
from mamori.vault.fsmeta import posix_mode
from mamori.vault.model import Node

__all__ = [
    "CREATE",
    "OPEN_DIR",
    "Meta",
    "TargetChangedError",
    "fd_meta",
    "inode_of",
    "mkdir_at",
    "name_meta",
    "node_meta",
    "open_parent",
    "remove_non_dir",
    "reopen",
    "restored_mode",
    "set_meta",
    "unlink_if",
]


class TargetChangedError(VaultError):
    """A directory of the restore was replaced while the restore ran; nothing more is written."""


OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def inode_of(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


def open_parent(child_fd: int, ident: tuple[int, int]) -> int:
    """Reopen a directory whose descriptor was closed, through ".." of its child, and prove it is the same."""
    fd = os.open(b"..", OPEN_DIR, dir_fd=child_fd)
    if inode_of(fd) != ident:
        os.close(fd)
        raise TargetChangedError("a directory of the restore was moved during the restore: restore again")
    return fd


def remove_non_dir(dir_fd: int, name: bytes) -> None:
    """Remove what is at `name` unless it is a directory (a symlink is removed, never followed)."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(name, dir_fd=dir_fd)


def mkdir_at(dir_fd: int, name: bytes) -> tuple[int, bool]:
    """Make (or reuse) the directory `name` and open it: (fd, made now); a symlink or file there is replaced."""
    new = True
    try:
        os.mkdir(name, 0o700, dir_fd=dir_fd)
    except FileExistsError:
        remove_non_dir(dir_fd, name)
        try:
            os.mkdir(name, 0o700, dir_fd=dir_fd)
        except FileExistsError:
            new = False  # an existing directory: restore into it
    return os.open(name, OPEN_DIR, dir_fd=dir_fd), new


def reopen(path: bytes, ident: tuple[int, int], flags: int, dir_fd: int | None = None) -> int:
    """Open the file the plan created at `path` (relative to `dir_fd` if given), or fail: never
    another inode, never a device.

    O_PATH opens nothing (no device or fifo side effects); the (device, inode) proof then allows the
    real open through /proc/self/fd, which reaches exactly that inode.
    """
    probe = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        st = os.fstat(probe)
        if (st.st_dev, st.st_ino) != ident or not stat.S_ISREG(st.st_mode):
            raise OSError(errno.ESTALE, "replaced during the restore, not written")
        return os.open(f"/proc/self/fd/{probe}", flags | os.O_CLOEXEC)
    finally:
        os.close(probe)


def unlink_if(dir_fd: int, name: bytes, ident: tuple[int, int]) -> None:
    """Remove `name` from `dir_fd` if it is still the inode `ident` (a file that failed to restore)."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if (st.st_dev, st.st_ino) == ident:
            os.unlink(name, dir_fd=dir_fd)
    except OSError:
        pass


Meta = tuple[int, int, int, list[tuple[bytes, bytes]], int, int]
"""What a restore sets on a file: uid, gid, permission bits, xattrs, atime ns, mtime ns."""

_SPECIAL_TYPES = {"fifo": stat.S_IFIFO, "dev": stat.S_IFBLK, "chardev": stat.S_IFCHR}


def node_meta(node: Node, is_root: bool) -> Meta:
    return (
        node.uid,
        node.gid,
        restored_mode(node, is_root),
        node.extended_attributes,
        node.atime.ns,
        node.mtime.ns,
    )


def restored_mode(node: Node, is_root: bool) -> int:
    """The node's permission bits, except that a restore not run as root (whose files belong to
    the restoring user, not to the owner the snapshot names) keeps setuid only for a node of its own
    uid and setgid only for a group it is in: a snapshot's "setuid 4242" must not become "runs as
    the restoring user" (restic keeps both bits)."""
    mode = posix_mode(node)
    if not is_root:
        if node.uid != os.geteuid():
            mode &= ~stat.S_ISUID
        if node.gid != os.getegid() and node.gid not in os.getgroups():
            mode &= ~stat.S_ISGID
    return mode


def fd_meta(fd: int, node: Node, is_root: bool) -> None:
    """Owner (as root), mode, xattrs and times of an open file or directory."""
    set_meta(fd, node_meta(node, is_root), is_root)


# Metadata is best effort, as restic's: an owner, xattr or time the file system or the kernel
# refuses is left out. ValueError and OverflowError are Python's refusals of such values (a NUL in
# an xattr name) from a repository written by someone else: they must not stop the restore.
_META_ERRORS = (OSError, ValueError, OverflowError)


def set_meta(fd: int, meta: Meta, is_root: bool) -> None:
    """`fd_meta` from a `Meta` (a restore's worker process gets these, not nodes). Each step is
    independent: an owner the kernel refuses does not leave the mode or the times unset."""
    uid, gid, mode, xattrs, atime, mtime = meta
    if is_root:
        _try(os.fchown, fd, uid, gid)
    _try(os.fchmod, fd, mode)
    for name, value in xattrs:
        _try(os.setxattr, fd, name, value)
    _try(os.utime, fd, ns=(atime, mtime))


def _try(step: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    try:
        step(*args, **kwargs)
    except _META_ERRORS:
        pass


def name_meta(dir_fd: int, node: Node, is_root: bool) -> None:
    """Owner, mode and times of a symlink, fifo or device just made in `dir_fd`.

    A symlink is changed by name without following it. A fifo or device is first opened O_PATH
    (which opens nothing) and proven to be a fifo or device: the owner and mode then go through
    /proc/self/fd to exactly that inode, so a symlink or file swapped in by someone who can write
    to the folder is never changed (an existing folder of another user may be restored into)."""
    if node.type == "symlink":
        if is_root:
            _try(os.chown, node.name, node.uid, node.gid, dir_fd=dir_fd, follow_symlinks=False)
        _try(os.utime, node.name, ns=(node.atime.ns, node.mtime.ns), dir_fd=dir_fd, follow_symlinks=False)
        return
    try:
        probe = os.open(node.name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return
    try:
        if stat.S_IFMT(os.fstat(probe).st_mode) != _SPECIAL_TYPES.get(node.type):
            return
        proven = f"/proc/self/fd/{probe}"
        if is_root:
            _try(os.chown, proven, node.uid, node.gid)
        _try(os.chmod, proven, restored_mode(node, is_root))
        _try(os.utime, proven, ns=(node.atime.ns, node.mtime.ns))
    finally:
        os.close(probe)
