"""`station backup FILE` and `station check`, with real station subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import httpx

from station.app import Core, build_core
from station.domain.times import to_iso
from station.services.check import check_database
from station.services.sync_apply import RemoteEventService
from tests.api.conftest import wait_until
from tests.api.test_kill import free_port, healthy
from tests.conftest import REPO, StationCLI
from tests.fakes import FakeClock
from tests.integration.test_damaged_db import DAMAGED_EXIT, snapshot


def station_with_passes(cli: StationCLI) -> dict[str, object]:
    """A stopped station holding scans, a revocation and a multi-use pass; returns that pass."""
    multi = json.loads(cli("passes", "create", "--name", "Ada", "--type", "multi", "--json").stdout)
    single = json.loads(cli("passes", "create", "--name", "Bob", "--json").stdout)
    cli("scan", str(multi["publicUrl"]))
    cli("scan", str(single["publicUrl"]))
    cli("scan", str(single["publicUrl"]))  # refused: used
    cli("passes", "revoke", str(single["code"]), "--reason", "test")
    return multi


def test_check_says_healthy_and_changes_nothing(cli: StationCLI) -> None:
    station_with_passes(cli)
    before = snapshot(cli.data_dir)
    out = cli("check")
    assert "healthy (2 passes" in out.stdout
    report = json.loads(cli("check", "--json").stdout)
    assert report["healthy"] is True and report["findings"] == [] and report["events"] >= 5
    assert snapshot(cli.data_dir) == before


def test_check_finds_a_pass_row_that_disagrees_with_its_events(cli: StationCLI) -> None:
    multi = station_with_passes(cli)
    conn = sqlite3.connect(cli.data_dir / "station.db")
    conn.execute("UPDATE passes SET uses = 7 WHERE id = ?", (multi["id"],))
    conn.commit()
    conn.close()
    result = cli("check", check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 problem(s)" in result.stdout
    assert f"fold: pass {multi['id']} ({multi['code']}) stores uses 7 (its events say 1)" in result.stdout
    report = json.loads(cli("check", "--json", check=False).stdout)
    assert report["healthy"] is False and [f["kind"] for f in report["findings"]] == ["fold"]


def test_damaged_pages_are_found_by_check_and_refused_by_commands(cli: StationCLI) -> None:
    """Garbage over the passes table's page (header and schema intact, so the start-up probe
    passes): `station check` lists it, a command that reads it stops with one sentence."""
    station_with_passes(cli)
    db = cli.data_dir / "station.db"
    conn = sqlite3.connect(db)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'passes'").fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(db.read_bytes())
    data[(root - 1) * page_size:root * page_size] = b"\x5a" * page_size
    db.write_bytes(bytes(data))
    before = snapshot(cli.data_dir)

    result = cli("check", check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "integrity:" in result.stdout and "Traceback" not in result.stderr
    listed = cli("passes", "list", check=False)
    assert listed.returncode == DAMAGED_EXIT and "Traceback" not in listed.stderr
    assert listed.stderr.strip().splitlines() == [
        "station: error: The station's database is damaged (SQLite: database disk image is "
        "malformed), so Station will not use it: stop Station and copy a backup made with "
        "`station backup` over it, or start a new station with another --data-dir (nothing was "
        "changed)."]
    assert snapshot(cli.data_dir) == before


def test_check_refuses_a_file_that_is_not_a_station_database(cli: StationCLI, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 10)
    result = cli("check", str(junk), check=False)
    assert result.returncode == DAMAGED_EXIT and "is not a SQLite database" in result.stderr
    assert "Traceback" not in result.stderr


def test_backup_is_private_refuses_to_overwrite_and_restores(cli: StationCLI, tmp_path: Path) -> None:
    station_with_passes(cli)
    target = tmp_path / "backups" / "gala.db"
    target.parent.mkdir()
    before = snapshot(cli.data_dir)
    cli("backup", str(target))
    assert snapshot(cli.data_dir) == before  # a stopped station's files are left as they were
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["gala.db"]  # no temp file left
    first = target.read_bytes()

    refused = cli("backup", str(target), check=False)
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert target.read_bytes() == first
    cli("passes", "create", "--name", "Cy")
    cli("backup", str(target), "--force")
    assert json.loads(cli("check", str(target), "--json").stdout)["passes"] == 3

    # Restore as the README says: the station stopped, the file copied into a data directory.
    restored = StationCLI(tmp_path / "restored")
    restored.data_dir.mkdir()
    shutil.copy(target, restored.data_dir / "station.db")
    names = {p["name"] for p in json.loads(restored("passes", "list", "--json").stdout)}
    assert names == {"Ada", "Bob", "Cy"}
    restored("check")


def test_backup_while_a_station_takes_scans_is_consistent(cli: StationCLI, tmp_path: Path) -> None:
    multi = station_with_passes(cli)
    key = cli("keys", "create", "backup-test", "--rate-limit", "100000").stdout.strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = subprocess.Popen([sys.executable, "-m", "station", "serve", "--port", str(port)],
                             env=cli.env, cwd=REPO, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stop = threading.Event()
    accepted: list[int] = []

    def scan_continuously() -> None:
        with httpx.Client(base_url=base, headers={"authorization": f"Bearer {key}"}) as client:
            while not stop.is_set() and len(accepted) < 5000:
                reply = client.post("/api/v1/scans", json={"payload": str(multi["code"])}, timeout=30)
                assert reply.status_code in (200, 201), reply.text
                accepted.append(1)

    scanner = threading.Thread(target=scan_continuously, daemon=True)
    try:
        wait_until(lambda: healthy(base), timeout=60, what="station serve to answer")
        scanner.start()
        wait_until(lambda: len(accepted) >= 20, timeout=60, what="the first scans")
        backups = []
        for i in range(3):
            target = tmp_path / f"during-{i}.db"
            cli("backup", str(target))
            backups.append(target)
        wait_until(lambda: len(accepted) >= 20 + 3, timeout=60, what="scans after the backups")
    finally:
        stop.set()
        scanner.join(60)
        os.kill(serve.pid, signal.SIGTERM)
        _, err = serve.communicate(timeout=60)
    assert serve.returncode == 0, err
    uses = []
    for target in backups:
        report = json.loads(cli("check", str(target), "--json").stdout)
        assert report["healthy"] is True, report
        conn = sqlite3.connect(target)
        uses.append(conn.execute("SELECT uses FROM passes WHERE id = ?", (multi["id"],)).fetchone()[0])
        conn.close()
    assert uses == sorted(uses) and uses[-1] > 1  # each a later snapshot, scans included
    cli("check")


def test_check_agrees_with_every_way_a_pass_changes(core: Core, tmp_path: Path, clock: FakeClock) -> None:
    """No false alarm: expiry, undo, revoke/activate, a pass signed elsewhere (provisional) and
    an offline double admission learnt through sync all leave rows equal to their fold."""
    other = build_core(tmp_path / "other", now=clock)
    try:
        for key in other.ctx.keys.public_keys_b64():
            core.ctx.keys.trust(key)
        walk_in = other.passes.create(other.passes.validate("Walk-in"))
        twice = other.passes.create(other.passes.validate("Twice"))
        other.scans.submit(twice.public_url)  # admitted at the other door…
        remote = other.store.events_for_pass(twice.id)
    finally:
        other.close()
    expiring = core.passes.create(core.passes.validate(
        "Late", valid_until=to_iso(clock() + timedelta(hours=1))))
    undone = core.passes.create(core.passes.validate("Undone", type="multi", max_uses=2))
    core.scans.undo(core.scans.submit(undone.code).scan.id, by="door")
    core.scans.submit(undone.code)
    revoked = core.passes.create(core.passes.validate("Revoked"))
    core.passes.revoke(revoked.code, reason="test")
    core.passes.activate(revoked.code)
    core.passes.revoke(revoked.code, reason="again")
    core.scans.submit(walk_in.public_url)  # provisional here
    clock.advance(hours=2)
    assert [p.id for p in core.passes.expire_due()] == [expiring.id]
    core.scans.submit(twice.public_url)  # …and here, while the doors were apart
    RemoteEventService(core.ctx).apply(remote)
    conflicted = core.store.pass_by_id(twice.id)
    assert conflicted is not None and conflicted.conflicts == 1

    before = snapshot(core.store.data_dir)
    report = check_database(core.store.path)
    assert report.healthy, report.findings
    assert report.passes == 5 and snapshot(core.store.data_dir) == before
