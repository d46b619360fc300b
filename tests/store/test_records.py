"""Communities, players and questions: get-or-create, renames, content-hash sync."""

from __future__ import annotations

from dataclasses import replace

from bot.core.model import Choice, Question, QuestionKind
from bot.store import SqlStore


async def test_community_get_or_create_and_save(store: SqlStore) -> None:
    created = await store.community("discord", "g1", "Guild")
    assert (created.timezone, created.week_start, created.settings) == ("UTC", 0, {})
    assert await store.community("discord", "g1", "Guild") == created
    renamed = await store.community("discord", "g1", "New name")
    assert (renamed.id, renamed.name) == (created.id, "New name")
    assert (await store.community("slack", "g1", "Guild")).id != created.id

    saved = await store.save_community(
        replace(renamed, timezone="Europe/Paris", week_start=6, settings={"locale": "fr"})
    )
    again = await store.community("discord", "g1", "New name")
    assert again == saved
    assert (again.timezone, again.week_start, again.settings) == (
        "Europe/Paris",
        6,
        {"locale": "fr"},
    )


async def test_player_get_or_create(store: SqlStore) -> None:
    ada = await store.player("discord", "u1", "Ada")
    assert await store.player("discord", "u1", "Ada") == ada
    lovelace = await store.player("discord", "u1", "Ada Lovelace")
    assert (lovelace.id, lovelace.display_name) == (ada.id, "Ada Lovelace")
    bob = await store.player("slack", "u1", "Bob")
    assert await store.players([ada.id, bob.id, 12345]) == {ada.id: lovelace, bob.id: bob}
    assert await store.players([]) == {}


def question(qid: str, prompt: str) -> Question:
    """A small true/false question."""
    return Question(
        id=qid,
        deck="test",
        kind=QuestionKind.TRUE_FALSE,
        prompt=prompt,
        choices=(Choice("True", True), Choice("False", False)),
    )


async def test_sync_questions_counts_changes(store: SqlStore) -> None:
    questions = [question(f"q{i}", f"Is {i} small?") for i in range(3)]
    assert await store.sync_questions(questions) == 3
    assert await store.sync_questions(questions) == 0
    questions[1] = question("q1", "Is one small?")
    assert await store.sync_questions([*questions, question("q9", "New?")]) == 2
    assert await store.sync_questions([]) == 0
