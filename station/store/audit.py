"""Read-only queries for `station check`: SQLite's own checks and the log beside its fold.

Every function takes a connection from `health.open_read_only`, so a check changes nothing
and runs beside a working station (WAL readers do not block the writer).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from station.domain.events import Event
from station.store.rows import event_from_row

# PRAGMA integrity_check stops after this many problems: enough to tell a person what is wrong.
MAX_INTEGRITY_ROWS = 20


def integrity_problems(conn: sqlite3.Connection) -> list[str]:
    """SQLite's full check of every page, index and constraint; [] when healthy."""
    rows = [str(r[0]) for r in conn.execute(f"PRAGMA integrity_check({MAX_INTEGRITY_ROWS})")]
    return [] if rows == ["ok"] else rows


def foreign_key_problems(conn: sqlite3.Connection) -> list[str]:
    return [f"{r[0]} row {r[1]} refers to a missing {r[2]} row"
            for r in conn.execute("PRAGMA foreign_key_check")]


def count(conn: sqlite3.Connection, table: str) -> int:
    assert table in ("passes", "events")  # names, not input
    return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def pass_histories(conn: sqlite3.Connection
                   ) -> Iterator[tuple[str, list[Event], dict[str, Any] | None]]:
    """Each pass id of the log with its events and its stored row (None if there is none),
    streamed in pass id order (idx_events_pass), so a million passes fit in memory."""
    rows = conn.execute("SELECT * FROM events WHERE pass_id IS NOT NULL ORDER BY pass_id")
    current: str | None = None
    events: list[Event] = []
    for row in rows:
        if row["pass_id"] != current:
            if current is not None:
                yield current, events, _pass_row(conn, current)
            current, events = row["pass_id"], []
        events.append(event_from_row(dict(row)))
    if current is not None:
        yield current, events, _pass_row(conn, current)


def passes_without_events(conn: sqlite3.Connection, limit: int) -> list[str]:
    rows = conn.execute(
        "SELECT id FROM passes p WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.pass_id = p.id) "
        "LIMIT ?", (limit,))
    return [str(r[0]) for r in rows]


def _pass_row(conn: sqlite3.Connection, pass_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM passes WHERE id = ?", (pass_id,)).fetchone()
    return dict(row) if row else None
