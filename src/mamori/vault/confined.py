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


def reopen(path: bytes, ident: tuple[int, int], flags: int) -> int:
    """Open the file the plan created at `path`, or fail: never another inode, never a device.

    O_PATH opens nothing (no device or fifo side effects); the (device, inode) proof then allows the
    real open through /proc/self/fd, which reaches exactly that inode.
    """
    probe = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
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


def node_meta(node: Node) -> Meta:
    return node.uid, node.gid, posix_mode(node), node.extended_attributes, node.atime.ns, node.mtime.ns


def fd_meta(fd: int, node: Node, is_root: bool) -> None:
    """Owner (as root), mode, xattrs and times of an open file or directory."""
    set_meta(fd, node_meta(node), is_root)


def set_meta(fd: int, meta: Meta, is_root: bool) -> None:
    """`fd_meta` from a `Meta` (a restore's worker process gets these, not nodes)."""
    uid, gid, mode, xattrs, atime, mtime = meta
    try:
        if is_root:
            os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
        for name, value in xattrs:
            try:
                os.setxattr(fd, name, value)
            except OSError:
                pass
        os.utime(fd, ns=(atime, mtime))
    except OSError:
        pass


def name_meta(dir_fd: int, node: Node, is_root: bool) -> None:
    """Owner and times of a symlink, fifo or device just made in `dir_fd` (never following a link)."""
    try:
        if is_root:
            os.chown(node.name, node.uid, node.gid, dir_fd=dir_fd, follow_symlinks=False)
        if node.type != "symlink":
            st = os.stat(node.name, dir_fd=dir_fd, follow_symlinks=False)
            if not stat.S_ISLNK(st.st_mode):
                os.chmod(node.name, posix_mode(node), dir_fd=dir_fd)
        os.utime(node.name, ns=(node.atime.ns, node.mtime.ns), dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        pass
