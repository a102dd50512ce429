"""Hostile repositories, part two: nodes whose names are fine but whose other fields are not.

Written by hand like `hostile.py` (trees sealed with the key, never through the archiver): hostile
extended-attribute names, owners and numbers no writer produces, malformed tree JSON, a symlink
target with a NUL, a tree that claims to be its own ancestor, absurd nesting, hard links that meet a
symlink, sizes that lie, device nodes, setuid bits of other owners (and one plain case, a folder
to swap while the restore runs). Each case is one snapshot of
`/data` holding `good.txt` (which must still restore) beside the hostile nodes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from mamori.vault.backend import FileType
from mamori.vault.backend.local import LocalBackend
from mamori.vault.index import encode_index
from mamori.vault.model import (
    MODE_CHAR_DEVICE,
    MODE_DEVICE,
    MODE_NAMED_PIPE,
    MODE_SETGID,
    MODE_SETUID,
    MODE_SOCKET,
    Node,
)
from mamori.vault.pack import BlobType
from mamori.vault.repository import Repository
from tests.vault.hostile import GOOD, PLANTED, TreeWriter
from tests.vault.repo_helpers import FAST_KDF, PASSWORD

NOBODY = 65534
OTHER = 4242  # an owner that is neither root nor nobody
DEPTH = 2100  # "/d" per level: the bottom lies beyond PATH_MAX (4,096 bytes) below any target
MIDDLE = 1000  # a file at this depth is still within PATH_MAX
SWAP_FILES = 40
MALFORMED = {  # subfolder of /data -> its tree's plaintext
    "mode-inf": b'{"nodes":[{"name":"m","type":"file","mode":1e400,"content":[]}]}',
    "uid-2^40": b'{"nodes":[{"name":"m","type":"file","uid":1099511627776,"content":[]}]}',
    "size-negative": b'{"nodes":[{"name":"m","type":"file","size":-1,"content":[]}]}',
    "mode-float": b'{"nodes":[{"name":"m","type":"file","mode":420.5,"content":[]}]}',
    "nodes-number": b'{"nodes":5}',
    "nested-json": b'{"nodes":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
}


@dataclass(frozen=True)
class NodeCases:
    path: Path
    outside: Path  # nothing may appear here
    snapshots: dict[str, str]  # case -> snapshot id


def _file(w: TreeWriter, name: bytes, content: bytes, **fields: object) -> Node:
    node = w.file(name, content)
    return dataclasses.replace(node, **fields)


def _mode(perm: int) -> int:
    """A Go file mode from POSIX permission bits with setuid/setgid."""
    mode = perm & 0o777
    if perm & stat.S_ISUID:
        mode |= MODE_SETUID
    if perm & stat.S_ISGID:
        mode |= MODE_SETGID
    return mode


def _chain(w: TreeWriter, depth: int) -> Node:
    """Folders d/d/d/... `depth` deep; a file at `MIDDLE` and at the bottom."""
    node = w.dir(b"d", [w.file(b"bottom.txt", b"bottom\n")])
    for level in range(depth - 1, 0, -1):
        extra = [w.file(b"middle.txt", b"middle\n")] if level == MIDDLE else []
        node = w.dir(b"d", [node, *extra])
    return node


def _cycle(w: TreeWriter) -> tuple[list[Node], bytes, bytes]:
    """A folder `loop` whose subtree id an extra index entry maps to the tree of /data itself, the
    folder holding `loop`: followed blindly the walk never ends. (The blob's content does not hash
    to the claimed id: content addressing is what makes a true cycle impossible to write.)
    Returns the nodes, the claimed id and the id of /data's tree."""
    claimed = hashlib.sha256(b"a tree that contains itself").digest()
    nodes = [dataclasses.replace(w.dir(b"loop", []), subtree=claimed)]
    data_tree = w.dir(b"data", [w.file(b"good.txt", GOOD), *nodes]).subtree  # the snapshot's, by content
    assert data_tree is not None
    return nodes, claimed, data_tree


def build_node_cases(base: Path) -> NodeCases:
    outside = base / "outside"
    outside.mkdir(parents=True)
    path = base / "repo"
    repo = Repository.init(LocalBackend(path), PASSWORD, kdf_params=FAST_KDF, pack_size=1 << 20)
    w = TreeWriter(repo)
    host = os.stat(path / "config")
    loop_nodes, claimed, data_tree = _cycle(w)
    xattrs = [
        (b"user.a\0b", b"a NUL in the name"),
        (b"user.fine", b"1"),
        (b"trusted.mamori", b"t"),
        (b"security.mamori", b"s"),
        (b"system.posix_acl_access", b"not an ACL"),
        (b"bogus.namespace", b"x"),
        (b"", b"empty name"),
    ]
    cases: dict[str, list[Node | str]] = {
        "xattrs": [_file(w, b"x.txt", b"x\n", extended_attributes=xattrs)],
        "malformed": [
            dataclasses.replace(w.dir(name.encode(), []), subtree=w.raw_tree(text))
            for name, text in MALFORMED.items()
        ],
        "symlink-nul": [dataclasses.replace(w.symlink(b"nul-link", outside), linktarget=b"/tmp/a\0b")],
        "cycle": loop_nodes,
        "deep": [_chain(w, DEPTH)],
        "hardlinks": [
            w.dir(b"a", [_file(w, b"src.txt", b"linked\n", links=2, inode=77, device_id=9)]),
            w.dir(b"b", [_file(w, b"link.txt", b"linked\n", links=2, inode=77, device_id=9)]),
            # two names claiming the (device, inode) of a file of this host (the repository's config)
            _file(w, b"host-1.txt", PLANTED, links=2, inode=host.st_ino, device_id=host.st_dev),
            _file(w, b"host-2.txt", PLANTED, links=2, inode=host.st_ino, device_id=host.st_dev),
            # a symlink and then a file claiming the same inode: the file is a file, not a link
            dataclasses.replace(w.symlink(b"s", outside), links=2, inode=88, device_id=9),
            _file(w, b"t.txt", PLANTED, links=2, inode=88, device_id=9),
        ],
        "sizes": [
            _file(w, b"claims-more.txt", b"eighteen bytes ok\n", size=1000),
            _file(w, b"claims-less.txt", b"eighteen bytes ok\n", size=5),
            _file(w, b"claims-a-petabyte.txt", b"", size=1 << 50),
        ],
        "specials": [
            Node(name=b"pipe", type="fifo", mode=MODE_NAMED_PIPE | 0o666, uid=OTHER, gid=OTHER),
            Node(name=b"sock", type="socket", mode=MODE_SOCKET | 0o777),
            Node(
                name=b"null",
                type="chardev",
                mode=MODE_DEVICE | MODE_CHAR_DEVICE | 0o666,
                uid=OTHER,
                device=os.makedev(1, 3),
            ),
            Node(name=b"disk", type="dev", mode=MODE_DEVICE | 0o660, uid=OTHER, device=os.makedev(7, 250)),
            Node(name=b"odd", type="irregular", mode=1 << 19),
            Node(name=b"weird", type="no-such-type", mode=0o644),
        ],
        "setuid": [
            _file(w, b"setuid-other", b"#!/bin/sh\n", uid=OTHER, gid=NOBODY, mode=_mode(0o4755)),
            _file(w, b"setuid-nobody", b"#!/bin/sh\n", uid=NOBODY, gid=NOBODY, mode=_mode(0o4755)),
            _file(w, b"setgid-other", b"#!/bin/sh\n", uid=NOBODY, gid=OTHER, mode=_mode(0o2755)),
        ],
        # not hostile in itself: a folder of many files and a hard link into it from a later folder,
        # for a target someone swaps while the restore runs
        "folder-swap": [
            w.dir(
                b"a",
                [_file(w, b"f00.txt", b"linked\n", links=2, inode=5, device_id=9)]
                + [w.file(b"f%02d.txt" % i, b"file %d\n" % i) for i in range(1, SWAP_FILES)],
            ),
            w.dir(b"b", [_file(w, b"link.txt", b"linked\n", links=2, inode=5, device_id=9)]),
        ],
    }
    snapshots = {
        case: w.snapshot(nodes, 1_770_000_000_000_000_000 + i * 10**9)
        for i, (case, nodes) in enumerate(cases.items())
    }
    pack_id, blob = repo.lookup_blob(BlobType.TREE, data_tree) or ("", None)
    assert blob is not None
    repo.save_unpacked(FileType.INDEX, encode_index({pack_id: [dataclasses.replace(blob, id=claimed)]}))
    repo.close()
    return NodeCases(path, outside, snapshots)
