"""The objects of a restic snapshot: nodes, trees and the snapshot itself, serialised exactly as restic.

Node JSON follows restic's `data.Node` field order and omit-empty rules; tree blobs are
`{"nodes":[...]}` plus a newline with nodes sorted by raw name bytes and names quoted like Go's
`strconv.Quote` (restic cannot decode a tree otherwise, and tree IDs only dedupe when bytes match).
"""

from __future__ import annotations

import base64
import functools
import itertools
import json
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mamori.vault.gojson import GoTime, go_quote, go_unquote, json_string, name_json

# Go io/fs mode bits as restic stores them in `mode`.
MODE_DIR = 1 << 31
MODE_APPEND = 1 << 30
MODE_EXCLUSIVE = 1 << 29
MODE_TEMPORARY = 1 << 28
MODE_SYMLINK = 1 << 27
MODE_DEVICE = 1 << 26
MODE_NAMED_PIPE = 1 << 25
MODE_SOCKET = 1 << 24
MODE_SETUID = 1 << 23
MODE_SETGID = 1 << 22
MODE_CHAR_DEVICE = 1 << 21
MODE_STICKY = 1 << 20
MODE_IRREGULAR = 1 << 19
MODE_PERM = 0o777

EPOCH = GoTime(0)
NODE_TYPES = ("file", "dir", "symlink", "dev", "chardev", "fifo", "socket", "irregular")


class TreeFormatError(ValueError):
    """A tree or snapshot document that restic would not accept."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(slots=True)
class Node:
    """One entry of a tree (restic `data.Node`); `name` and `linktarget` are raw bytes."""

    name: bytes
    type: str
    mode: int = 0
    mtime: GoTime = EPOCH
    atime: GoTime = EPOCH
    ctime: GoTime = EPOCH
    uid: int = 0
    gid: int = 0
    user: str = ""
    group: str = ""
    inode: int = 0
    device_id: int = 0
    size: int = 0
    links: int = 0
    linktarget: bytes = b""
    extended_attributes: list[tuple[bytes, bytes]] = field(default_factory=list)
    generic_attributes: dict[str, Any] | None = None
    device: int = 0
    content: list[bytes] | None = None
    subtree: bytes | None = None
    error: str = ""

    def to_json(self) -> str:
        """The node's JSON exactly as restic's `Node.MarshalJSON` produces it."""
        parts = ['{"name":', name_json(self.name), _json_field("type", self.type)]
        if self.mode:
            parts.append(f',"mode":{self.mode}')
        mtime = self.mtime.format()
        atime = mtime if self.atime is self.mtime else self.atime.format()  # one object when read from disk
        parts.append(f',"mtime":"{mtime}","atime":"{atime}","ctime":"{self.ctime.format()}"')
        parts.append(owner_json(self.uid, self.gid, self.user, self.group))
        if self.inode:
            parts.append(f',"inode":{self.inode}')
        if self.device_id:
            parts.append(f',"device_id":{self.device_id}')
        if self.size:
            parts.append(f',"size":{self.size}')
        if self.links:
            parts.append(f',"links":{self.links}')
        if self.linktarget:
            parts.append(',"linktarget":' + json_string(self.linktarget))
            try:
                self.linktarget.decode("utf-8")
            except UnicodeDecodeError:
                parts.append(f',"linktarget_raw":"{_b64(self.linktarget)}"')
        if self.extended_attributes:
            parts.append(_xattrs_json(self.extended_attributes))
        if self.generic_attributes:
            parts.append(
                ',"generic_attributes":'
                + json.dumps(self.generic_attributes, sort_keys=True, separators=(",", ":"))
            )
        if self.device:
            parts.append(f',"device":{self.device}')
        if self.content is None:
            parts.append(',"content":null')
        else:
            parts.append(',"content":[' + ",".join(f'"{c.hex()}"' for c in self.content) + "]")
        if self.subtree is not None:
            parts.append(f',"subtree":"{self.subtree.hex()}"')
        if self.error:
            parts.append(',"error":' + json_string(self.error))
        parts.append("}")
        return "".join(parts)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Node:
        """Build a node from restic's decoded JSON object; TreeFormatError if it is malformed."""
        try:
            name = go_unquote(data["name"])
            raw_target = data.get("linktarget_raw")
            if raw_target is not None:
                target = base64.b64decode(raw_target)
            else:
                target = (data.get("linktarget") or "").encode("utf-8", "surrogateescape")
            content = data.get("content")
            subtree = data.get("subtree")
            xattrs = [
                (str(a["name"]).encode("utf-8", "surrogateescape"), base64.b64decode(a.get("value") or ""))
                for a in data.get("extended_attributes") or []
            ]
            return cls(
                name=name,
                type=str(data["type"]),
                mode=_uint(data, "mode", 32),
                mtime=_time_field(data, "mtime"),
                atime=_time_field(data, "atime"),
                ctime=_time_field(data, "ctime"),
                uid=_uint(data, "uid", 32),
                gid=_uint(data, "gid", 32),
                user=str(data.get("user", "")),
                group=str(data.get("group", "")),
                inode=_uint(data, "inode", 64),
                device_id=_uint(data, "device_id", 64),
                size=_uint(data, "size", 64),
                links=_uint(data, "links", 64),
                linktarget=target,
                extended_attributes=xattrs,
                generic_attributes=data.get("generic_attributes"),
                device=_uint(data, "device", 64),
                content=None if content is None else [bytes.fromhex(c) for c in content],
                subtree=None if subtree is None else bytes.fromhex(subtree),
                error=str(data.get("error", "")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            named = data.get("name") if isinstance(data, dict) else None
            raise TreeFormatError(f"invalid node {named!r}: {exc}") from exc


def disk_node_json(
    name: bytes,
    kind: str,
    mode: int,
    mtime: str,
    ctime: str,
    owner: str,
    inode: int,
    device_id: int,
    size: int,
    links: int,
    xattrs: list[tuple[bytes, bytes]],
    tail: str,
) -> str:
    """`Node.to_json` of a file or folder as read from disk (atime = mtime, `owner` = its
    `owner_json`), without building the node: a backup's workers write one for every small file
    and folder. `tail` is the rest, `content_json` of a file's content or `subtree_json`."""
    return "".join(
        (
            '{"name":',
            name_json(name),
            f',"type":"{kind}","mode":{mode}' if mode else f',"type":"{kind}"',
            f',"mtime":"{mtime}","atime":"{mtime}","ctime":"{ctime}"',
            owner,
            f',"inode":{inode}' if inode else "",
            f',"device_id":{device_id}' if device_id else "",
            f',"size":{size}' if size else "",
            f',"links":{links}' if links else "",
            _xattrs_json(xattrs) if xattrs else "",
            tail,
        )
    )


def content_json(content: list[bytes]) -> str:
    """A file node's `,"content":[...]}` (`disk_node_json`)."""
    if len(content) == 1:
        return f',"content":["{content[0].hex()}"]}}'
    return ',"content":[' + ",".join(f'"{c.hex()}"' for c in content) + "]}"


def subtree_json(subtree: bytes) -> str:
    """A folder node's `,"content":null,"subtree":"..."}` (`disk_node_json`)."""
    return f',"content":null,"subtree":"{subtree.hex()}"}}'


@functools.lru_cache(maxsize=256)
def owner_json(uid: int, gid: int, user: str, group: str) -> str:
    """A node's `,"uid":…,"gid":…,"user":…,"group":…` (empty names left out), the same for most
    nodes of a tree."""
    return (
        f',"uid":{uid},"gid":{gid}'
        + (_json_field("user", user) if user else "")
        + (_json_field("group", group) if group else "")
    )


def _xattrs_json(xattrs: list[tuple[bytes, bytes]]) -> str:
    attrs = ",".join('{"name":' + json_string(n) + ',"value":"' + _b64(v) + '"}' for n, v in xattrs)
    return ',"extended_attributes":[' + attrs + "]"


@functools.lru_cache(maxsize=256)
def _json_field(key: str, value: str) -> str:
    # types, user and group names repeat in every node of a tree
    return f',"{key}":' + json_string(value)


def _uint(data: dict[str, Any], key: str, bits: int) -> int:
    """An unsigned field as Go decodes it into restic's node: an integer that fits `bits`, else
    the tree is refused (`1e400`, `-1`, `2**40` for a uid, `1.5` or `true` are no owner or mode)."""
    value = data.get(key)
    if value is None:  # absent or null: Go leaves the zero value
        return 0
    if type(value) is not int or not 0 <= value < 1 << bits:
        raise ValueError(f"{key} {value!r} is not a uint{bits}")  # from_dict names the node
    return value


def _time_field(data: dict[str, Any], key: str) -> GoTime:
    value = data.get(key)
    return GoTime.parse(value) if value else EPOCH


_NAME = operator.itemgetter(0)


def tree_bytes(nodes: Iterable[Node]) -> bytes:
    """The tree blob plaintext: nodes sorted by raw name bytes, duplicates rejected."""
    return tree_bytes_of((n.name, n) for n in nodes)


def tree_bytes_of(entries: Iterable[tuple[bytes, Node | str]]) -> bytes:
    """`tree_bytes` of (name, node or its JSON already made, e.g. by a backup's worker process)."""
    ordered = sorted(entries, key=_NAME)
    names = list(map(_NAME, ordered))
    if len(set(names)) < len(names):
        for a, b in itertools.pairwise(names):
            if a == b:
                raise TreeFormatError(f"duplicate name {a!r} in tree")
    body = ",".join([n if isinstance(n, str) else n.to_json() for _name, n in ordered])
    return ('{"nodes":[' + body + "]}\n").encode("utf-8", "surrogateescape")


def _tree_nodes(data: bytes) -> list[Any]:
    """A tree blob's `nodes`, each still its decoded JSON."""
    try:
        doc = json.loads(data)
        nodes = doc["nodes"] or []
        if not isinstance(nodes, list):
            raise TypeError(f"nodes is {type(nodes).__name__}, not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise TreeFormatError(f"invalid tree: {exc}") from exc
    except RecursionError as exc:  # JSON nested deeper than Python recurses (Go stops at 10,000)
        raise TreeFormatError("invalid tree: nested too deeply") from exc
    return nodes


def parse_tree(data: bytes) -> list[Node]:
    """Decode a tree blob written by restic or mamori, every node as stored (see `safe_nodes`)."""
    return [Node.from_dict(n) for n in _tree_nodes(data)]


def parse_tree_entries(data: bytes) -> tuple[list[Node], list[tuple[bytes, str]]]:
    """`parse_tree` that keeps the nodes it can decode: (those nodes, (name, reason) for each it
    cannot, e.g. a negative size). A reader that shows a folder shows the rest of it; writers of
    files (restore) and the checker refuse the whole tree as restic does. A name that is no valid
    quoted string is given as it was written."""
    nodes: list[Node] = []
    damaged: list[tuple[bytes, str]] = []
    for raw in _tree_nodes(data):
        try:
            nodes.append(Node.from_dict(raw))
        except TreeFormatError as exc:
            name = raw.get("name") if isinstance(raw, dict) else None
            try:
                written = go_unquote(name) if isinstance(name, str) else repr(name).encode()
            except ValueError:
                written = str(name).encode("utf-8", "surrogateescape")
            damaged.append((written, str(exc)))
    return nodes, damaged


def unsafe_name_reason(name: bytes) -> str | None:
    """Why a node name cannot be a file name below its directory, or None if it can.

    A tree comes from whoever can write to the repository: `..`, `/tmp/x` or `a/../../x` would
    lead a restore outside its target (restic refuses them as "invalid child node name").
    """
    if name in (b"", b".", b"..") or b"/" in name or b"\0" in name:
        return f'invalid child node name "{go_quote(name)}"'
    return None


def safe_nodes(nodes: Iterable[Node]) -> tuple[list[Node], list[str]]:
    """(nodes a reader may use as file names, one reason per refused node).

    Refused: unsafe names and a repeated name (a tree holds each name once; a symlink and a directory
    of the same name would let the second lead through the first). Writers of paths (restore, ls,
    find, dump) use only the first list; prune and copy keep every node of `parse_tree`.
    """
    kept: list[Node] = []
    refused: list[str] = []
    seen: set[bytes] = set()
    for node in nodes:
        reason = unsafe_name_reason(node.name)
        if reason is None and node.name in seen:
            reason = f'repeated child node name "{go_quote(node.name)}"'
        if reason is not None:
            refused.append(reason)
            continue
        seen.add(node.name)
        kept.append(node)
    return kept, refused


@dataclass(slots=True)
class Snapshot:
    """A snapshot document (restic `data.Snapshot`)."""

    time: GoTime
    tree: bytes
    paths: list[str]
    hostname: str = ""
    username: str = ""
    uid: int = 0
    gid: int = 0
    parent: bytes | None = None
    excludes: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    original: bytes | None = None
    program_version: str = ""
    summary: dict[str, Any] | None = None

    def to_json(self) -> bytes:
        """JSON in restic's field order with its omit-empty rules."""
        parts = [f'{{"time":"{self.time.format()}"']
        if self.parent is not None:
            parts.append(f',"parent":"{self.parent.hex()}"')
        parts.append(f',"tree":"{self.tree.hex()}","paths":{_str_list(self.paths)}')
        if self.hostname:
            parts.append(',"hostname":' + json_string(self.hostname))
        if self.username:
            parts.append(',"username":' + json_string(self.username))
        if self.uid:
            parts.append(f',"uid":{self.uid}')
        if self.gid:
            parts.append(f',"gid":{self.gid}')
        if self.excludes:
            parts.append(',"excludes":' + _str_list(self.excludes))
        if self.tags:
            parts.append(',"tags":' + _str_list(self.tags))
        if self.original is not None:
            parts.append(f',"original":"{self.original.hex()}"')
        if self.program_version:
            parts.append(',"program_version":' + json_string(self.program_version))
        if self.summary:
            parts.append(',"summary":' + json.dumps(self.summary, separators=(",", ":")))
        parts.append("}")
        return "".join(parts).encode("utf-8", "surrogateescape")

    @classmethod
    def from_json(cls, data: bytes) -> Snapshot:
        """Decode a snapshot document; TreeFormatError if it is not one."""
        try:
            doc = json.loads(data)
            parent = doc.get("parent")
            original = doc.get("original")
            return cls(
                time=GoTime.parse(doc["time"]),
                tree=bytes.fromhex(doc["tree"]),
                paths=[str(p) for p in doc.get("paths") or []],
                hostname=str(doc.get("hostname", "")),
                username=str(doc.get("username", "")),
                uid=int(doc.get("uid", 0)),
                gid=int(doc.get("gid", 0)),
                parent=bytes.fromhex(parent) if parent else None,
                excludes=[str(e) for e in doc.get("excludes") or []],
                tags=[str(t) for t in doc.get("tags") or []],
                original=bytes.fromhex(original) if original else None,
                program_version=str(doc.get("program_version", "")),
                summary=doc.get("summary"),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise TreeFormatError(f"invalid snapshot: {exc}") from exc


def _str_list(values: Sequence[str]) -> str:
    return "[" + ",".join(json_string(v) for v in values) + "]"
