"""`quizbot play` with wrong answers, then `quizbot review`: the missed questions come
back first, their due dates move as fsrs says, and nothing is due right after."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fsrs
from sqlalchemy import select

from bot.adapters.console.review import ReviewOptions, review_game
from bot.config import Settings
from bot.core.clock import ManualClock
from bot.store import SqlStore
from bot.store.tables import PlayerRow, StudyCardRow, StudyReviewRow
from tests.console.test_console_play import CHOICE, DECK, quizbot
from tests.study.helpers import fsrs_after

PROMPT = re.compile(r"^Pick the (\w+) right one\.$")


class RightAnswers(io.StringIO):
    """Input that answers each review question right, reading the choices from `out`."""

    def __init__(self, out: io.StringIO, wrong_first: set[str] | None = None) -> None:
        super().__init__()
        self.out = out
        self.wrong_first = wrong_first or set()

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        block = self.out.getvalue().rsplit("━━ Review ", 1)[-1].splitlines()
        prompt = next(line for line in block if PROMPT.match(line))
        want = "wrong" if prompt in self.wrong_first else "right"
        self.wrong_first.discard(prompt)
        for line in block:
            if (m := CHOICE.match(line)) and m.group(2).startswith(want):
                return m.group(1).lower() + "\n"
        raise AssertionError(f"no {want} choice in {block}")


def deck_settings(tmp_path: Path, name: str, deck: str) -> Settings:
    """Settings of a SQLite database in `tmp_path`, with one deck there."""
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / f"{name}.yaml").write_text(deck)
    url = f"sqlite+aiosqlite:///{tmp_path / 'quiz.db'}"
    return Settings(database_url=url, questions_dir=tmp_path / "decks")


def offered(out: str) -> list[str]:
    """The prompts a review showed, in order."""
    return [line for line in out.splitlines() if PROMPT.match(line)]


def play_with_misses(tmp_path: Path) -> list[str]:
    """Play the trio deck as ann: wrong, right, wrong. Returns the prompts in order."""
    game = quizbot(
        tmp_path, "play", "--deck", "trio", "--questions", "3", "--scoring", "accuracy",
        "--player", "ann", "--seed", "5", stdin=subprocess.PIPE,
    )  # fmt: skip
    assert game.stdin is not None and game.stdout is not None
    prompts: list[str] = []
    choices: dict[str, str] = {}
    for line in game.stdout:
        line = line.rstrip("\n")
        if PROMPT.match(line):
            prompts.append(line)
        elif match := CHOICE.match(line):
            choices[match.group(2)] = match.group(1)
        elif line.startswith("(Pick one"):
            wanted = "right" if len(prompts) == 2 else "wrong"
            letter = next(key for text, key in choices.items() if text.startswith(wanted))
            game.stdin.write(letter.lower() + "\n")
            game.stdin.flush()
            choices.clear()
            if len(prompts) == 3:
                game.stdin.close()
    assert game.wait(timeout=60) == 0, game.stderr.read() if game.stderr else ""
    return prompts


async def ann_cards(url: str) -> tuple[dict[str, datetime], dict[str, list[tuple[int, datetime]]]]:
    """ann's cards' due times and each card's log of (rating, time), by question id."""
    store = SqlStore.from_url(url)
    try:
        async with store.engine.connect() as conn:
            ann = (
                await conn.execute(select(PlayerRow.id).where(PlayerRow.external_id == "ann"))
            ).scalar_one()
            cards = await conn.execute(
                select(StudyCardRow.question_id, StudyCardRow.due).where(
                    StudyCardRow.player_id == ann
                )
            )
            logs = await conn.execute(
                select(
                    StudyReviewRow.question_id,
                    StudyReviewRow.players,
                    StudyReviewRow.ratings,
                    StudyReviewRow.reviewed_at,
                ).order_by(StudyReviewRow.id)
            )
            history: dict[str, list[tuple[int, datetime]]] = {}
            for qid, players, ratings, at in logs:
                for player, rating in zip(players, ratings, strict=True):
                    if player == ann:
                        history.setdefault(qid, []).append((rating, at))
            return {qid: due for qid, due in cards}, history
    finally:
        await store.close()


async def test_play_with_misses_then_review_offers_exactly_the_missed(tmp_path: Path) -> None:
    settings = deck_settings(tmp_path, "trio", DECK)
    prompts = play_with_misses(tmp_path)
    before, history = await ann_cards(settings.database_url)
    played_at = max(at for log in history.values() for _, at in log)

    # two minutes later the two missed questions are due (Again: a minute after the close)
    clock = ManualClock(played_at + timedelta(minutes=2))
    out = io.StringIO()
    options = ReviewOptions(player="ann", questions=3, deck="trio", seed=1)
    assert await review_game(settings, options, RightAnswers(out), out, clock=clock) == 0
    text = out.getvalue()
    # exactly the missed ones, the earlier miss first (equal predicted recall: most overdue)
    assert offered(text) == [prompts[0], prompts[2]]
    assert text.count("✓ Right") == 2 and "━━ Review done ━━" in text
    assert "2/2 right at the first try" in text

    after, history = await ann_cards(settings.database_url)
    for n in (1, 3):
        qid = f"trio-{n}"
        log = history[qid]
        assert [rating for rating, _ in log] == [1, 3]  # Again in the quiz, Good in review
        expected = fsrs_after([(fsrs.Rating(r), at) for r, at in log])
        assert after[qid] == expected.due > before[qid]

    # right after, nothing is due and every question has been seen: one clear line
    again = quizbot(tmp_path, "review", "--player", "ann", "--deck", "trio",
                    stdin=subprocess.PIPE)  # fmt: skip
    stdout, stderr = again.communicate("", timeout=60)
    assert again.returncode == 1, stdout
    assert stderr.startswith("quizbot: Nothing to review") and "Traceback" not in stderr
    assert offered(stdout) == []

    # once their learning step (10 minutes) has passed they are due again
    clock.set(played_at + timedelta(minutes=15))
    out = io.StringIO()
    await review_game(settings, options, RightAnswers(out), out, clock=clock)
    assert offered(out.getvalue()) == [prompts[0], prompts[2]]


async def test_an_interrupted_review_resumes(tmp_path: Path) -> None:
    settings = deck_settings(tmp_path, "trio", DECK)
    clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    options = ReviewOptions(player="bo", questions=3, deck="trio", seed=2)
    out = io.StringIO()
    # input ends after the first question: the session stays open
    first = RightAnswers(out)
    lines = iter([first.readline])

    class OneLine(RightAnswers):
        def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
            reader = next(lines, None)
            return reader() if reader else ""

    await review_game(settings, options, OneLine(out), out, clock=clock)
    assert "(review paused: quizbot review resumes it)" in out.getvalue()
    shown = offered(out.getvalue())
    assert len(shown) == 2  # one answered, the next one shown when the input ended

    out2 = io.StringIO()
    await review_game(settings, options, RightAnswers(out2), out2, clock=clock)
    text = out2.getvalue()
    assert text.startswith("(resuming your open review)")
    assert offered(text)[0] == shown[1]  # the same question it stopped at
    assert len(set(shown) | set(offered(text))) == 3 and "3/3 right" in text


MATH_DECK = """\
name: math
title: One formula
questions:
  - id: math-1
    prompt: What is $\\frac{\\partial}{\\partial z} e^{z}$?
    choices:
      - correct: $e^{z}$
      - wrong: $z e^{z-1}$
    explanation: The exponential is its own derivative, $\\alpha \\to \\alpha$.
"""


async def test_a_review_shows_math_as_text_as_play_does(tmp_path: Path) -> None:
    settings = deck_settings(tmp_path, "math", MATH_DECK)
    clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    out = io.StringIO()

    await review_game(
        settings,
        ReviewOptions(player="cy", questions=1, deck="math"),
        io.StringIO("a\n"),
        out,
        clock=clock,
    )

    text = out.getvalue()
    assert "$" not in text and "\\frac" not in text and "\\alpha" not in text
    assert "What is ∂/∂z eᶻ?" in text
    choices = [line for line in text.splitlines() if CHOICE.match(line)]
    assert sorted(line[5:] for line in choices[:2]) == ["eᶻ", "z eᶻ⁻¹"]
    answer = next(line for line in text.splitlines() if line.startswith("✔ Answer: "))
    assert answer.endswith(": eᶻ")
    assert "The exponential is its own derivative, α → α." in text
