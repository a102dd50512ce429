"""Reading an evaluation document (YAML, or JSON which is YAML) without trusting it.

Every mapping and every item of a sequence remembers its line, so an import error can name it. Anchors and
aliases are allowed (a hand-written file may reuse a block), but the document as its aliases expand
must stay under `MAX_NODES`: a 369-byte "billion laughs" file would otherwise expand to gigabytes the
moment anything walks it. Values quoted in messages are cut to a short preview.
"""

from __future__ import annotations

import reprlib
from typing import Any

import yaml

#: nodes of the document with every alias expanded; the 300-program × 3-year benchmark has ~200,000
MAX_NODES = 2_000_000

_preview = reprlib.Repr()
_preview.maxstring = 60
_preview.maxother = 60
_preview.maxlist = _preview.maxdict = _preview.maxtuple = 4
_preview.maxlevel = 2


def preview(value: Any) -> str:
    """A short repr for error messages, however large or deep the value is."""
    return _preview.repr(value)


class Mapping(dict[str, Any]):
    """A YAML mapping that knows its first line (1-based)."""

    line: int | None = None


class Sequence(list[Any]):
    """A YAML sequence that knows the line of each of its items (1-based)."""

    lines: list[int]


class DocumentTooLargeError(ValueError):
    """The document, its aliases expanded, exceeds MAX_NODES (or is recursive); args[0] is the line."""


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Any:
    data = Mapping()
    data.line = node.start_mark.line + 1
    yield data
    data.update(loader.construct_mapping(node))


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> Any:
    data = Sequence()
    data.lines = [child.start_mark.line + 1 for child in node.value]
    yield data
    data.extend(loader.construct_sequence(node))


_Loader.add_constructor("tag:yaml.org,2002:map", _mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _sequence)


def _expanded_size(root: yaml.Node) -> int:
    """Nodes the document holds once every alias is expanded, counted without expanding anything.

    Depth-first with an explicit stack; a node met again while its own children are being counted
    is a recursive alias (`&a [*a]`), which is infinitely large.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = [c for item in node.value for c in (item if isinstance(item, tuple) else (item,))]
        if children_done:
            open_nodes.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[id(node)] > MAX_NODES:
                raise DocumentTooLargeError(node.start_mark.line + 1)
            continue
        if id(node) in open_nodes:
            raise DocumentTooLargeError(node.start_mark.line + 1)
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def parse(text: str) -> Any:
    """The document's data; `yaml.YAMLError` for bad syntax, `DocumentTooLargeError` (its line) for a bomb."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()
