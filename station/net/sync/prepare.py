"""Preparing a history batch in a worker process: decode, check, fold, build rows.

A station downloading the venue's history spends most of its time in Python: decoding each
message, checking it, folding each pass and building its row. In the station's own process all
of that shares one GIL with receiving the messages and writing them to SQLite, so a catch-up ran
at about half the speed of a bare consume loop. `prepare()` does that work in another process
(spawned, so it also runs where fork is unsafe: Qt and asyncio threads), on the other core,
while the station receives the next messages and writes the previous batch.

The writer keeps the last word. Each pass is folded here from this batch's events alone; the
writer uses that row only for a pass the log held no events of before the batch (the common
case in a catch-up: the pass and its scans arrive together), and folds every other pass again
from its whole history, as for a live batch. A pass whose fold here found a conflict is left to
the writer too (it records the conflict event).

Everything crosses the process boundary as plain tuples, lists and dicts (cheap to pickle).
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
from dataclasses import dataclass
from typing import Any

from station.domain.errors import InvalidInput
from station.domain.events import Event
from station.domain.fold import fold
from station.net.sync import wire
from station.services.sync_apply import check_event
from station.store.rows import pass_values

log = logging.getLogger(__name__)

EventValues = tuple[str, str, str, dict[str, Any], str, int, str, str | None]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A decoded batch: its events, their data as the log stores it, rows folded from it."""

    events: list[Event]
    texts: dict[str, str]  # event id -> data text
    # pass id -> its `passes` row folded from this batch alone (email left None), or None when
    # the writer must fold it (no pass yet, or a conflict to record).
    folded: dict[str, tuple[Any, ...] | None]


def prepare(data: list[bytes]) -> tuple[list[EventValues], list[str], dict[str, tuple[Any, ...] | None],
                                        list[str]]:
    """In the worker: the batch's valid events (as field tuples), their data texts, the rows
    folded from this batch, and why each refused message was refused."""
    values: list[EventValues] = []
    texts: list[str] = []
    refused: list[str] = []
    by_pass: dict[str, list[Event]] = {}
    for raw in data:
        try:
            event, text = wire.decode_with_text(raw)
            check_event(event)
        except InvalidInput as exc:
            refused.append(str(exc))
            continue
        values.append((event.id, event.type, event.timestamp, event.data, event.origin,
                       event.origin_seq, event.hlc, event.pass_id))
        texts.append(text)
        if event.pass_id:
            by_pass.setdefault(event.pass_id, []).append(event)
    folded: dict[str, tuple[Any, ...] | None] = {}
    for pass_id, events in by_pass.items():
        result = fold(events)
        ok = result.pass_ is not None and not result.conflicts
        folded[pass_id] = pass_values(result.pass_, None) if ok and result.pass_ else None
    return values, texts, folded, refused


def unpack(values: list[EventValues], texts: list[str], folded: dict[str, tuple[Any, ...] | None],
           refused: list[str]) -> Prepared:
    """Back in the station: Event objects again, and the refusals logged."""
    for reason in refused:
        log.warning("dropped a malformed synced message: %s", reason)
    events = [Event(*v) for v in values]
    return Prepared(events, {e.id: t for e, t in zip(events, texts, strict=True)}, folded)


def prepare_here(data: list[bytes]) -> Prepared:
    """The same work in this process (small batches, or when no worker can be started)."""
    return unpack(*prepare(data))


class Preparer:
    """One worker process, started on first use, for a station downloading a long history."""

    def __init__(self) -> None:
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self.batches = 0  # prepared in the worker (for status and tests)
        self.broken = False

    def submit(self, data: list[bytes]) -> concurrent.futures.Future[Any]:
        if self._pool is None:
            # spawn: the station's process has threads (Qt, asyncio, SQLite writers) that a
            # forked child would inherit mid-flight.
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return self._pool.submit(prepare, data)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
