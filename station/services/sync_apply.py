"""Applying what other stations saw: their events, their names, the organisation's keys.

Remote events enter the log here and nowhere else, as jobs of the store's writer at priority
SYNC (a door's scan goes first). A batch is applied in steps of APPLY_STEP events, which
share one transaction unless a scan is waiting (the catch-up write policy lives here, not in net):
each event is inserted unless its id is already held (redeliveries and echoes of our own
events change nothing), the clock observes its stamp so that our next event orders after it,
and every pass it touched is re-folded. A conflict the fold discovers (two doors admitted a
single-use pass while apart; a door admitted a pass another had revoked) is announced as a
`pass.status_changed` event whose id every station derives the same way, so the log keeps one.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from station.domain.errors import InvalidInput
from station.domain.event_signature import EventTrust
from station.domain.events import Event, EventType
from station.domain.fold import ScanConflict, fold, fold_next
from station.domain.hlc import Stamp
from station.domain.models import Client, Pass, Scan, Source, Verdict
from station.domain.remote import check_event
from station.services.context import Context
from station.services.event_trust import EventTrustService, add_refused, log_refused
from station.store import sync as sync_store
from station.store.db import Priority, Tx
from station.store.rows import PASS_CLIENT, PASS_EMAIL, pass_values
from station.store.sync import Peer

log = logging.getLogger(__name__)

MAX_NAME = 80


@dataclass(frozen=True, slots=True)
class Applied:
    inserted: int
    duplicates: int
    passes: tuple[str, ...] = field(default=())

    def plus(self, other: Applied) -> Applied:
        return Applied(self.inserted + other.inserted, self.duplicates + other.duplicates,
                       (*self.passes, *other.passes))


def conflict_event_id(pass_id: str, scan_id: str, kind: str) -> str:
    return f"evt_{uuid.uuid5(uuid.NAMESPACE_URL, f'station:conflict:{pass_id}:{scan_id}:{kind}').hex}"


class ApplyMode(Enum):
    """How a batch is written. Either way in steps of APPLY_STEP events that share a
    transaction while nothing more urgent waits, and commit at the next step when a door's
    scan is queued (the writer's queue puts it first), so a scan waits for one step at most.
    LIVE (in sync, up to a few hundred events at a time): every commit waits for the disk.
    DOWNLOAD (a history batch, which can be downloaded again): commits do not wait for it."""

    LIVE = "live"
    DOWNLOAD = "download"


# Events per step: a door's scan waits behind one step at most (the steps of a batch share a
# transaction while no scan waits, so small steps cost the download little). Measured with
# benchmarks/writer_bench.py on a shared 2-core machine: the door job's wait in the queue
# p50 10-17 / p95 19-35 ms at 250 events, 18-26 / 32-55 ms at 500, 21-27 / 54-110 ms at
# 1000; steps of 100 waited hardly less (p50 12-18 ms) and made the download 15-40 % slower.
APPLY_STEP = 250


@dataclass(frozen=True, slots=True)
class RemoteBatch:
    """Events another station recorded, as the sync client prepared them (net/sync/prepare):
    `texts` their data already encoded as the log stores it (by event id), `checked` whether
    check_event passed already, `folded` each pass's row folded from this batch alone (used
    for passes the log held no events of before)."""

    events: list[Event]
    texts: dict[str, str] = field(default_factory=dict)
    checked: bool = False
    folded: dict[str, tuple[Any, ...] | None] = field(default_factory=dict)
    # Origin signatures (services/event_trust.py): `signatures_checked` when the worker that
    # prepared the batch screened it already (what it refused is in `refused`); else the ids
    # of the events the hub stored before signing was switched on (accepted unsigned).
    signatures_checked: bool = False
    before_switch: frozenset[str] = frozenset()
    refused: Mapping[tuple[str, str], int] = field(default_factory=dict)
    own_subject: frozenset[str] = frozenset()  # ids of events on their origin's own subject
    # What they are screened against when not checked yet: the sync client's snapshot for this
    # batch (None: one taken here). A snapshot reads several settings; a live follower applies
    # a batch per event another door records, and took two for each.
    trust: EventTrust | None = None


Tracking = Callable[[Tx], None]


@dataclass
class Histories:
    """The logs of passes one batch refolded whole, kept from step to step of that batch: a
    pass whose new events sort inside its log (another door's scans of a pass this door admitted
    meanwhile) is refolded in every step that brings some, and reading and decoding its whole log
    each time made a batch cost its steps times the pass's history (a crew pass with 2,000
    events: 40-260 ms a step, the door waiting behind each). `upto[p]`: the log's seq up to
    which `events[p]` holds every event of pass p; the next step reads only what came after."""

    upto: dict[str, int] = field(default_factory=dict)
    events: dict[str, list[Event]] = field(default_factory=dict)


class RemoteEventService:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self.trust = EventTrustService(ctx)
        self._runner: ThreadPoolExecutor | None = None
        self._runner_lock = threading.Lock()

    def apply(self, events: Sequence[Event]) -> Applied:
        """Apply remote events now, in one transaction, all or nothing: one that is not valid
        raises InvalidInput and changes nothing (peers, tests); see apply_batch. Their origin
        signatures are not checked here: the hub's events come through apply_batch."""
        applied, appended = self._write(RemoteBatch(list(events)), None, ApplyMode.LIVE)
        self._ctx.publish(appended)
        return applied

    def apply_batch(self, batch: RemoteBatch, tracking: Tracking | None = None,
                    mode: ApplyMode = ApplyMode.LIVE) -> Future[Applied]:
        """Insert-or-ignore a batch of remote events and re-fold what they touched, as writer
        jobs of priority SYNC; the events are published once committed. `tracking(tx)` runs
        in the last transaction (the sync client records there how far in the hub's stream it
        has got, so the position commits atomically with the events it covers). The work runs
        on the `sync-apply` thread, never on the caller's (the asyncio loop)."""
        with self._runner_lock:
            if self._runner is None:
                self._runner = ThreadPoolExecutor(1, thread_name_prefix="sync-apply")
            runner = self._runner
        return runner.submit(self._apply_now, batch, tracking, mode)

    def start(self) -> None:
        """A part of the running station: the thread starts with the first batch."""

    def stop(self) -> None:
        self.close()

    def close(self) -> None:
        """Let a batch under way finish, then end the sync-apply thread."""
        with self._runner_lock:
            runner, self._runner = self._runner, None
        if runner is not None:
            runner.shutdown(wait=True)

    def _apply_now(self, batch: RemoteBatch, tracking: Tracking | None,
                   mode: ApplyMode) -> Applied:
        refused = dict(batch.refused)
        if not batch.signatures_checked:
            # An event that is not its origin station's, as signed, never enters the log.
            events, more = self.trust.screen(batch.events, batch.before_switch, batch.texts,
                                             batch.trust, own_subject=batch.own_subject)
            batch = dataclasses.replace(batch, events=events, signatures_checked=True)
            add_refused(refused, more)
        log_refused(refused)
        try:
            applied, appended = self._write(batch, tracking, mode)
        except InvalidInput:
            # One bad event must not hold back the others: apply them one at a time, then the
            # position.
            applied, appended = Applied(0, 0), []
            for event in batch.events:
                try:
                    one, events = self._write(RemoteBatch([event]), None, ApplyMode.LIVE)
                except InvalidInput as exc:
                    log.warning("refused synced event %s: %s", event.id[:40], exc)
                    continue
                applied = applied.plus(one)
                appended += events
            _, events = self._write(RemoteBatch([]), tracking, ApplyMode.LIVE)
            appended += events
        self._ctx.publish(appended)
        return applied

    def _write(self, batch: RemoteBatch, tracking: Tracking | None,
               mode: ApplyMode) -> tuple[Applied, list[Event]]:
        if not batch.checked:
            for event in batch.events:
                check_event(event)
        store = self._ctx.store
        events = batch.events
        step = APPLY_STEP
        folded = batch.folded
        if len(events) > step:
            # A pass whose events straddle two steps is folded by the writer from its history:
            # the prepared row holds the later step's events, not in the log yet.
            first_step: dict[str, int] = {}
            straddle = {e.pass_id for i, e in enumerate(events)
                        if e.pass_id and first_step.setdefault(e.pass_id, i // step) != i // step}
            folded = {k: v for k, v in folded.items() if k not in straddle}
        starts = range(0, max(len(events), 1), step)
        last = starts[-1]
        histories = Histories()
        steps = [
            functools.partial(self._step, events=events[start:start + step], batch=batch,
                              folded=folded, tracking=tracking if start == last else None,
                              histories=histories)
            for start in starts]
        # A download commits without waiting for the disk (the store's background thread copies
        # the WAL after each such commit); a live batch waits for it, as every other write.
        results = store.submit_steps(steps, Priority.SYNC,
                                     fsync=mode is ApplyMode.LIVE).result()
        applied, appended = Applied(0, 0), []
        for one, events_of_step in results:
            applied = applied.plus(one)
            appended += events_of_step
        return applied, appended

    def _step(self, tx: Tx, events: Sequence[Event], batch: RemoteBatch,
              folded: Mapping[str, tuple[Any, ...] | None],
              tracking: Tracking | None, histories: Histories) -> tuple[Applied, list[Event]]:
        """A step of a batch: the writer runs the steps in one transaction while no more
        urgent job waits, and commits between two when one does."""
        return self._apply_in(tx, events, batch, folded, tracking, histories)

    def _apply_in(self, tx: Tx, events: Sequence[Event], batch: RemoteBatch,
                  folded: Mapping[str, tuple[Any, ...] | None],
                  tracking: Tracking | None,
                  histories: Histories | None = None) -> tuple[Applied, list[Event]]:
        """One transaction: every event inserted unless its id is held, every touched pass
        folded once, from the events the log held before (one query per 500 passes) and
        these (from memory)."""
        names: dict[str, str] = {}
        head = sync_store.log_head(tx)
        fresh = sync_store.insert_new_events(tx, events, head, batch.texts)
        touched: dict[str, None] = {}
        if fresh:
            # Observing the latest stamp is enough: our next event orders after all of them.
            self._ctx.hlc.observe(Stamp.decode(max(e.hlc for e in fresh)))
        for event in fresh:
            self._materialise(tx, event)
            name = event.data.get("stationName")
            if isinstance(name, str) and event.origin != tx.station_id:
                names[event.origin] = name[:MAX_NAME]
            if event.pass_id:
                touched[event.pass_id] = None
        if touched:
            self._refold_all(tx, list(touched), fresh, head, folded,
                             Histories() if histories is None else histories)
        if names:
            self._merge_names(tx, names)
        if tracking is not None:
            tracking(tx)
        return Applied(len(fresh), len(events) - len(fresh), tuple(touched)), tx.appended

    def _refold_all(self, tx: Tx, pass_ids: list[str], fresh: Sequence[Event], head: int,
                    folded: Mapping[str, tuple[Any, ...] | None], histories: Histories) -> None:
        # Each pass's history: what the log held before this batch plus this batch's events.
        # Read from the log only when needed: a pass new to this station (a catch-up) takes
        # the worker's row; new admissions of a pass this station holds are counted onto its
        # stored row (fold_next: a crew pass scanned thousands of times at other doors costs
        # the same to follow as a fresh one); anything else is folded from its whole history.
        held = sync_store.with_events_before(tx, pass_ids, head)
        fresh_of: dict[str, list[Event]] = {p: [] for p in pass_ids}
        for event in fresh:
            if event.pass_id in fresh_of:
                fresh_of[event.pass_id].append(event)
        rows: list[tuple[Any, ...]] = []
        onto: list[Pass] = []
        history_of: dict[str, list[Event]] = {}
        for pass_id in pass_ids:
            ready = folded.get(pass_id)
            if pass_id not in held:
                if ready is not None:
                    # Nothing before this batch: its fold of this batch alone is the whole story.
                    rows.append(ready)
                    continue
            elif (after := self._onto_stored(tx, pass_id, fresh_of[pass_id], head)) is not None:
                onto.append(after)
                continue
            history_of[pass_id] = []
        self._read_histories(tx, list(history_of), head, histories)
        for pass_id, history in history_of.items():
            history += histories.events[pass_id]
            history += fresh_of[pass_id]
        emails: dict[str, str | None] = {}

        def email_of(client_id: str) -> str | None:
            if client_id not in emails:
                client = tx.client_by_id(client_id)
                emails[client_id] = client.email if client else None
            return emails[client_id]

        for i, row in enumerate(rows):
            if row[PASS_CLIENT]:
                rows[i] = (*row[:PASS_EMAIL], email_of(row[PASS_CLIENT]), *row[PASS_EMAIL + 1:])
        for after in onto:
            rows.append(pass_values(after, email_of(after.client_id) if after.client_id else None))
        conflicts: list[tuple[Pass, ScanConflict]] = []
        for pass_id, history in history_of.items():
            result = fold(history)
            after = result.pass_
            if after is None:
                continue
            rows.append(pass_values(after, email_of(after.client_id) if after.client_id else None))
            conflicts.extend((after, c) for c in result.conflicts)
        tx.upsert_pass_values(rows)
        for after, conflict in conflicts:
            self._announce_conflict(tx, after, conflict)

    @staticmethod
    def _read_histories(tx: Tx, pass_ids: list[str], head: int, histories: Histories) -> None:
        """Make `histories` hold each pass's events up to `head`: read whole the first time in
        a batch, then only what the log gained since (this batch's earlier steps, the door's
        scans between them, conflicts they announced)."""
        whole = [p for p in pass_ids if p not in histories.upto]
        for pass_id, events in sync_store.events_of_passes_before(tx, whole, head).items():
            histories.events[pass_id] = events
            histories.upto[pass_id] = head
        by_start: dict[int, list[str]] = {}
        for pass_id in pass_ids:
            if histories.upto[pass_id] < head:
                by_start.setdefault(histories.upto[pass_id], []).append(pass_id)
        for after, ids in by_start.items():
            for pass_id, events in sync_store.events_of_passes_before(
                    tx, ids, head, after=after).items():
                histories.events[pass_id] += events
                histories.upto[pass_id] = head

    @staticmethod
    def _onto_stored(tx: Tx, pass_id: str, events: Sequence[Event], head: int) -> Pass | None:
        """The pass after `events`, folded onto its stored row (the fold of the log up to
        `head`) one at a time, or None when one of them needs the whole log (fold_next)."""
        after = tx.pass_by_id(pass_id)
        last = sync_store.last_event_key_before(tx, pass_id, head)
        if after is None or last is None:
            return None
        for event in sorted(events, key=Event.order_key):
            key = event.order_key()
            if key <= last or (after := fold_next(after, event)) is None:
                return None
            last = key
        return after

    def _announce_conflict(self, tx: Tx, after: Pass, conflict: ScanConflict) -> None:
        """A conflict the fold found, as one event every station derives the same id for."""
        event_id = conflict_event_id(after.id, conflict.scan_id, conflict.kind)
        if tx.has_event(event_id):
            return
        data = {**after.to_api(), "from": str(after.status), "to": str(after.status),
                "by": "sync", "reason": conflict.kind, "trigger": "conflict",
                "scanId": conflict.scan_id, "scanStationId": conflict.station_id,
                "scannedAt": conflict.scanned_at}
        self._ctx.record(tx, EventType.PASS_STATUS_CHANGED, data, pass_id=after.id,
                         event_id=event_id)

    def _materialise(self, tx: Tx, event: Event) -> None:
        """Rows that are not part of the fold: the scan a peer recorded, a client it created."""
        data = event.data
        if event.type == EventType.PASS_SCANNED and isinstance(data.get("scan"), dict):
            s = data["scan"]
            try:
                scan = Scan(
                    id=str(s["id"]), pass_id=event.pass_id, station_id=str(s["stationId"]),
                    scanned_at=str(s["scannedAt"]), verdict=Verdict(s["verdict"]),
                    reason=s.get("reason"), source=str(s.get("source") or Source.PEER),
                    operator=s.get("operator"),
                )
            except (KeyError, ValueError):
                log.warning("event %s carries a malformed scan; kept in the log only", event.id)
                return
            sync_store.insert_scan_if_absent(tx, scan, event.id, s)
        elif event.type == EventType.CLIENT_CREATED and data.get("id") and data.get("name"):
            sync_store.insert_client_if_absent(tx, Client(
                id=str(data["id"]), name=str(data["name"]), email=data.get("email"),
                phone=data.get("phone"), created_at=str(data.get("createdAt") or event.timestamp),
            ))

    def _merge_names(self, tx: Tx, names: Mapping[str, str]) -> None:
        known = dict(self._ctx.store.setting("station_names", {}) or {})
        merged = {**known, **names}
        merged.pop(tx.station_id, None)
        if merged != known:
            tx.set_setting("station_names", merged)

    # --- what the hub tells about the organisation --------------------------------------------
    def learn_stations(self, peers: Iterable[Peer]) -> None:
        """Names and log heads other stations announced (names make "Already used at Door 2")."""
        own = self._ctx.station_id
        others = [Peer(p.station_id, p.name[:MAX_NAME], p.head_seq, p.seen_at)
                  for p in peers if p.station_id != own]
        if not others:
            return
        def _in_tx(tx: Tx) -> None:
            sync_store.upsert_peers(tx, others)
            self._merge_names(tx, {p.station_id: p.name for p in others})

        self._ctx.store.write(_in_tx, Priority.SYNC)

    def learn_keys(self, public_keys: Iterable[str]) -> int:
        """Trust the organisation's public keys, so passes created at any door verify here."""
        known = set(self._ctx.keys.public_keys_b64())
        added = 0
        for key in public_keys:
            if key in known:
                continue
            try:
                self._ctx.keys.trust(key)
                added += 1
            except InvalidInput:
                log.warning("the hub offered a value that is not a public key; ignored")
        return added
