"""A hub's nats-server lives exactly as long as the station that started it: kill -9 of
`station hub` (or of a station hosting the hub) takes the server with it, so the doors see the
hub gone and a restarted hub finds its port free."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from station.net.sync.hub import HubServer, _server_info, new_password
from tests.conftest import REPO, StationCLI
from tests.sync.conftest import free_port, wait_for


def running(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for a reaper that never comes does not run)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def station(cli: StationCLI, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "station", *args], env=cli.env, cwd=REPO,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def read_until(proc: subprocess.Popen[str], text: str) -> list[str]:
    """The process's output lines up to the first one holding `text` (its readiness signal)."""
    assert proc.stdout is not None
    lines: list[str] = []
    while not lines or text not in lines[-1]:
        lines.append(proc.stdout.readline())
        assert lines[-1], f"exited {proc.wait()} before saying {text!r}: {lines}"
    return lines


def kill_9(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.communicate()


def hub_pid(hub_dir: Path) -> int:
    return int((hub_dir / "nats-server.pid").read_text())


def assert_dies_with(proc: subprocess.Popen[str], hub_dir: Path, port: int) -> None:
    server = hub_pid(hub_dir)
    assert parent_of(server) == proc.pid and running(server)
    kill_9(proc)
    try:
        wait_for(lambda: not running(server), 120, "the nats-server to die with its station")
        assert _server_info(port) is None  # nothing serves the venue any more
    finally:
        if running(server):
            os.kill(server, signal.SIGKILL)


def test_kill_9_of_station_hub_takes_its_nats_server_and_the_restart_gets_the_port(
        cli: StationCLI) -> None:
    port = free_port()
    hub_dir = cli.data_dir / "hub"
    first = station(cli, "hub", "--port", str(port))
    try:
        read_until(first, "sync url: ")
    except BaseException:
        kill_9(first)
        raise
    assert_dies_with(first, hub_dir, port)
    again = station(cli, "hub", "--port", str(port))
    try:
        url = read_until(again, "sync url: ")[-1]
        assert f"127.0.0.1:{port}" in url
        info = _server_info(port)
        assert info is not None and info.get("server_name", "").startswith("station_hub_")
        assert parent_of(hub_pid(hub_dir)) == again.pid
    finally:
        again.send_signal(signal.SIGTERM)
        again.communicate()
    assert again.returncode == 0


def test_kill_9_of_a_station_hosting_the_hub_takes_its_nats_server(cli: StationCLI) -> None:
    port = free_port()
    door = station(cli, "serve", "--host-hub", "--hub-port", str(port), "--no-api")
    try:
        read_until(door, "Ctrl-C stops")  # the banner comes once the station (and hub) started
    except BaseException:
        kill_9(door)
        raise
    assert_dies_with(door, cli.data_dir / "hub", port)


def test_a_hub_started_from_a_thread_that_ends_keeps_running(tmp_path: Path) -> None:
    # The kernel's parent-death signal follows the *thread* that forked: a hub started by a
    # short-lived thread must not die with that thread.
    hub = HubServer(tmp_path / "hub", new_password(), port=free_port())
    starter = threading.Thread(target=hub.start)
    starter.start()
    starter.join()
    try:
        # Gone from the kernel's task list too (Python's join can return a moment before).
        wait_for(lambda: not Path(f"/proc/self/task/{starter.native_id}").exists(), 120,
                 "the starting thread to exit")
        # A server answering after that would have been signalled already if it were tied to it.
        info = _server_info(hub.port)
        assert info is not None and info.get("server_name", "").startswith("station_hub_")
        assert hub.running()
    finally:
        hub.stop()


@pytest.mark.allow_log("station.net.sync.hub", "a previous run left running")
def test_a_hub_left_running_by_an_earlier_run_is_replaced_on_restart(tmp_path: Path) -> None:
    # A server that outlived its station (one that ran before this fix, or on a system without
    # a parent-death signal) still holds the port and the store: the next start stops it.
    port = free_port()
    leftover = HubServer(tmp_path / "hub", "pw", port=port)
    leftover.start()
    old = leftover.pid
    assert old is not None
    again = HubServer(tmp_path / "hub", "pw", port=port)
    try:
        again.start()
        assert again.running() and again.pid != old
        assert not running(old)
    finally:
        again.stop()
        leftover.kill()
