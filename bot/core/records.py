"""Building frozen dataclasses by the hundred, for the close's per-answer values.

A frozen dataclass's `__init__` sets each field through `object.__setattr__` (that is
what keeps it frozen afterwards): half a microsecond for an `Answer`, paid for every
answer of a 500-answer round twice (read, then scored) and for every score delta.
`builder(cls)` makes the same instance, with every field given positionally, by filling
its `__dict__` at once: equal to, and hashing like, what the constructor makes, and as
frozen. Only for dataclasses without `__post_init__`, slots or init=False fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def builder(cls: type[T]) -> Callable[..., T]:
    """A constructor of `cls` taking every field positionally, in declaration order."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    plain = all(f.init for f in fields) and not hasattr(cls, "__slots__")
    if hasattr(cls, "__post_init__") or not plain:
        raise TypeError(f"{cls.__name__} needs its own __init__")
    names = [f.name for f in fields]
    args = ", ".join(names)
    body = "; ".join(f"d[{name!r}] = {name}" for name in names)
    source = f"def build({args}):\n o = new(cls); d = o.__dict__; {body}\n return o\n"
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    exec(source, namespace)  # the source is made of the dataclass's field names only
    build: Callable[..., T] = namespace["build"]
    build.__doc__ = f"A {cls.__name__}, its fields given positionally."
    return build
