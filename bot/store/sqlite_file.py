"""The file behind a SQLite URL: where it is, whether its folder exists, whether it takes writes.

Connecting to a SQLite file in a missing folder fails deep inside aiosqlite (and its worker
thread may outlive the event loop, printing a traceback of its own); a read-only file fails
only at the first write. Both are checked here before, in plain words.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy.engine import make_url


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (plain path or `file:` URI); None for memory or not SQLite."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):
        database = database.removeprefix("file:")
        if parsed.query.get("mode") == "memory" or not database:
            return None
    return Path(database)


def check_sqlite_folder(url: str) -> None:
    """Raise FileNotFoundError when a SQLite URL's file would go in a missing folder."""
    path = sqlite_file(url)
    if path is not None and not path.parent.is_dir():
        raise FileNotFoundError(
            errno.ENOENT, f"the folder {path.parent} of the SQLite file does not exist"
        )


def takes_writes(url: str) -> bool:
    """Whether the existing SQLite file of `url` can be written (blocking; changes nothing).

    The file's mode bits do not tell (root writes a 0444 file; `?mode=ro` opens any file
    read-only), so the probe asks SQLite itself: rewrite the header's user_version in a
    transaction that is rolled back.
    """
    parsed = make_url(url)
    database = parsed.database or ""
    query = {k: v for k, v in parsed.query.items() if k != "uri" and isinstance(v, str)}
    if not database.startswith("file:"):
        database = "file:" + database
    target = database + ("?" + urlencode(query) if query else "")
    connection = sqlite3.connect(target, uri=True, isolation_level=None, timeout=1.0)
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(f"PRAGMA user_version = {int(version)}")
        finally:
            connection.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "readonly" in str(exc):
            return False
        raise
    finally:
        connection.close()
    return True
