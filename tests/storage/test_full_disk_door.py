"""A full disk at the door: `station serve` and `station scan` refuse the scan in one sentence,
record nothing, keep running, and work again as soon as there is space (no restart)."""

from __future__ import annotations

import signal
import time

from tests.conftest import StationCLI
from tests.small_disk import SmallDisk
from tests.storage.door import Door

REFUSAL = "Could not record the scan: the disk is full — nothing was admitted"


def new_pass(cli: StationCLI, name: str) -> str:
    return cli("passes", "create", "--name", name).stdout.split()[0]


def test_station_scan_on_a_full_disk_exits_1_with_one_line(cli: StationCLI,
                                                            small_disk: SmallDisk) -> None:
    code = new_pass(cli, "Ada Lovelace")
    small_disk.fill()
    refused = cli("scan", code, check=False)
    assert refused.returncode == 1, refused.stderr
    assert refused.stdout == ""
    lines = refused.stderr.splitlines()
    assert len(lines) == 1 and REFUSAL in lines[0], refused.stderr
    small_disk.free()
    # Nothing was half-recorded: the single-use pass is admitted now, once.
    assert cli("scan", code).stdout.startswith("ACCEPTED")
    assert cli("scan", code).stdout.startswith("REFUSED: Already used")


def test_serve_refuses_on_a_full_disk_keeps_running_and_recovers(cli: StationCLI,
                                                                  small_disk: SmallDisk) -> None:
    first, second = new_pass(cli, "Grace Hopper"), new_pass(cli, "Alan Turing")
    door = Door(cli, "--no-api")
    try:
        door.wait_for("Scan with a handheld scanner")
        assert door.scan(first).startswith("ACCEPTED")
        small_disk.fill()
        line = door.scan(second)
        assert line.startswith(f"error: {REFUSAL}"), line
        assert door.proc.poll() is None, "the door stopped"
        assert door.scan(second).startswith("error: ")  # still refusing, still running
        small_disk.free()
        assert door.scan(second).startswith("ACCEPTED")  # the same process, no restart
        assert door.scan(second).startswith("REFUSED: Already used")
    finally:
        door.stop()
    assert door.proc.returncode == 0, door.stderr
    assert not any("Traceback" in line for line in door.stderr), door.stderr


def test_serve_keeps_running_when_its_terminal_goes_away(cli: StationCLI) -> None:
    """A closed terminal window or a lost SSH session (EIO on stdin) is not a reason to stop the
    door's API and webhooks: the station says so once and runs until it is told to stop."""
    code = new_pass(cli, "Ada Lovelace")
    door = Door(cli, "--no-api")
    try:
        door.wait_for("Scan with a handheld scanner")
        assert door.scan(code).startswith("ACCEPTED")
        door.hang_up()
        deadline = time.monotonic() + 90
        while not any("terminal went away" in line for line in door.stderr):
            assert door.proc.poll() is None, f"the station stopped: {door.stderr[-10:]}"
            assert time.monotonic() < deadline, f"nothing said: {door.stderr[-10:]}"
            time.sleep(0.1)
        assert door.proc.poll() is None
        door.proc.send_signal(signal.SIGTERM)
        assert door.proc.wait(60) == 0
    finally:
        door.stop()
    assert not any("Traceback" in line for line in door.stderr), door.stderr
