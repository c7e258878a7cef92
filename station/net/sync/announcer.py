"""Names and keys: what each station tells the hub about itself and learns of the others."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Callable, Iterable

import nats.errors

from station.domain import tokens
from station.domain.times import to_iso
from station.net.sync import jetstream
from station.net.sync.progress import Clock
from station.services.context import Context
from station.services.key_trust import KeyTrust
from station.services.sync_apply import RemoteEventService
from station.store.sync import Peer

log = logging.getLogger(__name__)


class Announcer:
    """Puts this station's name, log head and public keys on the hub every
    `interval_s`, and learns everybody else's (their keys verify their passes' tokens here)."""

    def __init__(self, ctx: Context, remote: RemoteEventService, handles: jetstream.Handles, *,
                 head_of: Callable[[str], int], known_origins: set[str], interval_s: float,
                 clock: Clock, trust: KeyTrust | None = None) -> None:
        """`known_origins`: stations whose keys are here already, shared across sessions."""
        self._trust = trust or KeyTrust(ctx)
        self._ctx = ctx
        self._remote = remote
        self._handles = handles
        self._head_of = head_of
        self._known = known_origins
        self._interval_s = interval_s
        self._clock = clock
        self._keys_put: set[str] = set()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.exchange()
            except (nats.errors.Error, asyncio.TimeoutError, OSError) as exc:
                log.debug("announcing failed (%s)", exc)

    async def meet(self, origins: Iterable[str]) -> None:
        """Before a batch from a station not heard of is applied: fetch its public keys, so its
        tokens verify here at once (it put them before publishing)."""
        new = set(origins) - self._known
        if not new:
            return
        try:
            await self.exchange()
        except (nats.errors.Error, asyncio.TimeoutError, OSError) as exc:
            # The next batch asks again (its events are refused as from an unknown origin
            # until its key is here).
            log.debug("fetching keys failed (%s)", exc)

    async def exchange(self) -> None:
        """Tell the hub our name, log head and public keys; learn everybody else's.

        Order matters, so that a station counted as known always has its keys here: keys are
        put before our entry in `stations`, `stations` is read before the keys, and origins
        count as known only once the keys read with them are trusted."""
        handles, own = self._handles, self._ctx.station_id
        certificate = await asyncio.to_thread(self._trust.certificate)
        if certificate is not None:
            # Enrolled: our certified key, under our id (the only keys entry we may write).
            if own not in self._keys_put:
                await handles.keys.put(own, json.dumps(certificate).encode())
                self._keys_put.add(own)
        else:
            for key in self._ctx.keys.trusted:
                kid = tokens.key_id(key)
                if kid not in self._keys_put:
                    b64 = base64.b64encode(tokens.public_key_bytes(key)).decode()
                    await handles.keys.put(kid, b64.encode())
                    self._keys_put.add(kid)
        head = await asyncio.to_thread(self._head_of, own)
        me = {"name": self._ctx.station_name, "headSeq": head, "at": to_iso(self._clock.now()),
              "keys": self._remote.trust.own_key_ids()}  # the key its events are signed with
        await handles.stations.put(own, json.dumps(me).encode())
        stations = await handles.read("stations")
        keys = await handles.read("keys")
        peers = []
        event_keys: dict[str, list[str]] = {}
        for station_id, raw in stations.items():
            info = jetstream.json_or_none(raw)
            if info is None or station_id == own:
                continue
            if isinstance(info.get("keys"), list):
                event_keys[station_id] = info["keys"]
            try:
                peers.append(Peer(station_id, str(info.get("name") or station_id),
                                  int(info.get("headSeq") or 0), str(info.get("at") or "")))
            except (TypeError, ValueError):
                continue
        if certificate is not None:
            # Enrolled: a station's keys are the ones the organisation certified for it (and
            # its events are checked against that key: services/event_trust.py).
            removed = await handles.read("removed")
            await asyncio.to_thread(self._trust.learn_removals, removed)
            await asyncio.to_thread(self._trust.learn, keys)
            # Known: stations with a certified key here, and removed ones (asking the hub again
            # for each batch of a removed station's history would learn nothing new).
            self._known |= await asyncio.to_thread(self._trust.decided_station_ids)
        else:
            # Not enrolled (a hub from before enrolment, or its admin URL): every key is
            # trusted as before, a certified one by the key it certifies; events are checked
            # against the key each station first named.
            await asyncio.to_thread(self._remote.learn_keys, [_bare_key(v) for v in keys.values()])
            await asyncio.to_thread(self._remote.trust.learn_keys_of_stations, event_keys)
            # Known: the stations whose event key is here now (one that names none yet, on an
            # older version, is asked about again when its events come).
            self._known |= set(event_keys)
        await asyncio.to_thread(self._remote.learn_stations, peers)


def _bare_key(value: bytes) -> str:
    """The public key in a keys-bucket value: bare base64, or a certificate's `key`."""
    record = jetstream.json_or_none(value) if value[:1] == b"{" else None
    return str(record.get("key") or "") if record is not None else value.decode(errors="replace")
