"""Ending a sync session (retarget, stop) ends all of it, through a real nats-server hub.

On Python 3.11 a cancellation can be lost: `asyncio.wait_for` returns the result of the awaitable
it waits on when that finished just as the cancellation came (CPython gh-86296), and nats-py's
requests and the sync parts use it. The race is forced here: the idle publisher is woken by a
local event and the session is cancelled in the same turn of the loop, which is held meanwhile so
both wait in its queue. Before the fix the publisher ran on, the old session stayed connected
after a retarget ("timed out ... waiting for C to be offline") and its parts outlived stop().
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from station.app import Station
from station.net.sync.hub import HubServer
from station.services.passes import PassService
from tests.sync.conftest import StationFactory, free_port, in_sync, wait_for


def _session_parts(station: Station) -> list[str]:
    """The names of the session parts (publisher, follower, ...) running on the station's loop."""
    async def names() -> list[str]:
        return sorted(t.get_name() for t in asyncio.all_tasks()
                      if t.get_name().startswith("sync-") and not t.done())
    return station.runtime.submit(names()).result(30)


def _end_as_the_publisher_wakes(station: Station, end: Callable[[], None],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Run `end` (a retarget or a stop) so that its cancellation of the session reaches the loop
    right behind the wake-up of the idle publisher by a local event."""
    runtime, sync = station.runtime, station.sync
    assert sync is not None
    held, release = threading.Event(), threading.Event()

    def hold() -> None:  # on the loop: nothing runs there until the test releases it
        held.set()
        release.wait(60)

    runtime.call_soon(hold)
    assert held.wait(30)
    try:
        # Recorded here, so the publisher's wake-up is queued on the held loop.
        station.core.passes.create(PassService.validate("Late", "multi"))
        assert sync._waker is not None and sync._waker.asked
        submitted = threading.Event()
        real_submit = runtime.submit

        def submit(coro: Coroutine[Any, Any, Any]) -> Any:
            future = real_submit(coro)
            submitted.set()  # the cancellation of the session is queued behind the wake-up
            return future

        monkeypatch.setattr(runtime, "submit", submit)
        ender = threading.Thread(target=end, name="test-end-session")
        ender.start()
        assert submitted.wait(30)
        monkeypatch.setattr(runtime, "submit", real_submit)
    finally:
        release.set()
    ender.join(120)
    assert not ender.is_alive()  # retarget() and stop() return in bounded time


def test_a_retarget_as_a_local_event_wakes_the_publisher_ends_the_old_session(
        hub: HubServer, make_station: StationFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    c = make_station("Door C", hub.target.full_url())
    wait_for(in_sync(c), what="C in sync")
    sync = c.sync
    assert sync is not None
    assert _session_parts(c)  # the session runs its parts
    dead = dataclasses.replace(hub.target, port=free_port())
    _end_as_the_publisher_wakes(c, lambda: sync.retarget(dead), monkeypatch)
    wait_for(lambda: not sync.status().connected, 60, "C to be offline")
    # Nothing of the old session is left (the new one cannot reach a hub, so has no parts).
    wait_for(lambda: _session_parts(c) == [], 60, "the old session's parts to end")
    assert not sync.status().connected

    sync.retarget(hub.target)  # and back: one session again, which publishes what waited
    wait_for(in_sync(c), what="C in sync again")
    assert sync.pending() == 0


def test_a_stop_as_a_local_event_wakes_the_publisher_ends_the_session(
        hub: HubServer, make_station: StationFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    c = make_station("Door C", hub.target.full_url())
    wait_for(in_sync(c), what="C in sync")
    sync = c.sync
    assert sync is not None
    _end_as_the_publisher_wakes(c, sync.stop, monkeypatch)
    assert _session_parts(c) == []  # stop() returned with the session ended
    assert not sync.status().connected
