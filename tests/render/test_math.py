"""Math for chat: every expression of the seed page, the shipped decks, and the PNG pictures."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from matplotlib.image import imread

from bot.questions.loader import load_decks
from bot.render import THEMES, needs_image, render_math_png, to_chat_text
from bot.render.markup import scan

SHIPPED = Path(__file__).resolve().parents[2] / "questions"

# Every formula of the seed page, bare ones as the importer wraps them.
SEED_EXPRESSIONS = [
    (r"$\frac{\partial \mathcal{L}}{\partial x}$", "∂ℒ/∂x"),
    (r"$\mathcal{L}$", "ℒ"),
    (r"$\hat{y}$", "ŷ"),
    (r"$x_{cat}$", "x_cat"),
    (r"$x_{iguana}$", "x_iguana"),
    (r"$y_{cat}$", "y_cat"),
    (r"$y_{iguana}$", "y_iguana"),
    (r"$||x - x_{cat}||_2^2$", "‖x − x_cat‖₂²"),
    (
        r"$L = ||x - x_{cat}||_2^2 + ||\hat{y} - y_{iguana}||_2^2$",
        "L = ‖x − x_cat‖₂² + ‖ŷ − y_iguana‖₂²",
    ),
    (
        r"$L = ||x - x_{iguana}||_2^2 + ||\hat{y} - y_{cat}||_2^2$",
        "L = ‖x − x_iguana‖₂² + ‖ŷ − y_cat‖₂²",
    ),
    (
        r"$L = ||x - x_{cat}||_2^2 - ||\hat{y} - y_{iguana}||_2^2$",
        "L = ‖x − x_cat‖₂² − ‖ŷ − y_iguana‖₂²",
    ),
    (
        r"$L = ||x - x_{iguana}||_2^2 - ||\hat{y} - y_{cat}||_2^2$",
        "L = ‖x − x_iguana‖₂² − ‖ŷ − y_cat‖₂²",
    ),
]


@pytest.mark.parametrize(("latex", "text"), SEED_EXPRESSIONS)
def test_seed_expressions(latex: str, text: str) -> None:
    assert to_chat_text(latex) == text
    assert not needs_image(latex)  # all of the seed reads well as text


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (
            r"What is the meaning of $\frac{\partial \mathcal{L}}{\partial x}$?",
            "What is the meaning of ∂ℒ/∂x?",
        ),
        (r"$\sigma(z) = \frac{1}{1 + e^{-z}}$", "σ(z) = 1/(1 + e⁻ᶻ)"),
        (r"$\theta \leftarrow \theta - \eta \nabla_\theta \mathcal{L}$", "θ ← θ − η ∇_θ ℒ"),
        (r"$\alpha + \beta \leq \log x$", "α + β ≤ log x"),
        (r"$W^{[l]} a^{[l-1]}$", "W^[l] a^[l−1]"),
        (r"$\operatorname{ReLU}(z) = \max(0, z)$", "ReLU(z) = max(0, z)"),
        (r"$x^{(i)}$ and $\beta_1^t$", "x⁽ⁱ⁾ and β₁ᵗ"),
        (r"**bold** costs \$5, `a $b` stays", "**bold** costs $5, `a $b` stays"),
        (r"$$\sum_{i=1}^{n} x_i$$", "∑ᵢ₌₁ⁿ xᵢ"),
        ("no math at all", "no math at all"),
    ],
)
def test_to_chat_text(source: str, text: str) -> None:
    assert to_chat_text(source) == text


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (r"$\frac{\partial \mathcal{L}}{\partial x}$", False),
        (r"$\frac{1}{1 + e^{-z}}$", True),  # a fraction that needs parentheses
        (r"$\sum_{i=1}^{n} x_i$", True),  # a sum with limits
        (r"$\lambda \sum_j w_j^2$", False),
        (r"$\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}$", True),
        (r"$\sqrt[3]{x}$", True),
        ("plain text", False),
        ("unbalanced $x", False),
    ],
)
def test_needs_image(source: str, expected: bool) -> None:
    assert needs_image(source) is expected


def test_shipped_decks_render_to_clean_text() -> None:
    result = load_decks(SHIPPED)
    assert result.decks
    for deck in result.decks:
        for question in deck.questions:
            texts = [question.prompt, question.explanation, *(c.text for c in question.choices)]
            for text in texts:
                rendered = to_chat_text(text)
                # No LaTeX left over: a macro or a brace group would show raw in chat.
                leftovers = [m for m in ("\\", "{", "}") if m in rendered.replace(r"\{", "")]
                assert not leftovers or "∈ {0, 1}" in rendered, (question.id, rendered)


def _pixels(png: bytes) -> tuple[tuple[float, ...], set[tuple[float, ...]]]:
    """The corner color and the set of colors of a PNG."""
    image = imread(io.BytesIO(png), format="png")
    corner = tuple(round(float(v), 2) for v in image[0, 0][:3])
    colors = {tuple(round(float(v), 1) for v in px[:3]) for row in image[::4] for px in row[::4]}
    return corner, colors


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_png_for_each_theme(theme: str) -> None:
    prompt = (
        r"Minimize $L = ||x - x_{cat}||_2^2 + ||\hat{y} - y_{iguana}||_2^2$"
        r" over $\frac{\partial \mathcal{L}}{\partial x}$"
    )
    png = render_math_png(prompt, theme)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    corner, colors = _pixels(png)
    background = THEMES[theme][0]
    expected = tuple(round(int(background[i : i + 2], 16) / 255, 2) for i in (1, 3, 5))
    assert corner == expected
    # Text is drawn in the theme's text color: there are pixels far from the background.
    brightness = sum(expected) / 3
    assert any(abs(sum(c) / 3 - brightness) > 0.5 for c in colors)


def test_png_falls_back_for_what_mathtext_cannot_draw() -> None:
    png = render_math_png(r"$\begin{pmatrix} 1 & 2 \end{pmatrix}$ costs \$5 and $", "light")
    assert png.startswith(b"\x89PNG")
    assert render_math_png("").startswith(b"\x89PNG")


def test_unknown_theme() -> None:
    with pytest.raises(ValueError, match="unknown theme"):
        render_math_png("x", "sepia")


def test_scan_spans() -> None:
    spans, unbalanced = scan(r"a $x$ b $$y$$ c \$ `$` $z")
    assert [(s.text, s.math, s.display) for s in spans][:5] == [
        ("a ", False, False),
        ("x", True, False),
        (" b ", False, False),
        ("y", True, True),
        (r" c \$ `$` ", False, False),
    ]
    assert unbalanced is not None and unbalanced.delimiter == "$"
