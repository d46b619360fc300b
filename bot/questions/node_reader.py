"""Reading a deck file's YAML nodes as written, noting every problem at its line.

The generic half of the deck validator (bot/questions/schema.py holds the deck
format itself): mappings with known keys, text with length limits, math whose `$`
and braces balance, booleans and tag lists. Nothing is constructed from a tag.
"""

from __future__ import annotations

import re

import yaml

from bot.questions.checks import unbalanced_brace
from bot.questions.limits import MAX_PROMPT_LENGTH, TEXT_LIMIT_WHY
from bot.questions.problems import Problem
from bot.questions.yaml_nodes import block_indent, mark, shape, unknown_key
from bot.render.markup import line_col, scan

# The composer puts a node with this tag where an alias was: already reported, never read.
ALIAS_TAG = "tag:quizbot,2024:refused-alias"
BOOLEANS = {"true": True, "yes": True, "false": False, "no": False}
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}"
    for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")
)


def is_alias(node: yaml.Node) -> bool:
    """The placeholder of a refused alias: reported once by the loader, then skipped."""
    return node.tag == ALIAS_TAG


class NodeReader:
    """Reads values out of one file's nodes; `problems` and `warnings` collect the rest."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def problem(self, node: yaml.Node | None, message: str) -> None:
        """Note a problem at a node (or at the top of the file)."""
        line, col = mark(node)
        self.problems.append(Problem(self.path, line, col, message))

    def mapping(
        self, node: yaml.Node, keys: tuple[str, ...], what: str
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """The entries of a mapping by key; unknown and repeated keys are problems."""
        entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if is_alias(key_node):
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, f"a key in {what} must be a plain word")
                continue
            key = key_node.value
            if key in entries:
                first, _ = mark(entries[key][0])
                self.problem(key_node, f"{what}: key {key!r} repeated (first on line {first})")
                continue
            if key not in keys:
                self.problem(key_node, unknown_key(key, keys, what))
                continue
            self.check_tag(value_node)
            entries[key] = (key_node, value_node)
        return entries

    def check_tag(self, node: yaml.Node) -> None:
        """Only plain YAML types: a `!!python/...` or custom tag is refused, never run."""
        if node.tag not in _PLAIN_TAGS and node.tag != ALIAS_TAG:
            self.problem(node, f"tag {node.tag!r} is not allowed in a deck file")

    def text(self, node: yaml.Node, what: str, limit: int | None = None) -> str | None:
        """A scalar as the text written; None (with a problem) for a list or mapping."""
        if node.tag not in _PLAIN_TAGS:
            return None  # already reported by check_tag
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, f"{what} must be text, not a {shape(node)}")
            return None
        value = "" if node.tag.endswith(":null") else str(node.value).strip()
        if limit is not None and len(value) > limit:
            why = f" ({TEXT_LIMIT_WHY})" if limit == MAX_PROMPT_LENGTH else ""
            self.problem(node, f"{what} is {len(value):,} characters: at most {limit:,}{why}")
        return value

    def math(self, node: yaml.Node, text: str, what: str) -> None:
        """Every `$` or `$$` that opens math must close it, and braces inside math pair up."""
        spans, unbalanced = scan(text)
        if unbalanced is not None:
            self.problems.append(
                self._at_offset(
                    node,
                    text,
                    unbalanced.offset,
                    f"{what}: unbalanced {unbalanced.delimiter}: math is opened and never "
                    "closed (write \\$ for a dollar sign)",
                )
            )
        for span in spans:
            if span.math:
                brace = unbalanced_brace(span.text)
                if brace is not None:
                    message = f"{what}: unbalanced {brace[1]} in the math ${span.text}$"
                    self.problems.append(self._at_offset(node, text, span.start, message))

    def _at_offset(self, node: yaml.Node, text: str, offset: int, message: str) -> Problem:
        """A problem at a character of a scalar's value (exact inside a literal block)."""
        line, col = mark(node)
        if isinstance(node, yaml.ScalarNode) and node.style == "|":
            # In a literal block the value's lines are the file's lines: point at the `$`.
            at_line, at_col = line_col(text, offset)
            line = node.start_mark.line + 2 + at_line
            col = at_col + 1 + block_indent(node)
        return Problem(self.path, line, col, message)

    def boolean(self, node: yaml.Node, what: str, default: bool) -> bool:
        """A true/false setting (true, false, yes, no)."""
        raw = self.text(node, what)
        value = BOOLEANS.get((raw or "").lower())
        if value is None:
            if raw is not None:
                self.problem(node, f"{what} {raw!r}: true or false")
            return default
        return value

    def optional_text(
        self, entries: dict[str, tuple[yaml.Node, yaml.Node]], key: str, limit: int | None = None
    ) -> str | None:
        """An optional text field, math checked."""
        if key not in entries:
            return None
        node = entries[key][1]
        value = self.text(node, key, limit)
        if value and key in ("explanation", "title"):
            self.math(node, value, key)
        return value

    def tags(self, entry: tuple[yaml.Node, yaml.Node] | None) -> tuple[str, ...]:
        """Tags as a list of words (a single word is one tag)."""
        if entry is None:
            return ()
        node = entry[1]
        if isinstance(node, yaml.ScalarNode):
            value = self.text(node, "tags")
            if value and re.search(r"[,\s]", value):
                words = ", ".join(w for w in re.split(r"[,\s]+", value) if w)
                self.problem(node, f"tags {value!r} is one piece of text: write a list, [{words}]")
                return ()
            return (value,) if value else ()
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, "tags must be a list, e.g. [cnn, pooling]")
            return ()
        tags: list[str] = []
        for item in node.value:
            value = self.text(item, "a tag")
            if value:
                tags.append(value)
        return tuple(dict.fromkeys(tags))
