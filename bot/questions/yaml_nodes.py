"""Where a YAML node is, and how to name it, for the deck validator's messages."""

from __future__ import annotations

import difflib

import yaml


def mark(node: yaml.Node | None) -> tuple[int, int]:
    """1-based line and column where a node starts."""
    if node is None:
        return 1, 1
    return node.start_mark.line + 1, node.start_mark.column + 1


def block_indent(node: yaml.ScalarNode) -> int:
    """The indentation of a literal block's text, read from its first line in the file."""
    buffer = node.start_mark.buffer
    if not buffer:
        return 0
    lines = str(buffer).split("\n")
    first = node.start_mark.line + 1
    if first >= len(lines):
        return 0
    line = lines[first]
    return len(line) - len(line.lstrip(" "))


def shape(node: yaml.Node) -> str:
    """ "list", "mapping" or "text", for messages."""
    if isinstance(node, yaml.SequenceNode):
        return "list"
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    return "text"


def unknown_key(key: str, keys: tuple[str, ...], what: str) -> str:
    """An unknown-key message with a "did you mean" when a known key is close."""
    close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(keys)})"
    return f"{what}: unknown key {key!r}{hint}"
