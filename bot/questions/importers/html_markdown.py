"""HTML (Moodle XML, GIFT's [html], Open Trivia DB) as the project's Markdown, and TeX delimiters.

Only what question text uses is converted: paragraphs and line breaks, bold,
italic, code, lists and links; images and other tags keep their text only.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = {"p", "div", "ul", "ol", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre"}
_INLINE = {"b": "**", "strong": "**", "i": "*", "em": "*", "code": "`", "tt": "`"}
_INLINE_MATH = re.compile(r"\\\((.+?)\\\)", re.DOTALL)
_DISPLAY_MATH = re.compile(r"\\\[(.+?)\\\]", re.DOTALL)


class _Converter(HTMLParser):
    """Collects Markdown while walking the HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self.lists: list[list[int]] = []  # [next number] per <ol>, [] per <ul>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open a construct."""
        if tag in _BLOCKS:
            self.parts.append("\n\n")
        if tag == "ol":
            self.lists.append([1])
        elif tag == "ul":
            self.lists.append([])
        elif tag == "li":
            marker = "- "
            if self.lists and self.lists[-1]:
                marker = f"{self.lists[-1][0]}. "
                self.lists[-1][0] += 1
            self.parts.append("\n" + marker)
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _INLINE:
            self.parts.append(_INLINE[tag])
        elif tag == "a":
            self.links.append(dict(attrs).get("href") or "")
            self.parts.append("[")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(f"[image: {alt}]")

    def handle_endtag(self, tag: str) -> None:
        """Close a construct."""
        if tag in ("ol", "ul") and self.lists:
            self.lists.pop()
        if tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag in _INLINE:
            self.parts.append(_INLINE[tag])
        elif tag == "a" and self.links:
            href = self.links.pop()
            self.parts.append(f"]({href})" if href else "]")

    def handle_data(self, data: str) -> None:
        """Text, with HTML's runs of white space collapsed."""
        self.parts.append(re.sub(r"\s+", " ", data))


def tex_delimiters_to_dollars(text: str) -> str:
    """`\\(x\\)` as `$x$` and `\\[x\\]` as `$$x$$`; `$$x$$` is already the project's form."""
    text = _DISPLAY_MATH.sub(lambda m: f"$${m.group(1).strip()}$$", text)
    return _INLINE_MATH.sub(lambda m: f"${m.group(1).strip()}$", text)


def escape_dollars(text: str) -> str:
    """A `$` alone is a dollar sign in HTML text; `$$` (Moodle's TeX filter) stays math."""
    return re.sub(r"(?<![$\\])\$(?!\$)", r"\\$", text)


def html_to_markdown(html: str) -> str:
    """HTML question text as Markdown with `$` math."""
    converter = _Converter()
    converter.feed(html)
    converter.close()
    text = "".join(converter.parts)
    lines = [line.strip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return tex_delimiters_to_dollars(escape_dollars(text))
