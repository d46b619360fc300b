"""The community a terminal command reads: one that exists, never one made up by a typo.

The store's `community()` creates what it does not find, which suits a chat platform
(a guild's first command) but not `quizbot leaderboard --community nope`: a read must
not write, and a typo in `config --community` must not configure a phantom group.
"""

from __future__ import annotations

from bot.core.errors import QuizError
from bot.core.model import CommunityRef
from bot.store import SqlStore

# the terminal's own community: every console game plays in it, so it is never unknown
CONSOLE_COMMUNITY = ("console", "console")


class UnknownCommunityError(QuizError):
    """A --community that the store has no row for."""


async def existing_community(store: SqlStore, platform: str, external_id: str) -> CommunityRef:
    """The community `external_id` of `platform` as stored (with its stored name).

    Raises UnknownCommunityError, naming the known ones, when there is none; the
    terminal's own community counts as known before its first game.
    """
    known = await store.known_communities(platform)
    for community in known:
        if community.external_id == external_id:
            # the stored name: another name would be written back over it
            return CommunityRef(external_id=external_id, name=community.name)
    if (platform, external_id) == CONSOLE_COMMUNITY:
        return CommunityRef(external_id=external_id, name=external_id)
    names = ", ".join(c.external_id for c in known) or "none yet"
    raise UnknownCommunityError(
        f"no community {external_id!r} on {platform}; known communities: {names}"
    )
