"""Study mode's DirectMessagePort on Slack: conversations.open, then chat.postMessage.

The errors below are Slack's refusals to open or post in a DM with this member
(the member is deactivated or invisible to the app, is a bot, or the workspace
restricts the app's messages; `not_allowed_token_type` when the token may not open
DMs at all). None of them is changed by a retry: DirectMessageRefused.
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.study.ports import DirectMessageRefused

DM_REFUSALS = frozenset(
    {
        "cannot_dm_bot",
        "user_disabled",
        "user_not_found",
        "user_not_visible",
        "not_allowed_token_type",
        "messages_tab_disabled",
        "restricted_action",
        "channel_not_found",
        "is_archived",
    }
)


async def send_direct(client: AsyncWebClient, user_id: str, text: str) -> None:
    """DM `text` to a member; DirectMessageRefused when Slack refuses the DM."""
    try:
        opened = await client.conversations_open(users=user_id)
        channel = (opened.get("channel") or {}).get("id")
        await client.chat_postMessage(channel=str(channel), text=text)
    except SlackApiError as exc:
        error = str(exc.response.get("error", ""))
        if error in DM_REFUSALS:
            raise DirectMessageRefused(f"Slack refused a DM to {user_id}: {error}") from exc
        raise
