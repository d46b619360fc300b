"""Math in chat: LaTeX between `$...$` made into Unicode text, or into a PNG where text falls short.

Neither Discord nor Slack renders LaTeX. pylatexenc parses the formula and knows
what most macros mean as text (`\\hat{y}` -> ŷ, `\\log` -> log); unicodeit knows
the Unicode sub- and superscripts (`_2^2` -> ₂²) and the symbols pylatexenc
leaves blank (`\\|` -> ‖). This module only decides the layout both lack:
fractions as `a/b`, scripts that have no Unicode form as `x_cat`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import unicodeit
from pylatexenc import latexwalker
from pylatexenc.latex2text import LatexNodes2Text

from bot.render.markup import scan

THEMES: dict[str, tuple[str, str]] = {
    # (background, text): Discord's and Slack's message backgrounds, with text at
    # over 12:1 contrast on each, so the picture reads like the message around it.
    "dark": ("#2b2d31", "#f2f3f5"),
    "light": ("#ffffff", "#1e1f22"),
}

_TO_TEXT = LatexNodes2Text(math_mode="text", strict_latex_spaces=False)
_CONTEXT = _TO_TEXT.latex_context

_FRACTIONS = frozenset({"frac", "dfrac", "tfrac", "cfrac"})
# Sizing and pairing macros only change how a delimiter is drawn, not what it is.
_DELIMITER_SIZING = frozenset(
    {"left", "right", "middle", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr"}
)
# Operators whose limits go above and below: squeezed into a line they mislead.
_BIG_OPERATORS = frozenset(
    {"sum", "prod", "coprod", "int", "iint", "iiint", "oint", "lim", "bigcup", "bigcap"}
)
# Differentials bind to the next symbol: "\\partial x" reads "∂x", not "∂ x".
_PREFIXES = frozenset({"partial", "nabla"})
# A part of a fraction that contains one of these needs parentheses on one line.
_COMPOUND = re.compile(r"[\s+\-−=<>≤≥±∓·×/,]")
_DOUBLE_BAR = re.compile(r"(?<!\\)\|\|")
_SPACE = re.compile(r"\s+")
_NO_BREAK = "\x00"
_MAX_WIDTH = 64  # characters per line in a picture, about the width of a chat message


class _Renderer:
    """Turns one formula into text, noting whether the text lost its structure."""

    def __init__(self) -> None:
        self.lossy = False

    def formula(self, latex: str) -> str:
        """The Unicode text of a LaTeX formula (without its dollar signs)."""
        # "||x||" is how people type a norm; LaTeX would draw two single bars.
        latex = _DOUBLE_BAR.sub(r"\\|", latex)
        walker = latexwalker.LatexWalker(latex, tolerant_parsing=True)
        state = walker.make_parsing_state(in_math_mode=True)
        nodes, _, _ = walker.get_latex_nodes(parsing_state=state)
        return _SPACE.sub(" ", self.nodes(nodes)).strip()

    def nodes(self, nodelist: Sequence[Any] | None) -> str:
        """Text of a node list, with `_` and `^` applied to the item after them."""
        items: list[Any] = []
        for node in nodelist or ():
            if node is None:
                continue
            if node.isNodeType(latexwalker.LatexCharsNode):
                items.extend(node.chars)
            else:
                items.append(node)
        pieces: list[str] = []
        i = 0
        while i < len(items):
            item = items[i]
            if isinstance(item, str) and item in "_^":
                j = i + 1
                while j < len(items) and isinstance(items[j], str) and items[j].isspace():
                    j += 1
                if j == len(items):
                    pieces.append(item)
                    break
                body = items[j] if isinstance(items[j], str) else self.node(items[j])
                if (len(body.strip()) > 1 or item == "^") and _is_big_operator(items[:i]):
                    self.lossy = True  # "∑ᵢ₌₁ⁿ" is a range squeezed beside the sign
                pieces.append(_script(item, body))
                if getattr(items[j], "macro_post_space", ""):
                    pieces.append(" ")  # "\nabla_\theta J" reads "∇_θ J"
                i = j + 1
                continue
            if isinstance(item, str):
                j = i
                while j < len(items) and isinstance(items[j], str) and items[j] not in "_^":
                    j += 1
                pieces.append(unicodeit.replace("".join(items[i:j])))
                i = j
                continue
            if _macro_name(item) in _DELIMITER_SIZING:
                # "\left." is an invisible delimiter: drop the dot with the macro.
                if i + 1 < len(items) and items[i + 1] == ".":
                    i += 1
                i += 1
                continue
            following = items[i + 1] if i + 1 < len(items) else None
            if _is_unknown_wrapper(item, following):
                # "\operatorname{ReLU}" where the parser does not know the macro takes
                # no argument: the group after it is the text to show.
                i += 1
                continue
            text = self.node(item)
            pieces.append(text)
            if getattr(item, "macro_post_space", "") and text and item.macroname not in _PREFIXES:
                # The space that ends a macro name reads as typed ("\beta \leq \log x"),
                # except after a differential, which binds to what follows ("∂x").
                pieces.append(" ")
            i += 1
        return "".join(pieces)

    def node(self, node: Any) -> str:
        """Text of one node that is not plain characters."""
        if node.isNodeType(latexwalker.LatexGroupNode):
            return self.nodes(node.nodelist)
        if node.isNodeType(latexwalker.LatexMacroNode):
            return self.macro(node)
        if node.isNodeType(latexwalker.LatexEnvironmentNode):
            # A matrix or a case split has no one-line form that reads well.
            self.lossy = True
            return "[" + self.nodes(node.nodelist) + "]"
        if node.isNodeType(latexwalker.LatexSpecialsNode):
            return ", " if node.specials_chars == "&" else " "
        if node.isNodeType(latexwalker.LatexCommentNode):
            return ""
        if node.isNodeType(latexwalker.LatexMathNode):
            return self.nodes(node.nodelist)
        return str(_TO_TEXT.node_to_text(node))

    def macro(self, node: Any) -> str:
        """Text of a macro: fractions and roots laid out here, the rest by the libraries."""
        name = node.macroname
        args = [a for a in (node.nodeargd.argnlist if node.nodeargd else ()) if a is not None]
        if name in _FRACTIONS and len(args) == 2:
            top, bottom = (self.node(a).strip() for a in args)
            return f"{self._operand(top)}/{self._operand(bottom)}"
        if name == "sqrt" and args:
            if len(args) > 1:
                self.lossy = True  # an n-th root: "³√x" has no general Unicode form
            return "√" + self._operand(self.node(args[-1]).strip())
        if name == "\\":
            return "; "
        if _CONTEXT.get_macro_spec(name) is not None:
            text = str(_TO_TEXT.node_to_text(node))
            if text.strip() or name in (",", ";", ":", "!", "quad", "qquad", " "):
                return text
        symbol = unicodeit.replace(node.latex_verbatim())
        # unicodeit matches prefixes ("\log" -> "łog"): trust it only for a whole symbol.
        if "\\" not in symbol and not re.search(r"[A-Za-z]", symbol):
            return str(symbol)
        if args:
            return "".join(self.node(a) for a in args)
        self.lossy = True
        return name if name.isalpha() else ""

    def _operand(self, text: str) -> str:
        """A fraction part or a root's radicand, parenthesized when it is more than one term."""
        if _COMPOUND.search(text) or "/" in text:
            self.lossy = True
            return f"({text})"
        return text


def _macro_name(item: Any) -> str | None:
    """The name of a macro node, None for anything else."""
    if isinstance(item, str) or not item.isNodeType(latexwalker.LatexMacroNode):
        return None
    return str(item.macroname)


def _is_unknown_wrapper(item: Any, following: Any) -> bool:
    """Whether item is a macro neither library knows, followed by a `{...}` group."""
    name = _macro_name(item)
    if name is None or (item.nodeargd is not None and item.nodeargd.argnlist):
        return False
    if _CONTEXT.get_macro_spec(name) is not None or not name.isalpha():
        return False
    return not isinstance(following, str) and bool(
        following is not None and following.isNodeType(latexwalker.LatexGroupNode)
    )


def _is_big_operator(before: list[Any]) -> bool:
    """Whether the scripts after these items belong to a sum, integral or limit."""
    for item in reversed(before):
        if isinstance(item, str) and item in "_^":
            continue
        if not isinstance(item, str) and _macro_name(item) is None:
            continue  # the other script's group, as in "\sum_{i=1}^{n}"
        return _macro_name(item) in _BIG_OPERATORS
    return False


def _script(kind: str, body: str) -> str:
    """A subscript or superscript: Unicode if every character has a form, else `x_cat`."""
    body = body.strip()
    converted = str(unicodeit.replace(f"{kind}{{{body}}}"))
    if kind not in converted and "{" not in converted:
        return converted
    if (
        len(body) <= 1
        or (body.isascii() and body.isalnum())
        or (body[0] in "([" and body[-1] in ")]")
    ):
        return kind + body
    return f"{kind}({body})"


def _formula_text(latex: str, renderer: _Renderer | None = None) -> str:
    """Unicode text for one formula."""
    return (renderer or _Renderer()).formula(latex)


def to_chat_text(text: str) -> str:
    """Markdown with `$...$` math -> the same Markdown with the math as Unicode text."""
    spans, _ = scan(text)
    out: list[str] = []
    for span in spans:
        if span.math:
            out.append(_formula_text(span.text))
        else:
            out.append(span.text.replace("\\$", "$"))
    return "".join(out)


def needs_image(text: str) -> bool:
    """Whether the Unicode text of this prompt loses structure, so a picture should go with it."""
    spans, unbalanced = scan(text)
    if unbalanced is not None:
        return False  # not valid math: nothing a picture could show better
    renderer = _Renderer()
    for span in spans:
        if span.math:
            renderer.formula(span.text)
    return renderer.lossy


def _mathtext_ok(latex: str) -> bool:
    """Whether matplotlib's mathtext can draw this formula."""
    from matplotlib.mathtext import MathTextParser

    try:
        MathTextParser("path").parse(f"${latex}$")
    except (ValueError, RuntimeError):
        return False
    return True


def _picture_source(text: str) -> str:
    """The prompt as matplotlib text: wrapped lines, math that mathtext can draw kept as math."""
    lines: list[str] = []
    for paragraph in text.replace("**", "").split("\n"):
        spans, unbalanced = scan(paragraph)
        parts: list[str] = []
        for span in spans:
            if span.math and unbalanced is None:
                latex = _DOUBLE_BAR.sub(r"\\Vert ", " ".join(span.text.split()))
                # Display-size fractions: inline ones are too small to read in a chat picture.
                latex = re.sub(r"\\frac(?![A-Za-z])", r"\\dfrac", latex)
                if _mathtext_ok(latex):
                    # Spaces inside a formula must not become places to wrap the line.
                    parts.append(f"${latex}$".replace(" ", _NO_BREAK))
                    continue
                parts.append(_formula_text(span.text).replace(" ", _NO_BREAK))
            else:
                # A lone "$" would switch matplotlib into math mode.
                parts.append(span.text.replace("\\$", "$").replace("$", r"\$"))
        words = "".join(parts).split(" ")
        lines.extend(line.replace(_NO_BREAK, " ") for line in _wrap(words) or [""])
    return "\n".join(lines).strip("\n") or " "


def _wrap(words: list[str]) -> list[str]:
    """Greedy wrapping that never splits a formula."""
    lines: list[str] = []
    current = ""
    for word in words:
        if not word:
            continue
        visible = len(current) + 1 + _visible_length(word)
        if current and visible > _MAX_WIDTH:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


def _visible_length(word: str) -> int:
    """Rough width of a word once drawn: a formula is shorter than its source."""
    return len(re.sub(r"\\[A-Za-z]+|[{}_^$]", "x", word.replace(_NO_BREAK, " ")))


def render_math_png(text: str, theme: str = "dark") -> bytes:
    """A PNG of the prompt with its math typeset, colored for a "dark" or "light" chat theme."""
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}: use one of {', '.join(THEMES)}")
    # Imported here: matplotlib takes a noticeable time to import and only pictures need it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    background, foreground = THEMES[theme]
    figure = Figure(figsize=(6, 1), dpi=150)
    canvas = FigureCanvasAgg(figure)
    renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
    height = figure.get_figheight() * figure.dpi
    top = 1.0
    # One text per line, each placed under the last one's measured height: a shared
    # line spacing would let a tall fraction overlap the line above it.
    for line in _picture_source(text).split("\n"):
        artist = figure.text(
            0.0, top, line or " ", va="top", ha="left", fontsize=13, color=foreground
        )
        top -= (artist.get_window_extent(renderer=renderer).height + 8) / height
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight", pad_inches=0.2, facecolor=background)
    return buffer.getvalue()
