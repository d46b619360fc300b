"""The checks of single setting values, shared by the settings declaration and doctor.

Each raises the one-line `bad_setting` error that bot.config turns into
`quizbot: NAME: detail`; the fix rides along for `quizbot doctor`.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import SecretStr
from pydantic_core import PydanticCustomError

DATABASE_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")
# A Discord bot token is three base64url parts joined by dots (id, timestamp, HMAC).
_DISCORD_TOKEN = re.compile(r"[\w-]+\.[\w-]+\.[\w-]+")


def bad(detail: str, fix: str = "") -> PydanticCustomError:
    """A bad value: `detail` is the one line a user sees, `fix` the doctor's advice."""
    return PydanticCustomError("bad_setting", "{detail}", {"detail": detail, "fix": fix})


def with_prefix(token: SecretStr, prefix: str, fix: str) -> SecretStr:
    value = token.get_secret_value()
    if value and not value.startswith(prefix):
        raise bad(f"does not start with {prefix} (it starts with {token_kind(value)})", fix)
    return token


def token_kind(token: str) -> str:
    # the part before the first dash says what kind of token it is, and nothing secret
    head = token.split("-", 1)[0]
    return f"{head}-" if "-" in token and len(head) <= 5 else "something else"


def checked_url(url: str, name: str, schemes: tuple[str, ...]) -> str:
    url = url.strip()
    if url.startswith(tuple(f"{s}://" for s in schemes)) and len(url.split("://", 1)[1]) > 1:
        return url
    raise bad(
        f"{url!r} is not a {' or '.join(schemes)} URL",
        f"set {name} to a full {schemes[0]}:// URL, or remove it to use the default",
    )


def parse_shard_ids(text: str, fix: str = "") -> tuple[int, ...]:
    """`0-3`, `4,5` or `0-1,6` as sorted shard ids; an overlap or a non-number is an error."""
    ids: list[int] = []
    for part in text.replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if not (first.isdigit() and (last.isdigit() or not _)):
            raise bad(f"{part!r} is not a shard id or a range like 0-3", fix)
        low, high = int(first), int(last) if _ else int(first)
        if high < low:
            raise bad(f"{part!r} runs backwards: write {high}-{low}", fix)
        overlap = sorted(set(ids) & set(range(low, high + 1)))
        if overlap:
            raise bad(f"{part!r} overlaps another part: shard {overlap[0]} is listed twice", fix)
        ids.extend(range(low, high + 1))
    return tuple(sorted(ids))


def normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// spellings and point them at the async driver."""
    for plain in ("postgres://", "postgresql://"):
        if url.startswith(plain):
            return "postgresql+asyncpg://" + url[len(plain) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


def database_url(url: str, fix: str) -> str:
    """A database URL on one of the async drivers the bot runs on."""
    url = normalise_database_url(url.strip())
    if not url.startswith(DATABASE_SCHEMES):
        # only the scheme: the rest may hold a password
        scheme = url.split(":", 1)[0]
        raise bad(
            f"{scheme!r} is not supported: use sqlite+aiosqlite:///file.db or "
            "postgresql+asyncpg://user@host/db",
            fix,
        )
    return url


def timezone_name(name: str, fix: str) -> str:
    """An IANA timezone name."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad(f"{name!r} is not a timezone: use an IANA name like Europe/Berlin", fix) from None
    return name


def port_number(port: object, fix: str) -> int | None:
    """A TCP port (1-65535); None when empty."""
    text = str(port).strip() if port is not None else ""
    if not text:
        return None
    if not (text.isdigit() and 0 < int(text) < 65536):
        raise bad(f"{text!r} is not a port number", fix)
    return int(text)


def discord_token(token: SecretStr, portal: str) -> SecretStr:
    """A Discord bot token as the Developer Portal shows it (`portal`: where to copy it)."""
    value = token.get_secret_value()
    if value.lower().startswith("bot "):
        raise bad(
            'starts with "Bot ": the prefix is added by the bot',
            'remove "Bot " from the start of DISCORD_TOKEN',
        )
    if value and not _DISCORD_TOKEN.fullmatch(value):
        raise bad(
            "not shaped like a bot token (three parts separated by dots)",
            f"{portal} (not the client secret or public key)",
        )
    return token


def shard_count(count: object, fix: str) -> str:
    """A number of shards as text, or "auto" (also for empty)."""
    text = str(count if count is not None else "").strip().lower()
    if text in ("", "auto"):
        return "auto"
    if not (text.isdigit() and int(text) > 0):
        raise bad(f"{text!r} is not a number of shards or auto", fix)
    return str(int(text))


def shard_ids(ids: object, count: str | None, fix: str) -> tuple[int, ...] | None:
    """Shard ids (text, or a list) below `count`; None when empty.

    `count` is None when the count itself was bad: the ids are then checked alone.
    """
    if ids is None or isinstance(ids, (tuple, list)):
        text = ",".join(str(i) for i in ids) if ids is not None else ""
    else:
        text = str(ids).strip()
    if not text:
        return None
    parsed = parse_shard_ids(text, fix)
    if count is not None and count != "auto" and parsed[-1] >= int(count):
        raise bad(
            f"shard {parsed[-1]} is outside DISCORD_SHARD_COUNT={count} "
            f"(ids go from 0 to {int(count) - 1})",
            fix,
        )
    return parsed


def signing_secret(secret: SecretStr) -> SecretStr:
    """A Slack signing secret: letters and digits, not one of the tokens pasted by mistake."""
    value = secret.get_secret_value()
    if value and (value.startswith(("xox", "xapp-")) or not value.isalnum()):
        raise bad(
            "not shaped like a signing secret (letters and digits only, not a token)",
            "copy the Signing Secret from your Slack app's Basic Information > App Credentials",
        )
    return secret
