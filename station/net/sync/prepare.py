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

Everything crosses the process boundary as plain tuples, lists and strings: an event's data
goes back as its text only (pickling the data's dict cost the worker as much as folding did),
which the station parses again with the C decoder.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from station.domain.errors import InvalidInput
from station.domain.event_signature import EventTrust
from station.domain.events import Event, EventType
from station.domain.fold import base_from, exhausted, fold
from station.domain.models import PassStatus
from station.domain.remote import check_event
from station.net.sync import wire
from station.net.sync.round_tops import clean_parts
from station.services.worker_pool import spawn_pool
from station.store.rows import pass_values

log = logging.getLogger(__name__)

# Events per task sent to the worker. Its result comes back through pickle.loads, one C call
# that holds the GIL throughout: a 10,000-event batch held it ~17 ms at a time (a door's scan in
# this process waited for it), a 1,000-event part ~2 ms.
PREPARE_CHUNK = 1000

# An event's fields but its data: id, type, timestamp, origin, origin_seq, hlc, pass_id, sig.
EventHead = tuple[str, str, str, str, int, str, str | None, str | None]
# Whether the hub stored each message before signed events were switched on (one answer for
# the whole batch, or one per message): domain/event_signature.py.
BeforeSwitch = bool | list[bool]
RefusedCounts = dict[tuple[str, str], int]


def _before(before_switch: BeforeSwitch, i: int) -> bool:
    return before_switch if isinstance(before_switch, bool) else before_switch[i]


def _part(before_switch: BeforeSwitch, start: int, end: int) -> BeforeSwitch:
    """`before_switch` for the part of a batch from `start` to `end`."""
    if isinstance(before_switch, bool):
        return before_switch
    return before_switch[start:end]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A decoded batch: its events, their data as the log stores it, rows folded from it."""

    events: list[Event]
    texts: dict[str, str]  # event id -> data text
    checked: bool  # each event passed domain.remote.check_event already
    # pass id -> its `passes` row folded from this batch alone (email left None), or None when
    # the writer must fold it (no pass yet, or a conflict to record).
    folded: dict[str, tuple[Any, ...] | None]
    # Origin signatures checked already (in the worker; what it refused, by origin and why),
    # else the ids of the events the hub stored before signing was switched on.
    signatures_checked: bool = False
    before_switch: frozenset[str] = frozenset()
    refused: RefusedCounts = field(default_factory=dict)
    own_subject: frozenset[str] = frozenset()  # ids of events on their origin's own subject


def prepare(data: list[bytes], before_switch: BeforeSwitch = False,
            trust: EventTrust | None = None, senders: list[str] | None = None,
            ) -> tuple[list[EventHead], list[str], dict[str, tuple[Any, ...] | None], list[str],
                       RefusedCounts | None]:
    """In the worker: the batch's valid events (their fields but the data), their data texts,
    the rows folded from this batch, why each malformed message was refused, and, given
    `trust`, how many events were refused as not their origin's (by origin and why; those are
    left out, here already: verifying signatures is most of a download's cost). `senders`:
    the station whose subject each message arrived on."""
    valid: list[Event] = []
    valid_texts: list[str] = []
    at: list[int] = []  # each valid event's index in `data`
    refused: list[str] = []
    for i, raw in enumerate(data):
        try:
            event, text = wire.decode_with_text(raw)
            check_event(event)
        except InvalidInput as exc:
            refused.append(str(exc))
            continue
        valid.append(event)
        valid_texts.append(text)
        at.append(i)
    not_theirs: RefusedCounts = {}
    whys: list[str | None] = [None] * len(valid)
    if trust is not None:  # a run of an origin's linked events costs one verification
        whys = trust.refusals(valid, valid_texts, [_before(before_switch, i) for i in at],
                              [senders[i] for i in at] if senders else [None] * len(at))
    heads: list[EventHead] = []
    texts: list[str] = []
    by_pass: dict[str, list[Event]] = {}
    for event, text, why in zip(valid, valid_texts, whys, strict=True):
        if why is not None:
            not_theirs[(event.origin, why)] = not_theirs.get((event.origin, why), 0) + 1
            continue
        heads.append((event.id, event.type, event.timestamp, event.origin, event.origin_seq,
                      event.hlc, event.pass_id, event.sig))
        texts.append(text)
        if event.pass_id:
            by_pass.setdefault(event.pass_id, []).append(event)
    folded: dict[str, tuple[Any, ...] | None] = {}
    for pass_id, events in by_pass.items():
        try:
            if len(events) == 1 and events[0].type == EventType.PASS_CREATED:
                # Most of a history download: a pass and nothing else of it in this batch.
                folded[pass_id] = created_row(events[0])
                continue
            result = fold(events)
        except (KeyError, TypeError, ValueError):  # checked events fold; if not, the writer says
            folded[pass_id] = None
            continue
        ok = result.pass_ is not None and not result.conflicts
        folded[pass_id] = pass_values(result.pass_, None) if ok and result.pass_ else None
    return heads, texts, folded, refused, not_theirs if trust is not None else None


_sorted_json = json.JSONEncoder(sort_keys=True).encode  # json.dumps(x, sort_keys=True), made once


def _fields_text(fields: dict[str, Any]) -> str:
    """The `fields` column as rows.pass_values writes it; most passes have none."""
    return "{}" if not fields else _sorted_json(fields)


def created_row(event: Event) -> tuple[Any, ...]:
    """`pass_values(fold([event]).pass_, None)` for a pass.created event alone, without
    building the Pass on the way (a third of the worker's time in a catch-up); a property test
    holds the two equal."""
    base = base_from(event.data)
    kind, max_uses, created_at = base["type"], base["max_uses"], base["created_at"]
    status = PassStatus.USED if exhausted(kind, max_uses, 0) else PassStatus.ACTIVE
    return (base["id"], base["code"], base["name"], str(kind), str(status), 0, max_uses,
            base["valid_from"], base["valid_until"], base["client_id"], None,
            _fields_text(base["fields"]), base["public_url"], created_at,
            max(event.timestamp, created_at), 0, 0, base["attention"])


Result = tuple[list[EventHead], list[str], dict[str, tuple[Any, ...] | None], list[str],
               RefusedCounts | None]


def merge(parts: list[Result]) -> Result:
    """prepare()'s results for consecutive parts of a batch as one result: a pass with events
    in two parts was folded from some of them in each, so the writer folds it (None)."""
    heads: list[EventHead] = []
    texts: list[str] = []
    refused: list[str] = []
    folded: dict[str, tuple[Any, ...] | None] = {}
    not_theirs: RefusedCounts | None = None
    for part_heads, part_texts, part_folded, part_refused, part_not_theirs in parts:
        heads += part_heads
        texts += part_texts
        refused += part_refused
        for pass_id, row in part_folded.items():
            folded[pass_id] = None if pass_id in folded else row
        if part_not_theirs is not None:  # signatures checked (the same trust for every part)
            not_theirs = not_theirs or {}
            for key, count in part_not_theirs.items():
                not_theirs[key] = not_theirs.get(key, 0) + count
    return heads, texts, folded, refused, not_theirs


def unpack(heads: list[EventHead], texts: list[str], folded: dict[str, tuple[Any, ...] | None],
           refused: list[str], not_theirs: RefusedCounts | None = None) -> Prepared:
    """Back in the station: Event objects again, and the malformed messages logged (the
    events refused as not their origin's are logged with the batch, by services)."""
    for reason in refused:
        log.warning("dropped a malformed synced message: %s", reason)
    scan = wire.scan_value  # the texts are the worker's own slices of valid JSON
    events = [Event(i, kind, at, scan(text, 0)[0], origin, seq, hlc, pass_id, sig)
              for (i, kind, at, origin, seq, hlc, pass_id, sig), text
              in zip(heads, texts, strict=True)]
    return Prepared(events, {e.id: t for e, t in zip(events, texts, strict=True)}, True, folded,
                    signatures_checked=not_theirs is not None, refused=not_theirs or {})


def prepare_here(data: list[bytes], before_switch: BeforeSwitch = False,
                 senders: list[str] | None = None) -> Prepared:
    """Decoding only, in this process (small batches, or when no worker can be started): the
    writer folds every pass itself, and services check the signatures as they apply."""
    events: list[Event] = []
    texts: dict[str, str] = {}
    before: set[str] = set()
    own: set[str] = set()
    for i, raw in enumerate(data):
        try:
            event, text = wire.decode_with_text(raw)
        except InvalidInput as exc:
            log.warning("dropped a malformed synced message: %s", exc)
            continue
        events.append(event)
        texts[event.id] = text
        if _before(before_switch, i):
            before.add(event.id)
        if senders and senders[i] == event.origin:
            own.add(event.id)
    return Prepared(events, texts, False, {}, before_switch=frozenset(before),
                    own_subject=frozenset(own))


class Preparer:
    """One worker process, started on first use, for a station downloading a long history."""

    def __init__(self) -> None:
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self.batches = 0  # prepared in the worker (for status and tests)
        self.broken = False

    def warm(self) -> None:
        """Start the worker now (a long download is coming): its start-up, a few hundred ms,
        overlaps the first messages' arrival instead of holding up the first batch."""
        if not self.broken:
            try:
                self._start()
            except Exception as exc:  # the first batch will find out again, and fall back
                log.warning("could not start the sync worker (%r)", exc)

    def _start(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = spawn_pool()
        return self._pool

    def submit(self, data: list[bytes], before_switch: BeforeSwitch = False,
               trust: EventTrust | None = None, senders: list[str] | None = None,
               ) -> concurrent.futures.Future[Any]:
        """`prepare(...)` in the worker, as parts of about PREPARE_CHUNK events merged (merge)."""
        pool = self._start()
        # Parts of about PREPARE_CHUNK, cut where no round is open (round_tops.clean_parts).
        parts = [pool.submit(prepare, data[start:end], _part(before_switch, start, end), trust,
                             senders[start:end] if senders else None)
                 for start, end in clean_parts(data, senders, PREPARE_CHUNK)]
        whole: concurrent.futures.Future[Any] = concurrent.futures.Future()
        left = [len(parts)]
        lock = threading.Lock()

        def part_done(_: concurrent.futures.Future[Any]) -> None:
            with lock:
                left[0] -= 1
                if left[0]:
                    return
            try:
                whole.set_result(merge([part.result() for part in parts]))
            except BaseException as exc:  # a failed or cancelled part fails the whole
                whole.set_exception(exc)

        for part in parts:
            part.add_done_callback(part_done)
        return whole

    def close(self, *, wait: bool = False) -> None:
        """Stop the worker (`wait`: and its helper threads, as when the station stops)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)
