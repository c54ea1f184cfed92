"""Group commit: many threads' small writes share ONE transaction, each caller still gets its own answer.

A caller hands its item to `GroupCommit.submit` and waits. The first caller that finds nobody leading becomes the
leader: it takes every pending item (up to `max_batch`), runs `batch_fn(session, items)` in one transaction through
`Storage.write` (which retries a locked database), and hands each caller its own result or exception; then it
passes leadership to the oldest caller still waiting, or stands down. No background thread, nothing to shut down.

`batch_fn(session, items)` returns one outcome per item, in order: a result, or an exception instance meant for that
caller only (e.g. "this battle already has a vote"). If the batch's transaction itself fails, with an integrity
error (a race with another process that the batch could not see), every item is retried in a transaction of its
own, so each caller gets the answer it would have had alone; any other failure goes to every caller of the batch.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from storage.db import Storage

I = TypeVar("I")  # noqa: E741 - item
R = TypeVar("R")  # result

BatchFn = Callable[[Session, Sequence[I]], Sequence[Any]]


class _Slot(Generic[I]):
    __slots__ = ("item", "wake", "done", "lead", "outcome")

    def __init__(self, item: I):
        self.item = item
        self.wake = threading.Event()
        self.done = False
        self.lead = False
        self.outcome: Any = None


class GroupCommit(Generic[I, R]):
    """One queue of pending writes of one kind (e.g. votes) for one Storage."""

    def __init__(self, storage: Storage, batch_fn: BatchFn, max_batch: int = 256):
        self.storage, self.batch_fn, self.max_batch = storage, batch_fn, max_batch
        self._mu = threading.Lock()
        self._pending: list[_Slot] = []
        self._leading = False
        self.batches = 0  # transactions committed (for tests and benchmarks)
        self.items = 0

    def submit(self, item: I) -> R:
        """Write `item` together with whatever else is pending; return its result or raise its exception."""
        slot: _Slot = _Slot(item)
        with self._mu:
            self._pending.append(slot)
            if not self._leading:
                self._leading = slot.lead = True
        if not slot.lead:
            slot.wake.wait()  # set when done, or when made leader
        if not slot.done:
            self._lead(slot)
        if isinstance(slot.outcome, BaseException):
            raise slot.outcome
        return slot.outcome

    def _lead(self, me: _Slot) -> None:
        try:
            while not me.done:
                with self._mu:
                    batch = self._pending[:self.max_batch]
                    del self._pending[:self.max_batch]
                self._run(batch)
        finally:
            with self._mu:
                if self._pending:  # hand over to the oldest waiter; it wakes with done=False and leads
                    nxt = self._pending[0]
                    nxt.lead = True
                    nxt.wake.set()
                else:
                    self._leading = False

    def _run(self, batch: list[_Slot]) -> None:
        items = [b.item for b in batch]
        outcomes: list = []
        try:
            try:
                outcomes = self._write(items)
            except IntegrityError:
                outcomes = []
                for it in items:  # alone, each gets the answer it would have had without the batch
                    try:
                        outcomes.append(self._write([it])[0])
                    except Exception as exc:  # noqa: BLE001 - delivered to its caller
                        outcomes.append(exc)
            except BaseException as exc:  # noqa: BLE001 - the batch failed as a whole: every caller learns why
                outcomes = [exc] * len(batch)
        finally:  # whatever happened, no caller is left waiting
            for i, slot in enumerate(batch):
                slot.outcome = outcomes[i] if i < len(outcomes) else RuntimeError("the write was interrupted")
                slot.done = True
                slot.wake.set()

    def _write(self, items: list) -> list:
        out = list(self.storage.write(lambda s: self.batch_fn(s, items)))
        if len(out) != len(items):
            raise RuntimeError(f"batch function returned {len(out)} outcomes for {len(items)} items")
        with self._mu:
            self.batches += 1
            self.items += len(items)
        return out
