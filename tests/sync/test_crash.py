"""kill -9 of the hub and of a station in the middle of a stream loses and duplicates nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path


from station.net.sync.hub_tls import connect_hub
from station.app import build_core
from station.net.sync.hub import HubServer
from station.services.passes import PassService
from station.store.db import Store
from station.store.sync import SyncLedger
from tests.conftest import REPO
from tests.sync.conftest import StationFactory, converged, in_sync, wait_for
from tests.waiting import PATIENCE_S


def _stream_messages(hub: HubServer, org: str) -> int:
    async def count() -> int:
        target = hub.target
        nc = await connect_hub(target)
        try:
            info = await nc.jetstream().stream_info(f"STATION_{org}")
            return int(info.state.messages)
        finally:
            await nc.close()
    return asyncio.run(count())


def _events_from(store: Store, origin: str) -> int:
    return sum(1 for _ in store.db().query("SELECT 1 FROM events WHERE origin = ?", [origin]))


def test_kill_9_of_the_hub_mid_stream(hub: HubServer, make_station: StationFactory) -> None:
    url = hub.target.full_url()
    a, b = make_station("Door A", url), make_station("Door B", url)
    wait_for(in_sync(a, b), what="in sync")
    total = 15_000

    def produce() -> None:
        for start in range(0, total, 1000):
            a.core.passes.create_many(
                [PassService.validate(f"Guest {i}") for i in range(start, start + 1000)])

    producer = threading.Thread(target=produce)
    producer.start()
    origin = a.core.ctx.station_id
    wait_for(lambda: _events_from(b.core.store, origin) > 1000, what="the stream to be flowing")
    hub.kill()
    seen_at_kill = _events_from(b.core.store, origin)
    producer.join(120)
    hub.start()
    wait_for(converged(a, b), 120, "convergence after the hub's kill -9")
    assert seen_at_kill < total  # the kill really came mid-stream
    assert _events_from(b.core.store, origin) == total
    assert b.core.store.count_passes() == total
    org = a.sync.status().organisation  # type: ignore[union-attr]
    # Retried publishes were de-duplicated by Nats-Msg-Id: one stored message per event.
    assert _stream_messages(hub, org) == len(SyncLedger(a.core.store).event_ids())


def _serve(data_dir: Path, url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "STATION_DATA_DIR": str(data_dir),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    return subprocess.Popen([sys.executable, "-m", "station", "serve", "--sync", url], env=env,
                            cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_kill_9_of_a_station_mid_stream(hub: HubServer, make_station: StationFactory,
                                        tmp_path: Path) -> None:
    url = hub.target.full_url()
    a = make_station("Door A", url)
    wait_for(in_sync(a), what="A in sync")
    a.core.passes.create_many([PassService.validate(f"A {i}") for i in range(5000)])
    wait_for(lambda: a.sync.pending() == 0, what="A to publish")  # type: ignore[union-attr]

    door_s = tmp_path / "Door S"
    total = 20_000
    prepared = build_core(door_s)
    origin = prepared.ctx.station_id
    for start in range(0, total, 5000):
        prepared.passes.create_many([PassService.validate(f"S {i}") for i in range(start, start + 5000)])
    prepared.close()

    first = _serve(door_s, url)
    try:
        wait_for(lambda: _events_from(a.core.store, origin) > 500, what="S to be publishing")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=PATIENCE_S)
    seen_at_kill = _events_from(a.core.store, origin)
    second = _serve(door_s, url)
    try:
        wait_for(lambda: _events_from(a.core.store, origin) == total, 120, "S's whole log at A")
        own = Store(door_s)
        try:
            wait_for(lambda: _events_from(own, a.core.ctx.station_id) == 5000, 120,
                     "A's whole log at S")
        finally:
            own.close()
    finally:
        second.send_signal(signal.SIGTERM)
        out, _ = second.communicate(timeout=PATIENCE_S)
    assert seen_at_kill < total  # the kill really came mid-stream
    assert second.returncode == 0, out
    assert "sync     tls://station@" in out and hub.target.password not in out
    s_store = Store(door_s)
    try:
        assert SyncLedger(s_store).event_ids() == SyncLedger(a.core.store).event_ids()
        assert SyncLedger(s_store).state_digest() == SyncLedger(a.core.store).state_digest()
        assert s_store.count_passes() == a.core.store.count_passes() == total + 5000
    finally:
        s_store.close()
    wait_for(converged(a), what="A in sync")


def _spawned_workers(pid: int) -> list[int]:
    """The multiprocessing workers `pid` started (its children running spawn_main)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def test_the_history_worker_leaves_when_its_station_is_killed(
        hub: HubServer, make_station: StationFactory, tmp_path: Path) -> None:
    # A station killed outright cannot stop its worker process; the worker notices and leaves.
    url = hub.target.full_url()
    a = make_station("Door A", url)
    a.core.passes.create_many([PassService.validate(f"G{i}") for i in range(20_000)])
    wait_for(lambda: a.sync is not None and a.sync.pending() == 0, 120, "A to publish")
    station = _serve(tmp_path / "door", url)
    try:
        workers: list[int] = []
        wait_for(lambda: workers.extend(_spawned_workers(station.pid)) or workers,
                 what="the station to start its history worker")
        station.send_signal(signal.SIGKILL)
        station.wait(timeout=PATIENCE_S)
    finally:
        if station.poll() is None:
            station.kill()
    wait_for(lambda: not any(_running(w) for w in workers), what="the orphaned worker to leave")


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has left; only its exit status waits to be collected
