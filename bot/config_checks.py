"""The checks of single setting values, shared by the settings declaration and doctor.

Each raises the one-line `bad_setting` error that bot.config turns into
`quizbot: NAME: detail`; the fix rides along for `quizbot doctor`.
"""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_core import PydanticCustomError


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
