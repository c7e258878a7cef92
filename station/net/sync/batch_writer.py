"""The follower's `apply`: hands each received batch to `RemoteEventService.apply_batch`.

How a batch is written (one fsync'd transaction once in sync; while the history downloads,
steps of the writer's SYNC priority that let a door's scan in between, then a WAL copy) is the
services' business (services/sync_apply.py); this only keeps the loop side: retry a batch the
disk refused, and never give up on one whose transaction has started.
"""

from __future__ import annotations

import asyncio
import logging

from station.domain.errors import StationError
from station.net.sync.cancelling import wait_out
from station.net.sync.follower import Apply, PreparedBatch
from station.services.sync_apply import ApplyMode, RemoteBatch, RemoteEventService
from station.store import sync as sync_store
from station.store.db import Tx

log = logging.getLogger(__name__)

RETRY_S = 1.0


class BatchWriter:
    """Writes the follower's batches for one hub (its progress is kept under `hub_key`)."""

    def __init__(self, remote: RemoteEventService) -> None:
        self._remote = remote

    def for_hub(self, hub_key: str) -> Apply:
        """The follower's `apply` for one hub's stream (the position is kept under `hub_key`)."""
        async def apply(batch: PreparedBatch, stream_seq: int, downloading: bool) -> None:
            await self.apply(batch, hub_key, stream_seq, downloading)
        return apply

    async def apply(self, batch: PreparedBatch, hub_key: str, stream_seq: int,
                    downloading: bool) -> None:
        """Retried until it commits (a full disk, a locked database), except for a
        StationError, which ends the session. The stream position commits with the batch's
        last step, so it never runs ahead of what is stored."""
        def record_position(tx: Tx) -> None:
            sync_store.set_stream_seq(tx, hub_key, stream_seq)

        mode = ApplyMode.DOWNLOAD if downloading else ApplyMode.LIVE
        remote = RemoteBatch(batch.events, batch.texts, batch.checked, batch.folded,
                             batch.signatures_checked, batch.before_switch, batch.refused,
                             batch.own_subject, batch.trust)
        while True:
            applying = asyncio.wrap_future(self._remote.apply_batch(remote, record_position, mode))
            try:
                await asyncio.shield(applying)
                return
            except asyncio.CancelledError:
                # Stopping: a batch under way finishes (commits or rolls back) first, so no
                # thread is left calling into a store about to close (even if cancelled again).
                await wait_out(applying)
                raise
            except StationError:
                raise
            except Exception:  # disk full, database locked: keep the batch and try again
                log.exception("applying %d synced events failed; retrying", len(batch.events))
                await asyncio.sleep(RETRY_S)
