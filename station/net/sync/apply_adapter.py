"""How a synced batch is written to SQLite: the follower's `apply`, wired by SyncClient.

TEMPORARY, replaced by `RemoteEventService.apply_batch(batch, tracking, mode)` at the merge of
issue 12's one-writer work: this is the write policy as it stood in the sync client (a batch and
its stream position in one transaction, the history in steps while the door scans, the WAL
copied in the background), kept in one place so that swap touches nothing else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from station.domain.errors import InvalidInput, StationError
from station.net.sync.follower import Apply, PreparedBatch
from station.net.sync.offload import finish_in_thread
from station.services.context import Context
from station.services.sync_apply import RemoteEventService
from station.store import sync as sync_store
from station.store.db import Tx

log = logging.getLogger(__name__)


class BatchWriter:
    """Writes the follower's batches for one hub (its progress is kept under `hub_key`)."""

    def __init__(self, ctx: Context, remote: RemoteEventService, *, download_step: int,
                 door_quiet_s: float) -> None:
        self._ctx = ctx
        self._remote = remote
        self._download_step = download_step
        self._door_quiet_s = door_quiet_s
        self._wal_copy: asyncio.Future[None] | None = None

    def for_hub(self, hub_key: str) -> Apply:
        """The follower's `apply` for one hub's stream (the position is kept under `hub_key`)."""
        async def apply(batch: PreparedBatch, stream_seq: int, downloading: bool) -> None:
            await self.apply(batch, hub_key, stream_seq, downloading)
        return apply

    async def apply(self, batch: PreparedBatch, hub_key: str, stream_seq: int,
                    downloading: bool) -> None:
        """Retried until it commits (a full disk, a locked database), except for a
        StationError, which ends the session."""
        while True:
            try:
                await finish_in_thread(self._apply_events, batch, hub_key, stream_seq, downloading)
                break
            except StationError:
                raise
            except Exception:  # disk full, database locked: keep the batch and try again
                log.exception("applying %d synced events failed; retrying", len(batch.events))
                await asyncio.sleep(1.0)
        if downloading:
            self._copy_wal_soon()

    async def wait_idle(self) -> None:
        """A WAL copy still running uses a store connection: the station closes the store once
        sync has stopped, and closing it under a running statement crashes."""
        copy = self._wal_copy
        if copy is not None and not copy.done():
            await asyncio.wait({copy})

    def _copy_wal_soon(self) -> None:
        """A history batch commits without copying the WAL into the database file (see
        Store.transaction): that copy runs here, in another thread, one at a time, so the WAL
        stays small and a door's next commit does not have to do it."""
        if self._wal_copy is None or self._wal_copy.done():
            self._wal_copy = asyncio.ensure_future(asyncio.to_thread(self._copy_wal))

    def _copy_wal(self) -> None:
        try:
            self._ctx.store.checkpoint()
        except Exception as exc:  # the next one, or SQLite's own, copies it then
            log.debug("copying the WAL into the database failed (%s)", exc)

    def _apply_events(self, batch: PreparedBatch, hub_key: str, stream_seq: int,
                      downloading: bool) -> None:
        """In the writer thread: the batch and the stream position, in one transaction.

        While the history is downloading, commits do not wait for the disk (fsync=False): a
        power cut can only lose whole batches together with their position, which the station
        then downloads again; once in sync every commit is fsync'd as before."""
        def record_position(tx: Tx) -> None:
            sync_store.set_stream_seq(tx, hub_key, stream_seq)

        try:
            if downloading:
                self._apply_download(batch, record_position)
            else:
                self._remote.apply(batch.events, record_position, data_texts=batch.texts,
                                   folded=batch.folded, checked=batch.checked)
            return
        except InvalidInput:
            pass
        # One bad event must not hold back the others: apply them one at a time, then the
        # position.
        for event in batch.events:
            try:
                self._remote.apply([event])
            except InvalidInput as exc:
                log.warning("refused synced event %s: %s", event.id[:40], exc)
        self._remote.apply([], record_position)

    def _apply_download(self, batch: PreparedBatch, record_position: Callable[[Tx], None]) -> None:
        """A history batch: one transaction, or, while the door is scanning (a scan in the
        last `door_quiet_s`), transactions of `download_step` events that let a waiting scan
        take the writer lock between two (one transaction for the whole batch held it, and
        the guest, for a tenth of a second or more, under load far more). Only the last one
        records the position: a crash in between downloads the earlier steps again, and
        inserting them is a no-op."""
        events = batch.events
        door_busy = self._ctx.store.door_used_within(self._door_quiet_s)
        step = self._download_step if door_busy else max(len(events), 1)
        folded = batch.folded
        if step < len(events):
            # A pass whose events straddle two steps is folded by the writer from its history:
            # the worker's row holds the later step's events, not in the log yet.
            first_step: dict[str, int] = {}
            straddle = {e.pass_id for i, e in enumerate(events)
                        if e.pass_id and first_step.setdefault(e.pass_id, i // step) != i // step}
            folded = {k: v for k, v in folded.items() if k not in straddle}
        for start in range(0, max(len(events), 1), step):
            if start:
                self._ctx.store.let_waiting_writers_in()
            last = start + step >= len(events)
            self._remote.apply(events[start:start + step], record_position if last else None,
                               fsync=False, data_texts=batch.texts, folded=folded,
                               checked=batch.checked)
