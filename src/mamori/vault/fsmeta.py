"""Turn file-system metadata into restic nodes and back (mode bits, owners, times, xattrs, devices).

Mirrors restic's `fs.nodeFromFileInfo` with its current defaults: atime stored as mtime (restic
without --with-atime), so reading files does not make the trees of unchanged directories differ.
"""

from __future__ import annotations

import errno
import functools
import grp
import os
import pwd
import stat

from mamori.vault.gojson import GoTime
from mamori.vault.model import (
    MODE_CHAR_DEVICE,
    MODE_DEVICE,
    MODE_DIR,
    MODE_NAMED_PIPE,
    MODE_SETGID,
    MODE_SETUID,
    MODE_SOCKET,
    MODE_STICKY,
    MODE_SYMLINK,
    Node,
    content_json,
    disk_node_json,
    owner_json,
    subtree_json,
)

_TYPE_BITS = {
    stat.S_IFDIR: ("dir", MODE_DIR),
    stat.S_IFLNK: ("symlink", MODE_SYMLINK),
    stat.S_IFBLK: ("dev", MODE_DEVICE),
    stat.S_IFCHR: ("chardev", MODE_DEVICE | MODE_CHAR_DEVICE),
    stat.S_IFIFO: ("fifo", MODE_NAMED_PIPE),
    stat.S_IFSOCK: ("socket", MODE_SOCKET),
    stat.S_IFREG: ("file", 0),
}


@functools.lru_cache(maxsize=256)
def go_mode(st_mode: int) -> tuple[str, int]:
    """restic's node type and Go `fs.FileMode` for a POSIX st_mode."""
    kind, bits = _TYPE_BITS.get(stat.S_IFMT(st_mode), ("irregular", 1 << 19))
    mode = bits | (st_mode & 0o777)
    if st_mode & stat.S_ISUID:
        mode |= MODE_SETUID
    if st_mode & stat.S_ISGID:
        mode |= MODE_SETGID
    if st_mode & stat.S_ISVTX:
        mode |= MODE_STICKY
    return kind, mode


def posix_mode(node: Node) -> int:
    """Permission bits (incl. setuid/setgid/sticky) for chmod from a node's Go mode."""
    return posix_mode_bits(node.mode)


def posix_mode_bits(go_mode: int) -> int:
    """Permission bits (incl. setuid/setgid/sticky) of a Go `fs.FileMode` as restic stores it."""
    mode = go_mode & 0o777
    if go_mode & MODE_SETUID:
        mode |= stat.S_ISUID
    if go_mode & MODE_SETGID:
        mode |= stat.S_ISGID
    if go_mode & MODE_STICKY:
        mode |= stat.S_ISVTX
    return mode


@functools.lru_cache(maxsize=256)
def user_name(uid: int) -> str:
    """Login name for a uid, "" if unknown (restic's lookupUsername)."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return ""


@functools.lru_cache(maxsize=256)
def group_name(gid: int) -> str:
    """Group name for a gid, "" if unknown."""
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return ""


def read_xattrs(path: bytes | int) -> list[tuple[bytes, bytes]]:
    """Extended attributes of a non-symlink (a path, or an open file: no path walk), sorted by
    name; none where the file system has none."""
    follow = isinstance(path, int)  # a descriptor is the file itself (and cannot be told not to)
    try:
        names = os.listxattr(path, follow_symlinks=follow)
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.ENODATA, errno.EPERM):
            return []
        raise
    out: list[tuple[bytes, bytes]] = []
    for name in sorted(names):
        try:
            out.append((os.fsencode(name), os.getxattr(path, name, follow_symlinks=follow)))
        except OSError:
            continue
    return out


def node_from_stat(name: bytes, path: bytes, st: os.stat_result) -> Node:
    """A node for `path` (not yet with content or subtree); reads the link target and xattrs."""
    kind, mode = go_mode(st.st_mode)
    mtime = GoTime.local(st.st_mtime_ns)
    node = Node(
        name=name,
        type=kind,
        mode=mode,
        mtime=mtime,
        atime=mtime,
        ctime=GoTime.local(st.st_ctime_ns),
        uid=st.st_uid,
        gid=st.st_gid,
        user=user_name(st.st_uid),
        group=group_name(st.st_gid),
        inode=st.st_ino,
        device_id=st.st_dev,
    )
    if kind != "dir":
        node.links = st.st_nlink
    if kind == "file":
        node.size = st.st_size
    elif kind == "symlink":
        node.linktarget = os.readlink(path)
    elif kind in ("dev", "chardev"):
        node.device = st.st_rdev
    elif kind in ("fifo", "socket"):
        node.links = 0
    if kind != "symlink":
        node.extended_attributes = read_xattrs(path)
    return node


def small_file_json(
    name: bytes,
    st: os.stat_result,
    times: tuple[str, str],
    xattrs: list[tuple[bytes, bytes]],
    size: int,
    content: list[bytes],
) -> str:
    """`node_from_stat(name, path, st).to_json()` of a regular file with its `xattrs`, `size` and
    `content`, and `times` = (mtime, ctime) as `GoTime.format` writes them, without the node."""
    mtime, ctime = times
    owner = _owner_json(st.st_uid, st.st_gid)
    mode = go_mode(st.st_mode)[1]
    return disk_node_json(
        name,
        "file",
        mode,
        mtime,
        ctime,
        owner,
        st.st_ino,
        st.st_dev,
        size,
        st.st_nlink,
        xattrs,
        content_json(content),
    )


def dir_node_json(name: bytes, path: bytes, st: os.stat_result, subtree: bytes) -> str:
    """`node_from_stat(name, path, st).to_json()` of a directory with its `subtree`, without the node."""
    return disk_node_json(
        name,
        "dir",
        go_mode(st.st_mode)[1],
        GoTime.format_local(st.st_mtime_ns),
        GoTime.format_local(st.st_ctime_ns),
        _owner_json(st.st_uid, st.st_gid),
        st.st_ino,
        st.st_dev,
        0,  # node_from_stat keeps no size or link count for a directory
        0,
        read_xattrs(path),
        subtree_json(subtree),
    )


@functools.lru_cache(maxsize=256)
def _owner_json(uid: int, gid: int) -> str:
    return owner_json(uid, gid, user_name(uid), group_name(gid))
