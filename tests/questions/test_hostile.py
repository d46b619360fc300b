"""Hostile deck files are refused cheaply with a clear problem: size cap, alias and depth limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.questions import main
from bot.questions.importers.text import MAX_INPUT_BYTES
from bot.questions.loader import MAX_DEPTH, MAX_FILE_BYTES, load_decks

ALIAS_BOMB = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def refused(tmp_path: Path, content: bytes | str, message: str) -> str:
    """Load a hostile file; assert one problem containing message and no deck."""
    path = tmp_path / "hostile.yaml"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    result = load_decks(path)
    assert result.decks == []
    assert len(result.problems) == 1, [str(p) for p in result.problems]
    assert message in result.problems[0].message
    return str(result.problems[0])


def test_alias_bomb(tmp_path: Path) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(ALIAS_BOMB, encoding="utf-8")
    result = load_decks(path)
    assert result.decks == []
    aliases = [p for p in result.problems if "aliases (*name) are not allowed" in p.message]
    # Once per line, never expanded: the first alias of each of lines 2..9.
    assert [(p.line, p.col) for p in aliases] == [(n, 8) for n in range(2, 10)]
    # The other problems of the file are reported too, not hidden by the aliases.
    assert any("missing title" in p.message for p in result.problems)


def test_alias_does_not_hide_other_problems(tmp_path: Path) -> None:
    path = tmp_path / "deck.yaml"
    path.write_text(
        "name: demo\ntitle: Demo\nquestions:\n"
        "  - id: demo/a\n    prompt: &p Hello\n    answer: true\n"
        "  - id: demo/b\n    prompt: *p\n    answer: maybe\n",
        encoding="utf-8",
    )
    result = load_decks(path)
    assert result.decks == []
    assert [str(p).split(":", 1)[1] for p in result.problems] == [
        "8:13: aliases (*name) are not allowed in a deck file",
        "9:13: answer 'maybe': true or false",
    ]


def test_deep_nesting(tmp_path: Path) -> None:
    refused(tmp_path, "[" * 100_000, f"nested more than {MAX_DEPTH} levels deep")
    refused(tmp_path, "a:\n" + "".join("  " * i + "- x:\n" for i in range(1, 60)), "nested")


def test_binary_garbage(tmp_path: Path) -> None:
    line = refused(tmp_path, b"name: x\n\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data")
    assert ":4:1:" in line
    refused(tmp_path, b"name: \xff\xfe caf\xe9\n", "not UTF-8 text")
    refused(tmp_path, "name: \x07bell\n", "is not allowed in YAML")  # control characters


def test_huge_file_is_refused_before_parsing(tmp_path: Path) -> None:
    content = "questions:\n" + "  - id: x\n" * (MAX_FILE_BYTES // 10 + 1)
    line = refused(tmp_path, content, f"a deck file may be at most {MAX_FILE_BYTES:,}")
    assert ":1:1: file is" in line


def test_huge_import_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "page.txt"
    page.write_bytes(b"a" * (MAX_INPUT_BYTES + 1))
    assert main(["questions", "import", "text", str(page)]) == 1
    assert "an import may be at most 1,048,576" in capsys.readouterr().err
    page.write_bytes(b"\x00\x01binary")
    assert main(["questions", "import", "text", str(page)]) == 1
    assert "binary data" in capsys.readouterr().err


def test_validate_reports_hostile_file_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bomb.yaml").write_text(ALIAS_BOMB, encoding="utf-8")
    assert main(["questions", "validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "bomb.yaml:2:8: aliases" in out
