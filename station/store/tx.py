"""Write access inside one transaction: `Tx`, which only the writer (store/writer.py) makes.

Every write of the station runs as a job of the writer thread, with a `Tx` for its one
transaction; the reads a job makes through it see the job's own writes.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from station.domain.events import Event
from station.domain.models import Client, Pass, Scan
from station.store import search
from station.store.rows import (
    PASS_COLUMNS,
    client_from_row,
    event_from_row,
    pass_from_row,
    pass_values,
    scan_movement,
)

CHUNK = 500  # values per IN (...) list, well under SQLite's limit on bound parameters


def chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def marks(n: int) -> str:
    return ", ".join("?" * n)


# SQLite's NOCASE folds ASCII letters only; this is the same fold, so a dict keyed by it agrees
# with `email = ? COLLATE NOCASE` (and is the same on every station).
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def nocase(text: str) -> str:
    return text.translate(_ASCII_LOWER)


@functools.cache
def _upsert_pass_sql(columns: tuple[str, ...]) -> str:
    # Numbered parameters: the search key is folded from the name and e-mail parameters, in
    # the statement, so no caller can write a pass without it (an update without an e-mail
    # keeps the row's e-mail, and the key keeps it too).
    marks = ", ".join(f"?{i}" for i in range(1, len(columns) + 1))
    name, email = (f"?{columns.index(c) + 1}" for c in ("name", "email"))
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in ("id", "email"))
    return (f"INSERT INTO passes ({', '.join(columns)}, search_key) "
            f"VALUES ({marks}, {search.key_sql(name, email)}) "
            f"ON CONFLICT(id) DO UPDATE SET {updates}, email = coalesce(excluded.email, passes.email), "
            f"search_key = {search.key_sql('excluded.name', 'coalesce(excluded.email, passes.email)')}")


# Called with the events a statement just inserted (one, or a whole batch: imports, sync).
AppendHook = Callable[["Tx", Sequence[Event]], None]


class Tx:
    """Write access inside one transaction. Only the writer (store/writer.py) makes these."""

    def __init__(self, conn: sqlite3.Connection, station_id: str,
                 hooks: Sequence[AppendHook] = ()) -> None:
        self._conn = conn
        self.station_id = station_id
        self.appended: list[Event] = []
        self._hooks = hooks
        self._origin_seq: int | None = None
        self.memo: dict[str, Any] = {}  # what hooks look up once per transaction

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Raw SQL inside this transaction, for the store's own modules (outbox, keys…)."""
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> sqlite3.Cursor:
        return self._conn.executemany(sql, rows)

    def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        """One row of a read inside this transaction (it sees the transaction's own writes)."""
        row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
        return row

    # reads that must see this transaction's own writes
    def pass_by_code(self, code: str) -> Pass | None:
        row = self._conn.execute("SELECT * FROM passes WHERE code = ?", (code,)).fetchone()
        return pass_from_row(dict(row)) if row else None

    def pass_by_id(self, pass_id: str) -> Pass | None:
        row = self._conn.execute("SELECT * FROM passes WHERE id = ?", (pass_id,)).fetchone()
        return pass_from_row(dict(row)) if row else None

    def client_by_id(self, client_id: str) -> Client | None:
        row = self._conn.execute("SELECT * FROM clients WHERE id = ?", (client_id,)).fetchone()
        return client_from_row(dict(row)) if row else None

    def client_by_email(self, email: str) -> Client | None:
        row = self._conn.execute(
            "SELECT * FROM clients WHERE email = ? COLLATE NOCASE ORDER BY created_at LIMIT 1",
            (email,),
        ).fetchone()
        return client_from_row(dict(row)) if row else None

    def clients_by_emails(self, emails: Sequence[str]) -> dict[str, Client]:
        """The oldest client of each address, keyed by `nocase(email)` (as client_by_email)."""
        found: dict[str, Client] = {}
        for chunk in chunks(sorted({nocase(e) for e in emails})):
            rows = self._conn.execute(
                f"SELECT * FROM clients WHERE email COLLATE NOCASE IN ({marks(len(chunk))}) "
                "ORDER BY created_at DESC", chunk).fetchall()
            for row in rows:  # newest first: the oldest of an address is written last
                found[nocase(row["email"])] = client_from_row(dict(row))
        return found

    def clients_by_ids(self, client_ids: Sequence[str]) -> dict[str, Client]:
        found: dict[str, Client] = {}
        for chunk in chunks(sorted(set(client_ids))):
            for row in self._conn.execute(
                    f"SELECT * FROM clients WHERE id IN ({marks(len(chunk))})", chunk):
                found[row["id"]] = client_from_row(dict(row))
        return found

    def taken_codes(self, codes: Sequence[str]) -> set[str]:
        taken: set[str] = set()
        for chunk in chunks(list(codes)):
            taken.update(r[0] for r in self._conn.execute(
                f"SELECT code FROM passes WHERE code IN ({marks(len(chunk))})", chunk))
        return taken

    def events_for_pass(self, pass_id: str) -> list[Event]:
        rows = self._conn.execute(
            "SELECT * FROM events WHERE pass_id = ? ORDER BY hlc, origin, id", (pass_id,)
        ).fetchall()
        return [event_from_row(dict(r)) for r in rows]

    def last_event_key(self, pass_id: str) -> tuple[str, str, str] | None:
        """The greatest fold order key (hlc, origin, id) among the pass's events."""
        # The greatest hlc first (one probe of idx_events_pass), then its ties: ordering the
        # whole log by all three keys read every event of a pass scanned thousands of times.
        row = self._conn.execute(
            "SELECT hlc, origin, id FROM events WHERE pass_id = ?1 AND hlc = "
            "(SELECT max(hlc) FROM events WHERE pass_id = ?1) ORDER BY origin DESC, id DESC LIMIT 1",
            (pass_id,)).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def has_event(self, event_id: str) -> bool:
        return self._conn.execute("SELECT 1 FROM events WHERE id = ?", (event_id,)).fetchone() is not None

    def has_scan(self, scan_id: str) -> bool:
        return self._conn.execute("SELECT 1 FROM scans WHERE id = ?", (scan_id,)).fetchone() is not None

    def scan_event_id(self, scan_id: str) -> str | None:
        row = self._conn.execute("SELECT event_id FROM scans WHERE id = ?", (scan_id,)).fetchone()
        return row[0] if row else None

    def event_by_id(self, event_id: str) -> Event | None:
        row = self._conn.execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone()
        return event_from_row(dict(row)) if row else None

    # writes
    def upsert_pass(self, p: Pass, email: str | None = None) -> None:
        self.upsert_pass_values([pass_values(p, email)])

    def upsert_passes(self, items: Sequence[tuple[Pass, str | None]]) -> None:
        """Many passes in one statement (sync applies thousands per transaction)."""
        self.upsert_pass_values([pass_values(p, email) for p, email in items])

    def count_use(self, p: Pass) -> None:
        """Store what an admission changed on a stored pass (fold.fold_next: uses, status,
        updatedAt): one statement, where an upsert is three (its search-index upkeep)."""
        self._conn.execute("UPDATE passes SET uses = ?, status = ?, updated_at = ? WHERE id = ?",
                           (p.uses, str(p.status), p.updated_at, p.id))

    def upsert_pass_values(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Rows already in PASS_COLUMNS order (see rows.pass_values)."""
        if rows:
            top = search.last_rowid(self._conn)
            self._conn.executemany(_upsert_pass_sql(PASS_COLUMNS), rows)
            search.index_new_rows(self._conn, top)

    def insert_client(self, c: Client) -> None:
        self.insert_clients([c])

    def insert_clients(self, clients: Sequence[Client]) -> None:
        self._conn.executemany(
            "INSERT INTO clients (id, name, email, phone, created_at) VALUES (?, ?, ?, ?, ?)",
            [(c.id, c.name, c.email, c.phone, c.created_at) for c in clients],
        )

    def insert_scan(self, s: Scan, event_id: str | None,
                    extras: Mapping[str, Any] | None = None) -> None:
        """`extras`: the door's keys of the scan's event (door.scan_extras): direction, list."""
        self._conn.execute(
            "INSERT INTO scans (id, pass_id, station_id, scanned_at, verdict, reason, source, "
            "operator, payload, event_id, direction, list_id, reentry) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (s.id, s.pass_id, s.station_id, s.scanned_at, str(s.verdict), s.reason, s.source,
             s.operator, s.payload[:256], event_id, *scan_movement(extras or {})),
        )

    def next_origin_seq(self) -> int:
        # Asked once per transaction; one writer thread makes the local count safe to keep.
        if self._origin_seq is None:
            row = self._conn.execute(
                "SELECT coalesce(max(origin_seq), 0) FROM events WHERE origin = ?", (self.station_id,)
            ).fetchone()
            self._origin_seq = int(row[0])
        self._origin_seq += 1
        return self._origin_seq

    def append_event(self, event: Event) -> bool:
        """Insert if the id is new (events arrive again from peers); True when inserted."""
        cur = self._conn.execute(
            "INSERT OR IGNORE INTO events (id, type, origin, origin_seq, hlc, pass_id, timestamp, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (event.id, event.type, event.origin, event.origin_seq, event.hlc, event.pass_id,
             event.timestamp, json.dumps(event.data, separators=(",", ":"), sort_keys=True)),
        )
        if cur.rowcount:
            self.inserted([event])
            return True
        return False

    def append_new_events(self, events: Sequence[Event]) -> None:
        """Insert events this station has just made (fresh ids) in one statement (imports)."""
        self._conn.executemany(
            "INSERT INTO events (id, type, origin, origin_seq, hlc, pass_id, timestamp, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(e.id, e.type, e.origin, e.origin_seq, e.hlc, e.pass_id, e.timestamp,
              json.dumps(e.data, separators=(",", ":"), sort_keys=True)) for e in events],
        )
        self.inserted(events)

    def inserted(self, events: Sequence[Event]) -> None:
        """Events just inserted into the log by this transaction (one at a time above, or in
        bulk by store.sync): published after commit, and passed to the append hooks."""
        self.appended.extend(events)
        # Hooks write rows that must commit or roll back with the event (webhook outbox).
        if events:
            for hook in self._hooks:
                hook(self, events)

    def set_setting(self, key: str, value: Any) -> None:
        self._conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )
