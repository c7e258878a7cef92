"""From the door journal into the log: the scans a door decided, merged by a writer job.

ScanService decides a scan, inside the journal's write transaction, from the pass as its
thread's reader sees it plus the journal's unmerged entries for that pass, appends the entry
(fsync) and returns. The merge thread (`station-door-merge`) then runs one DOOR-priority writer job for every entry
pending: each becomes its event (origin_seq and HLC given here, in the writer's transaction,
so the station's sequence and the signed events' hash chain are as if the scan had been
written directly), its pass refolded onto the row as it stands now, and its scan row. After
the commit the events are published (Context.write) and the entries deleted from the journal. A merge is idempotent by scan id: an entry whose scan row is already
in the log (a crash between the merge's commit and the journal's delete) is only deleted.
See docs/door-journal.md.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from station.domain.errors import StorageError
from station.domain.events import Event, EventType
from station.domain.models import Pass, PassStatus, Scan, Source, Verdict
from station.domain.times import parse_iso
from station.services.context import Context
from station.services.passes import PassService
from station.store.db import Priority, Tx
from station.store.door_journal import DoorJournal
from station.store.writer import WriterClosed

log = logging.getLogger(__name__)

THREAD_NAME = "station-door-merge"
RETRY_S = 1.0  # after a merge the main database refused (full disk): try again this often
# The merge thread starts a merge at most this often: a door scanning every 50 ms while its
# station downloads a history merged each scan alone, and each merge cut the download's
# transaction (100k events: the download 1.6-2.1x slower with the door than without). A lone
# scan is still merged at once; a stream of them in batches of 0.2 s.
MERGE_INTERVAL_S = 0.2
# While the station downloads a history (a commit without fsync in the last second), at most
# one merge per second: each merge still cut the download's transaction, and its fsync'd commit
# wrote out the megabytes the download had left in the main WAL, which the door's next fsync
# then queued behind (see docs/door-journal.md). The delay is bounded, and a scan after a
# quiet second is merged at once.
MERGE_INTERVAL_DOWNLOADING_S = 1.0


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """What a door decided, as the merge needs it: the scan row, and the event before it has
    a place in the log (origin_seq 0, no HLC: the merge gives both)."""

    scan: Scan
    event: Event | None  # None: a refusal that names no pass (a scan row, no event)
    counts: bool = False  # an admission: the merge folds it onto the pass (record_pass_change)
    expire: bool = False  # the decision found the pass past validUntil: the merge expires it
    entry_id: int = 0  # the journal's id, once appended

    def to_json(self) -> str:
        event = self.event
        return json.dumps({
            "scan": asdict(self.scan),
            "event": None if event is None else {
                "id": event.id, "type": event.type, "timestamp": event.timestamp,
                "data": event.data, "passId": event.pass_id},
            "counts": self.counts, "expire": self.expire,
        }, separators=(",", ":"))

    @classmethod
    def from_json(cls, entry_id: int, text: str) -> JournalEntry:
        raw = json.loads(text)
        scan = raw["scan"]
        scan = Scan(**{**scan, "verdict": Verdict(scan["verdict"]), "source": Source(scan["source"])})
        ev = raw["event"]
        event = None if ev is None else Event(
            id=ev["id"], type=ev["type"], timestamp=ev["timestamp"], data=ev["data"],
            origin=scan.station_id, origin_seq=0, hlc="", pass_id=ev["passId"])
        return cls(scan, event, bool(raw["counts"]), bool(raw["expire"]), entry_id)


def parse_all(texts: Sequence[str]) -> list[JournalEntry]:
    return [JournalEntry.from_json(0, text) for text in texts]


def announce(ctx: Context, tx: Tx, before: Pass, after: Pass, *, by: str, trigger: str,
             event: Event) -> None:
    """A status the fold derived from a scan or an undo, as `pass.status_changed` stamped as
    its cause (so its data's updatedAt is its own timestamp)."""
    if after.status != before.status and not before.provisional:
        data = {**after.to_api(), "from": str(before.status), "to": str(after.status), "by": by,
                "reason": "scanned" if trigger == "scan" else "scan undone", "trigger": trigger}
        ctx.record(tx, EventType.PASS_STATUS_CHANGED, data, pass_id=after.id,
                   at=parse_iso(event.timestamp))


def merge_entry(ctx: Context, passes: PassService, tx: Tx, entry: JournalEntry) -> None:
    """Record one journal entry in the log inside `tx` (nothing when it already is)."""
    scan, event = entry.scan, entry.event
    if tx.has_scan(scan.id):
        return  # merged before a crash kept its journal entry
    if event is None or event.pass_id is None:
        tx.insert_scan(scan, None)
        return
    current = tx.pass_by_id(event.pass_id)
    if (entry.expire and current is not None and not current.provisional
            and current.status is PassStatus.ACTIVE and current.valid_until is not None):
        current = passes.expire_in(tx, current)
    at = parse_iso(event.timestamp)
    name = ctx.station_name
    data = {**event.data, "stationName": name}
    if entry.counts:
        # Onto the row as it stands now: what sync or another merge applied since the
        # decision is kept (fold_next, or the whole log when the pass changed otherwise).
        recorded, after = ctx.record_pass_change(
            tx, event.type, data, pass_id=event.pass_id, event_id=event.id, at=at,
            current=current)
        if current is not None and after is not None:
            announce(ctx, tx, current, after, by=scan.operator or name, trigger="scan",
                     event=recorded)
    else:  # a refusal changes nothing: the pass as it stands
        if current is not None:
            data = {**data, **current.to_api()}
        recorded = ctx.record(tx, event.type, data, pass_id=event.pass_id, event_id=event.id,
                              at=at)
    # The door's keys of the scan (direction, list, re-entry) go into its row as a direct
    # write's would; the occupancy rows follow from the event (the store's append hook).
    door_keys = event.data.get("scan")
    tx.insert_scan(scan, recorded.id, door_keys if isinstance(door_keys, dict) else None)


class ScanMerger:
    """Merges the door journal into the log: a thread woken by each append, and the same work
    on the caller's thread at start and stop. The journal file itself is the overlay a
    decision reads (`parse_all(appending.entries_for(pass_id))`), so entries of
    another process on the same data directory, or left by a crash, count too."""

    def __init__(self, ctx: Context, passes: PassService, journal: DoorJournal) -> None:
        self._ctx = ctx
        self._passes = passes
        self.journal = journal
        self._cond = threading.Condition()
        self._appended = 0  # the greatest entry id this process appended (or waits for)
        self._merged_through = 0  # every entry up to this id is in the log
        self._failed_through = 0  # a merge of the entries up to this id failed (retried)
        self._merging = threading.Lock()  # one merge at a time (thread, start, close)
        # The merge thread waits for an append (not for its interval, nor merging): only then
        # does an append need to wake it.
        self._idle = False
        self._thread: threading.Thread | None = None
        self._closed = False

    def start(self) -> None:
        """A running station (Station.start): the merge thread starts now and first opens
        the journal, so that its opening (the WAL grown, see DoorJournal) is not the first
        scan's: 74 ms of an 83 ms first scan at a 100k download's start here."""
        with self._cond:
            self._start_thread(opening=True)

    def appended(self, entry_id: int) -> None:
        """An entry is in the journal: merge it soon."""
        with self._cond:
            self._appended = max(self._appended, entry_id)
            if self._thread is None:
                self._start_thread(opening=False)
            elif self._idle:
                # Only then: waiting out its interval, or merging, the thread takes this entry
                # in its next merge anyway, and waking it at every scan of a busy door was a
                # thread switch in the middle of the next scan (its hub claim, its decision).
                self._cond.notify_all()

    def _start_thread(self, *, opening: bool) -> None:  # under self._cond
        if self._thread is None and not self._closed:
            self._thread = threading.Thread(target=self._serve, args=(opening,),
                                            name=THREAD_NAME, daemon=True)
            self._thread.start()

    def merge_now(self, entry: JournalEntry) -> list[Event]:
        """Record `entry` in the log now, as a DOOR job (a scan its caller waits for, decided
        under the journal's lock and never appended to it); the events to publish once the
        caller has let that lock go (a subscriber may read the journal)."""
        def merge(tx: Tx) -> list[Event]:
            merge_entry(self._ctx, self._passes, tx, entry)
            return list(tx.appended)
        return self._ctx.store.write(merge, Priority.DOOR)

    def wait_merged(self, entry_id: int) -> None:
        """Until the entry is in the log, or a merge of it failed (it stays in the journal and
        is merged later: the caller's verdict stands, only reading it back may not show it)."""
        with self._cond:
            while self._merged_through < entry_id and self._failed_through < entry_id:
                if self._closed and self._thread is None:
                    return
                self._cond.wait()

    def wait_scan(self, scan_id: str) -> None:
        """Until the scan `scan_id`, if it is still in the journal, is in the log (an undo)."""
        entry_id = self.journal.entry_of_scan(scan_id)
        if entry_id is not None:
            self.appended(entry_id)
            self.wait_merged(entry_id)

    def pending_count(self) -> int:
        """Entries in the journal (this process's and others')."""
        return self.journal.count()

    # --- merging ------------------------------------------------------------------------------
    def recover(self) -> None:
        """At start: what an earlier run appended and did not merge (it stopped, or crashed
        after showing a verdict) goes into the log before this station takes new scans."""
        try:
            merged = self.merge_pending()
        except StorageError as exc:  # decisions count them all the same; a scan retries
            log.warning("%s", exc.about("save the door's scans of the last run to the log",
                                        "they are kept and saved as soon as possible"))
            return
        if merged:
            log.info("merged %d door scans a previous run had not saved to the log", merged)

    def merge_pending(self, priority: Priority = Priority.DOOR) -> int:
        """Merge every entry of the journal now, on this thread; how many (StorageError when
        the journal or the log refuses). `priority`: DOOR for someone waiting on the merge (an
        API or command-line scan, start, stop); the merge thread's own merges are USER jobs:
        nobody waits for them, and as DOOR jobs they marked the door busy, so a download
        committed after every step (DOOR_BUSY_S) while the door scanned."""
        with self._merging:
            with self._cond:
                upto = self._appended  # appended before this read: in the batch (or merged)
            try:
                batch = [JournalEntry.from_json(i, text) for i, text in self.journal.pending()]
                if batch:
                    self._ctx.write(lambda tx: self._merge_in(tx, batch), priority)
            except BaseException:
                with self._cond:
                    self._failed_through = max(self._failed_through, upto)
                    self._cond.notify_all()
                raise
            # In the log now: whoever waits for these entries goes on (the journal's delete
            # below is bookkeeping; a crash before it only makes a merge find them again).
            with self._cond:
                last = max([upto, *(e.entry_id for e in batch)])
                self._merged_through = max(self._merged_through, last)
                self._cond.notify_all()
            try:
                self.journal.delete([e.entry_id for e in batch])
            except StorageError as exc:  # merged all the same: the next merge deletes them
                log.info("%s", exc)
            return len(batch)

    def _merge_in(self, tx: Tx, batch: Sequence[JournalEntry]) -> None:
        for entry in batch:
            merge_entry(self._ctx, self._passes, tx, entry)

    def _serve(self, opening: bool = False) -> None:
        if opening:
            try:
                self.journal.open()
            except StorageError as exc:  # the first scan says so, in its own sentence
                log.info("%s", exc)
        failing = False
        started = -MERGE_INTERVAL_S
        while True:
            with self._cond:
                while self._merged_through >= self._appended and not self._closed:
                    self._idle = True
                    self._cond.wait()
                self._idle = False
                while not self._closed:  # at most one merge per interval (see MERGE_INTERVAL_S)
                    left = started + self._interval() - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._closed:
                    self._thread = None
                    self._cond.notify_all()
                    return
            started = time.monotonic()
            try:
                self.merge_pending(Priority.USER)
                failing = False
            except (StorageError, WriterClosed) as exc:
                if not failing:  # once per spell, not every retry
                    log.warning("The door's last scans are kept in its journal and saved to "
                                "the log as soon as possible: %s", exc)
                failing = True
                with self._cond:
                    self._cond.wait(RETRY_S)
            except Exception:  # a bug: said with its traceback, the entries stay
                log.exception("merging the door's scans into the log failed")
                with self._cond:
                    self._cond.wait(RETRY_S)

    def _interval(self) -> float:
        """The least time from one merge's start to the next one's."""
        if self._ctx.store.downloading(MERGE_INTERVAL_DOWNLOADING_S):
            return MERGE_INTERVAL_DOWNLOADING_S
        return MERGE_INTERVAL_S

    def close(self) -> None:
        """Stop the merge thread, then merge what is left (kept in the journal if that fails:
        the next start merges it)."""
        with self._cond:
            self._closed = True
            thread = self._thread
            self._cond.notify_all()
        if thread is not None:
            thread.join()
        try:
            self.merge_pending()
        except StorageError as exc:
            log.warning("%s", exc.about("save the door's last scans to the log",
                                        "they are kept and saved at the next start"))
        finally:
            self.journal.close()


def unmerged_events(entries: Sequence[JournalEntry], present: set[str]) -> list[Event]:
    """The events of `entries` the log does not hold yet."""
    return [e.event for e in entries if e.event is not None and e.event.id not in present]
