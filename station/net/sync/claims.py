"""Strict single use through the hub: claims, and giving them back.

A door claims a single-use pass in the organisation's `claims` bucket before admitting (first
create wins). A claim is given back when the admission is undone (the undo's transaction
recorded the release in store/releases.py, so it survives a restart) or when the door could not
record the scan it claimed for.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence

import nats.errors
import nats.js.errors

from station.domain.times import to_iso
from station.net.sync import jetstream
from station.net.sync.offload import finish_in_thread
from station.services.claims import Claim, ClaimState
from station.services.context import Context
from station.store import releases as releases_store

log = logging.getLogger(__name__)


class HubClaims:
    """The claims bucket of the current session (`handles` None: no session, decide offline)."""

    def __init__(self, ctx: Context, origins: Callable[[], Sequence[str]]) -> None:
        """`origins`: every id this station has recorded under (a blocking settings read)."""
        self._ctx = ctx
        self._origins = origins
        self.handles: jetstream.Handles | None = None
        # One round of giving back claims at a time (the undos' rows in store/releases.py).
        self._releasing: asyncio.Lock | None = None

    async def claim(self, handles: jetstream.Handles, pass_id: str, name: str) -> Claim:
        """`name`: this station's name, read by the caller on its own thread (a settings
        read here would be a SQLite statement on the loop thread in the middle of the round
        trip: each gives up the GIL, which publishing and applying then hold)."""
        own = self._ctx.station_id
        at = to_iso(self._ctx.now())
        body = json.dumps({"stationId": own, "name": name, "at": at}).encode()
        try:
            await handles.claims.create(pass_id, body)
            return Claim(ClaimState.CLAIMED, own, name, at, fresh=True)
        except nats.js.errors.KeyWrongLastSequenceError:
            pass
        except (nats.errors.Error, asyncio.TimeoutError, OSError):
            return Claim(ClaimState.OFFLINE)
        try:
            entry = await handles.claims.get(pass_id)
        except (nats.errors.Error, asyncio.TimeoutError, OSError):
            return Claim(ClaimState.TAKEN)
        holder = jetstream.json_or_none(entry.value or b"") or {}
        holder_id = str(holder.get("stationId") or "")
        if holder_id == own:
            return Claim(ClaimState.CLAIMED, own, name)
        return Claim(ClaimState.TAKEN, holder_id or None, str(holder.get("name") or "") or None,
                     str(holder.get("at") or "") or None)

    async def unclaim(self, handles: jetstream.Handles, pass_id: str, claimed_at: str) -> None:
        try:
            await self._release(handles, pass_id, claimed_at)
        except (nats.errors.Error, asyncio.TimeoutError, OSError) as exc:
            log.info("giving back the claim on %s failed (%s)", pass_id, exc)

    async def release_pending(self) -> None:
        """Give back every recorded claim; each row goes once the hub has been told."""
        if self._releasing is None:
            self._releasing = asyncio.Lock()
        async with self._releasing:
            handles = self.handles
            if handles is None:
                return
            store = self._ctx.store
            pending = await asyncio.to_thread(releases_store.pending_releases, store)
            for pass_id, admitted_at in pending:
                try:
                    await self._release(handles, pass_id, admitted_at)
                except (nats.errors.Error, asyncio.TimeoutError, OSError) as exc:
                    log.info("giving back the claim on %s failed (%s); will retry", pass_id, exc)
                    return
                await finish_in_thread(releases_store.release_done, store, pass_id, admitted_at)

    async def _release(self, handles: jetstream.Handles, pass_id: str, admitted_at: str) -> None:
        try:
            entry = await handles.claims.get(pass_id)
        except nats.js.errors.KeyNotFoundError:  # also a deleted key
            return
        holder = jetstream.json_or_none(entry.value or b"") or {}
        if str(holder.get("stationId") or "") not in self._origins():
            return  # another door holds it: its admission stands
        if str(holder.get("at") or "") > admitted_at:
            return  # this door admitted the guest again since: that claim stands
        try:
            await handles.claims.delete(pass_id, last=entry.revision)
        except nats.js.errors.KeyWrongLastSequenceError:
            pass  # claimed again meanwhile
