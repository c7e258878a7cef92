"""Opening a database written before check-in lists (schema 10) keeps every pass and scan, and
starts its occupancy from what the log holds: every admission so far was an entry."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from station.domain.events import Event, EventType
from station.domain.hlc import Stamp
from station.domain.models import Pass, PassStatus, PassType
from station.domain.occupancy import fold_events
from station.store import migrations, stats
from station.store.db import Store
from station.store.door_reads import inside_counts

T0 = 1_780_000_000_000
OLD_SCAN_COLUMNS = ("id", "pass_id", "station_id", "scanned_at", "verdict", "reason", "source",
                    "operator", "payload", "event_id")


def _at(ms: int) -> str:
    from datetime import UTC, datetime
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _old_database(path: Path) -> list[Event]:
    """Schema 10 with 30 passes, their creation events, and 45 scans (admissions, refusals)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for version in range(10):
        migrations.apply_step(conn, version)
        conn.execute(f"PRAGMA user_version = {version + 1}")
    events: list[Event] = []
    seq = 0
    for i in range(30):
        p = Pass(id=f"pas_{i}", code=f"C{i:011d}", name=f"Guest {i}",
                 type=PassType.MULTI if i % 3 == 0 else PassType.SINGLE, status=PassStatus.ACTIVE,
                 uses=0, public_url=f"https://x.io/p/C{i:011d}", created_at=_at(T0),
                 updated_at=_at(T0), fields={"tier": "vip" if i % 5 == 0 else "general"})
        conn.execute(
            "INSERT INTO passes (id, code, name, type, status, uses, fields, public_url, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (p.id, p.code, p.name, str(p.type), str(p.status), i % 2, json.dumps(p.fields),
             p.public_url, p.created_at, p.updated_at))
        seq += 1
        events.append(Event(f"evt_c{i}", EventType.PASS_CREATED, _at(T0), p.to_api(), "st_old",
                            seq, Stamp(T0 + seq, 0).encode(), p.id))
    for n in range(45):
        pass_id, ms = f"pas_{n % 30}", T0 + 10_000 + n * 1000
        verdict = "accepted" if n < 30 else "rejected"
        scan = {"id": f"scn_{n}", "passId": pass_id, "stationId": "st_old", "scannedAt": _at(ms),
                "verdict": verdict, "reason": None if verdict == "accepted" else "used",
                "source": "camera", "operator": None}
        seq += 1
        event = Event(f"evt_s{n}", EventType.PASS_SCANNED, _at(ms), {"id": pass_id, "scan": scan},
                      "st_old", seq, Stamp(ms, 0).encode(), pass_id)
        events.append(event)
        conn.execute(f"INSERT INTO scans ({', '.join(OLD_SCAN_COLUMNS)}) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (scan["id"], pass_id, "st_old", scan["scannedAt"], verdict, scan["reason"],
                      "camera", None, f"C{n % 30:011d}", event.id))
    conn.executemany(
        "INSERT INTO events (id, type, origin, origin_seq, hlc, pass_id, timestamp, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(e.id, e.type, e.origin, e.origin_seq, e.hlc, e.pass_id, e.timestamp,
          json.dumps(e.data, sort_keys=True)) for e in events])
    conn.close()
    return events


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.mark.allow_log("station.store.privacy", "now private to you")
def test_a_database_from_before_lists_keeps_every_pass_and_scan(tmp_path: Path) -> None:
    path = tmp_path / "station.db"
    events = _old_database(path)
    pass_sql = "SELECT id, code, name, type, status, uses, fields, created_at FROM passes ORDER BY id"
    scan_sql = f"SELECT {', '.join(OLD_SCAN_COLUMNS)} FROM scans ORDER BY id"
    passes_before, scans_before = _rows(path, pass_sql), _rows(path, scan_sql)

    store = Store(tmp_path)
    try:
        assert store.schema_found == 10
        counted = stats.counters(store, _at(T0), _at(T0))
    finally:
        store.close()

    assert _rows(path, pass_sql) == passes_before
    assert _rows(path, scan_sql) == scans_before
    assert _rows(path, "SELECT DISTINCT direction, list_id, reentry FROM scans") == [("entry", None, 0)]
    assert _rows(path, "SELECT DISTINCT attention FROM passes") == [(None,)]
    # Old admissions are entries: still counted as admissions, and inside until a check-out.
    assert (counted.admitted_since, counted.refused_since) == (30, 15)
    store = Store(tmp_path)
    try:
        assert inside_counts(store) == {None: 30} == dict(fold_events(events).by_list)
    finally:
        store.close()
