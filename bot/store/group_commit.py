"""Group commit: many callers' writes in one transaction, each caller told its own result.

A burst of clicks costs one transaction per click when each is written alone; most of
that cost is per statement, not per row. Here the first caller starts a writer; callers
that arrive while its batch is being written wait together for the next batch. Nobody's
`submit` returns before the batch holding its item has committed, so nothing is
acknowledged before it is durable. When nobody else is waiting a batch is one item, so
a lone click waits no longer than it would have alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

WriteBatch = Callable[[Sequence[T]], Awaitable[Sequence[R]]]


class GroupCommit(Generic[T, R]):
    """Writes submitted items in batches, at most `max_batch` per transaction."""

    def __init__(self, write: WriteBatch[T, R], *, max_batch: int = 256) -> None:
        self._write = write
        self._max_batch = max_batch
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Write `item` with whatever else is waiting; its result once committed.

        If the batch fails, each of its items is written alone: a caller gets an error
        only when its own item fails.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[R] = loop.create_future()
        self._waiting.append((item, done))
        if self._writer is None:
            self._writer = loop.create_task(self._drain())
        # shielded: a caller that gives up (a cancelled request) must not cancel the
        # write its neighbours in the batch are waiting for
        return await asyncio.shield(done)

    async def wait_idle(self) -> None:
        """Return once everything submitted so far is written."""
        while self._writer is not None:
            await asyncio.shield(self._writer)

    async def _write_together(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        """Write a batch and settle its callers; if it fails, write each item alone, so
        that one bad item (or a deadlock) fails nobody but itself."""
        try:
            results = await self._write([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _fail(batch[0][1], exc)
                return
            log.warning("a batch of %d failed (%r); writing each alone", len(batch), exc)
            for item, done in batch:
                try:
                    (result,) = await self._write([item])
                except Exception as alone:
                    _fail(done, alone)
                else:
                    _resolve(done, result)
            return
        for (_, done), result in zip(batch, results, strict=True):
            _resolve(done, result)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                try:
                    await self._write_together(batch)
                except BaseException:
                    for _, done in batch:
                        if not done.done():
                            done.cancel()
                    raise
        finally:
            self._writer = None
            # a cancelled writer leaves nobody waiting forever
            for _, done in self._waiting:
                if not done.done():
                    done.cancel()
            self._waiting.clear()


def _resolve(done: asyncio.Future[R], result: R) -> None:
    """Give a waiting caller its result, unless it gave up."""
    if not done.done():
        done.set_result(result)


def _fail(done: asyncio.Future[R], error: Exception) -> None:
    """Give a waiting caller its error, unless it gave up."""
    if not done.done():
        done.set_exception(error)
