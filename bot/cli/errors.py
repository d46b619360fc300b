"""Failures a user can cause or meet, as the one line `quizbot` prints for them."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError, SQLAlchemyError


def safe_url(url: str) -> str:
    """A database URL fit to print: the password is hidden."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        creds, _, host = rest.rpartition("@")
        user = creds.split(":", 1)[0]
        return f"{scheme}{sep}{user}:***@{host}" if ":" in creds else url
    return url


def _root_cause(exc: BaseException) -> BaseException:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    seen = set()
    while exc.__cause__ is not None and id(exc) not in seen:
        seen.add(id(exc))
        exc = exc.__cause__
    return exc


def database_reason(exc: BaseException) -> str:
    """Why the database could not be used, in words: the driver's message, one line."""
    cause = _root_cause(exc)
    if isinstance(cause, ConnectionRefusedError) or "Connect call failed" in str(cause):
        return "connection refused (is the database server running?)"
    if isinstance(cause, sqlite3.OperationalError):
        text = str(cause)
        if "unable to open database file" in text:
            return "cannot open the SQLite file (does its folder exist?)"
        if "readonly" in text:
            return "the SQLite file is read-only"
        return text
    if isinstance(cause, OSError):
        return cause.strerror or str(cause)
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return text


def is_database_failure(exc: BaseException) -> bool:
    """Whether `exc` means the database could not be reached or written."""
    return isinstance(exc, SQLAlchemyError | OSError | sqlite3.Error)


def database_failure_line(url: str, exc: BaseException) -> str:
    """`cannot use DATABASE_URL=…: reason`."""
    return f"cannot use DATABASE_URL={safe_url(url)}: {database_reason(exc)}"
