"""`.env.example` and the README's settings table, written from the declaration in bot/config.py.

    python -m bot.ops.settings_docs --write   # rewrite both after changing a setting
    python -m bot.ops.settings_docs --check   # exit 1 if either is out of date

tests/ops/test_settings.py runs the check, so the committed files cannot drift.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from bot.config import DISCORD, GENERAL, SETTINGS, SLACK, SettingSpec

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 89  # of a comment line, "# " included

_HEADER = """\
quizbot settings. Copy this file to .env and fill in the tokens of your platform:

    cp .env.example .env

The bot reads .env from its working directory (the environment wins over it), and
`docker compose` reads it too. An empty value means "use the default". Every line
below shows the default. Check the result with `quizbot doctor` (add `--online`
to have Discord or Slack check the tokens too).

This file is written by `python -m bot.ops.settings_docs --write` from bot/config.py:
change a setting there, not here."""

# Read by docker compose only, never by the bot, so not in Settings: (name, default, comment).
COMPOSE_ONLY: tuple[tuple[str, str, str], ...] = (
    (
        "PLATFORM",
        "discord",
        "Which bot the `bot` service runs: discord or slack (Slack Socket Mode; for Slack HTTP "
        "mode run the slack-http profile instead, see the README).",
    ),
    (
        "POSTGRES_PASSWORD",
        "quizbot",
        "Password of the PostgreSQL service. Change it before the first `docker compose up`: "
        "the database volume keeps the password it was created with.",
    ),
    (
        "SLACK_HTTP_PORT",
        "3000",
        "Host port that publishes Slack HTTP mode (the slack-http profile).",
    ),
)

SECTIONS = {
    GENERAL: "the bot",
    DISCORD: "Discord (see docs/discord.md)",
    SLACK: "Slack (see docs/slack.md)",
}

_TABLE_HEAD = "| setting | default | meaning |\n|---|---|---|\n"


def _comment(text: str) -> list[str]:
    return [f"# {line}" if line else "#" for line in _wrap(text)]


def _wrap(text: str) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if paragraph.startswith("    ") or not paragraph:
            lines.append(paragraph)  # an indented command stays as written
        else:
            lines.extend(textwrap.wrap(paragraph, WIDTH - 2, break_on_hyphens=False))
    return lines


def _rule(title: str) -> str:
    head = f"# ---- {title} "
    return head + "-" * (WIDTH - len(head))


def _assignment(name: str, default: str, comment: str) -> list[str]:
    return [*_comment(comment), f"{name}={default}"]


def env_example(specs: Sequence[SettingSpec] = SETTINGS) -> str:
    """The text of .env.example: every setting with its comment and default."""
    lines = [
        *_comment(_HEADER),
        "",
        _rule("docker compose only (the bot itself does not read these)"),
    ]
    lines.append("")
    for name, default, comment in COMPOSE_ONLY:
        lines.extend(_assignment(name, default, comment))
    for group, title in SECTIONS.items():
        lines.extend(["", _rule(title)])
        for i, spec in enumerate(s for s in specs if s.group == group):
            # the general settings each stand alone; a platform's read as one block
            if group == GENERAL or i == 0:
                lines.append("")
            lines.extend(_assignment(spec.name, spec.default, spec.note))
    return "\n".join(lines) + "\n"


def settings_table(specs: Sequence[SettingSpec] = SETTINGS) -> str:
    """The README's settings table, in Markdown."""
    rows = [
        f"| `{s.name}` | {f'`{s.default}`' if s.default else '(unset)'} | {s.help} |" for s in specs
    ]
    return _TABLE_HEAD + "\n".join(rows) + "\n"


def readme_with_table(readme: str, table: str | None = None) -> str:
    """The README with its settings table (the one under `## Settings`) replaced."""
    table = settings_table() if table is None else table
    head, marker, rest = readme.partition("## Settings\n")
    if not marker:
        raise ValueError("README.md has no '## Settings' section")
    start = rest.index(_TABLE_HEAD)
    end = rest.find("\n\n", start)
    end = len(rest) if end == -1 else end + 1
    return head + marker + rest[:start] + table + rest[end:]


def derived_files(root: Path = ROOT) -> dict[Path, str]:
    """Each derived file and the text it should have."""
    readme = root / "README.md"
    return {
        root / ".env.example": env_example(),
        readme: readme_with_table(readme.read_text(encoding="utf-8")),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Write or check the derived files; 1 if `--check` finds one out of date."""
    parser = argparse.ArgumentParser(prog="python -m bot.ops.settings_docs")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="rewrite the derived files")
    action.add_argument("--check", action="store_true", help="exit 1 if one is out of date")
    args = parser.parse_args(argv)
    stale = []
    for path, text in derived_files().items():
        if path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if args.write:
                path.write_text(text, encoding="utf-8")
    for path in stale:
        verb = "wrote" if args.write else "out of date:"
        print(f"{verb} {path.relative_to(ROOT)}", file=sys.stderr)
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
