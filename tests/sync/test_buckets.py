"""Reading the organisation's small buckets back (`jetstream.read_bucket`) on a real nats-server.

It once listed keys with nats-py's `KeyValue.keys()`, whose watcher now and then reports "no keys"
for a bucket that has some (a race between the entries pushed and the count of those pending,
as far as we can tell): a hub was read back
without its stations in CI (1 of 1,000 reads with a CPU hog on each core, docs/measured-facts.md;
too rare to fail a test on demand). These tests pin what a read returns; the last one reads
while the bucket is being written to."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from station.net.sync import jetstream
from station.net.sync.hub import HubServer
from station.net.sync.hub_tls import connect_hub


T = TypeVar("T")


def _with_space(hub: HubServer, body: Callable[[jetstream.Handles], Awaitable[T]]) -> T:
    async def run() -> T:
        nc = await connect_hub(hub.target, allow_reconnect=False)
        try:
            handles = await jetstream.open_space(nc.jetstream(timeout=10), "org_buckets_test")
            return await body(handles)
        finally:
            await nc.close()
    return asyncio.run(run())


def test_values_are_read_back_and_deleted_or_purged_keys_are_not(hub: HubServer) -> None:
    async def body(handles: jetstream.Handles) -> tuple[dict[str, bytes], dict[str, bytes],
                                                         dict[str, bytes]]:
        empty = await handles.read("stations")
        for n in range(5):
            await handles.stations.put(f"sta_{n}", f'{{"name": "Door {n}"}}'.encode())
        await handles.stations.put("sta_1", b'{"name": "Door one"}')  # a later value wins
        await handles.stations.delete("sta_2")
        await handles.stations.purge("sta_3")
        stations = await handles.read("stations")
        keys = await handles.read("keys")
        return empty, stations, keys

    empty, stations, keys = _with_space(hub, body)
    assert empty == {} and keys == {}
    assert stations == {"sta_0": b'{"name": "Door 0"}', "sta_1": b'{"name": "Door one"}',
                        "sta_4": b'{"name": "Door 4"}'}


def test_a_bucket_that_does_not_exist_reads_empty(hub: HubServer) -> None:
    async def body(handles: jetstream.Handles) -> dict[str, bytes]:
        return await jetstream.read_bucket(handles.js, "station_nobody_stations")

    assert _with_space(hub, body) == {}


def test_every_read_while_others_write_holds_every_key_written_before_it(hub: HubServer) -> None:
    """The race the watcher lost: reads interleaved with writes to the same bucket."""
    async def body(handles: jetstream.Handles) -> list[tuple[int, set[str]]]:
        seen: list[tuple[int, set[str]]] = []

        async def writer() -> None:
            for n in range(40):
                await handles.stations.put(f"sta_{n:02d}", b"{}")
                seen.append((n + 1, set((await handles.read("stations")).keys())))

        await asyncio.gather(writer(), *(_reader(handles) for _ in range(3)))
        return seen

    seen = _with_space(hub, body)
    assert len(seen) == 40
    for written, keys in seen:
        assert {f"sta_{n:02d}" for n in range(written)} <= keys, (written, sorted(keys))


async def _reader(handles: jetstream.Handles) -> None:
    for _ in range(40):
        await handles.read("stations")
