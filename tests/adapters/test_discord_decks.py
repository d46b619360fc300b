"""A server's own decks on the real discord.Client against the fake Discord: added from
an attachment, played, refused for a non-admin or a bad file, replaced mid-quiz."""

from __future__ import annotations

from bot.store import SqlStore
from tests.fake_discord import FakeDiscord, message_text
from tests.fake_discord.harness import Harness, choice_letters
from tests.fake_discord.payloads import MANAGE_GUILD, MEMBER_PERMISSIONS, FileOption, Json

FRANCE = b"::fr:: What is the capital of France? {=Paris ~Lyon ~Nice}\n"
CAPITALS = b"""// capitals of Europe
::fr:: What is the capital of France? {=Paris ~Lyon ~Nice}

::it:: What is the capital of Italy? {=Rome ~Milan ~Turin #Rome since 1871}
"""
# the same ids, the answer of France changed: a replace, not a new deck
FRANCE_V2 = FRANCE.replace(b"{=Paris ~Lyon ~Nice}", b"{~Paris =Lyon ~Nice}")
BROKEN = b"""::a:: First? {=yes ~no

::b:: Second? {}
"""


def _latest(fake: FakeDiscord, title_start: str) -> Json:
    found = [
        m
        for m in fake.channel_messages()
        if m["embeds"] and str(m["embeds"][0].get("title") or "").startswith(title_start)
    ]
    assert found, f"no message titled {title_start!r}"
    return found[-1]


async def test_an_admin_adds_a_deck_from_an_attachment_and_plays_it(
    fake: FakeDiscord, bot: Harness
) -> None:
    admin = fake.user("Teacher", permissions=MEMBER_PERMISSIONS | MANAGE_GUILD)
    added = await fake.slash(admin, "quiz deck add", file=FileOption("capitals.gift", CAPITALS))
    assert added.ephemeral
    assert added.content.startswith("Deck capitals added: 2 imported, 0 skipped")
    assert fake.calls_to("GET", r"/attachments/\d+/capitals\.gift")  # downloaded from its URL

    listed = await fake.slash(admin, "quiz decks")
    text = message_text(listed.reply)
    assert "**capitals**: Capitals (2 questions) · this server's own" in text
    assert "**algebra**: Algebra basics (3 questions) · bot deck" in text
    offered = await fake.autocomplete(admin, "quiz start", deck=_focused("cap"))
    assert [c["value"] for c in offered] == ["capitals"]
    assert offered[0]["name"].endswith("· own")

    shown = await fake.slash(admin, "quiz deck show", name="capitals")
    assert "2 single" in message_text(shown.reply)
    assert "What is the capital of France?" in message_text(shown.reply)

    player = fake.user("Student")
    started = await fake.slash(player, "quiz start", deck="capitals", questions=2, seconds=20)
    assert started.content.startswith("Quiz started: 2 questions"), started.content
    question = bot.current_question()
    letters = choice_letters(question)
    assert set(letters) in ({"Paris", "Lyon", "Nice"}, {"Rome", "Milan", "Turin"})
    await bot.tick(21)
    reveal = message_text(_latest(fake, "✅ Answer 1/2"))
    right = letters["Paris"] if "Paris" in letters else letters["Rome"]
    assert f"Correct: **{right}**" in reveal

    exported = await fake.slash(admin, "quiz deck export", name="capitals", format="gift")
    files = fake.attachments(exported.reply)
    assert list(files) == ["capitals.gift"]
    assert b"What is the capital of Italy?" in files["capitals.gift"].data
    assert b"c" not in files["capitals.gift"].data.split(b"::")[1][:1]  # ids as in the file


async def test_a_member_who_is_not_an_admin_is_refused(fake: FakeDiscord, bot: Harness) -> None:
    member = fake.user("Student")
    refused = await fake.slash(member, "quiz deck add", file=FileOption("capitals.gift", CAPITALS))
    assert refused.content.startswith("Only admins can change this community's decks")
    assert not fake.calls_to("GET", r"/attachments/.*")  # refused before any download
    assert "capitals" not in message_text((await fake.slash(member, "quiz decks")).reply)

    admin = fake.user("Teacher", permissions=MEMBER_PERMISSIONS | MANAGE_GUILD)
    await fake.slash(admin, "quiz config", key="deck-editors", value="everyone")
    allowed = await fake.slash(member, "quiz deck add", file=FileOption("capitals.gift", CAPITALS))
    assert allowed.content.startswith("Deck capitals added")


async def test_a_file_with_errors_is_refused_with_its_lines(
    fake: FakeDiscord, bot: Harness
) -> None:
    admin = fake.user("Teacher", permissions=MEMBER_PERMISSIONS | MANAGE_GUILD)
    await fake.slash(admin, "quiz deck add", file=FileOption("quiz.gift", CAPITALS), name="quiz")
    refused = await fake.slash(admin, "quiz deck add", file=FileOption("quiz.gift", BROKEN))
    lines = refused.content.splitlines()
    assert lines[0].startswith("quiz.gift: ") and lines[0].endswith("nothing was stored")
    assert all(line.startswith("quiz.gift:") for line in lines[1:])
    assert any(line.startswith("quiz.gift:1:") for line in lines[1:]), lines
    # the good deck is still there, unchanged
    shown = await fake.slash(admin, "quiz deck show", name="quiz")
    assert "What is the capital of France?" in message_text(shown.reply)

    big = FileOption("huge.gift", b"::x:: y {=z ~w}\n", size=10 * 1024 * 1024)
    too_big = await fake.slash(admin, "quiz deck add", file=big)
    assert too_big.content == (
        "huge.gift is 10,485,760 bytes: a deck file may be at most 1,048,576"
    )
    assert not fake.calls_to("GET", r"/attachments/\d+/huge.*")  # refused from the metadata


async def test_replacing_a_deck_leaves_a_past_round_as_it_was(
    fake: FakeDiscord, bot: Harness, store: SqlStore
) -> None:
    admin = fake.user("Teacher", permissions=MEMBER_PERMISSIONS | MANAGE_GUILD)
    await fake.slash(admin, "quiz deck add", file=FileOption("capitals.gift", FRANCE))
    await fake.slash(admin, "quiz start", deck="capitals", questions=1, seconds=20)
    letters = choice_letters(bot.current_question())

    replaced = await fake.slash(admin, "quiz deck add", file=FileOption("capitals.gift", FRANCE_V2))
    assert replaced.content.startswith("Deck capitals replaced")
    await bot.tick(21)
    # the round asked before the replace is revealed with the answer it was asked with
    reveal = message_text(_latest(fake, "✅ Answer 1/1"))
    assert f"Correct: **{letters['Paris']}**" in reveal

    await fake.slash(admin, "quiz start", deck="capitals", questions=1, seconds=20)
    new_letters = choice_letters(bot.current_question())
    await bot.tick(21)
    assert f"Correct: **{new_letters['Lyon']}**" in message_text(_latest(fake, "✅ Answer 1/1"))
    # and the first quiz's round in the store still holds Paris as its answer
    guild = await store.community("discord", fake.guild_id, "Study Group")
    quiz = await store.quiz(1)
    assert quiz is not None and quiz.community_id == guild.id
    assert quiz.question_ids == (f"c{guild.id}/capitals/fr",)


def _focused(text: str) -> object:
    from tests.fake_discord.payloads import Focused

    return Focused(text)
