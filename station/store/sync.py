"""Sync bookkeeping: what a hub acknowledged, what peers announced, and the state digest.

Kept apart from db.py so that the sync queries live in one small room. Writes that belong to
applying remote events take the caller's `Tx` (one transaction per batch); the rest open their
own short writer job.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from station.domain.events import Event
from station.domain.models import Client, Scan
from station.domain.remote import data_text
from station.store.db import Priority, Store, Tx, chunks, marks
from station.store.rows import event_from_row, scan_movement


@dataclass(frozen=True, slots=True)
class Peer:
    station_id: str
    name: str
    head_seq: int  # the peer's own latest origin_seq, as it announced it
    seen_at: str


def log_head(tx: Tx) -> int:
    """The highest `seq` in the log. Every event inserted after this call gets a higher one
    (AUTOINCREMENT, and only the writer thread inserts), which is how the two functions
    below tell this batch's rows from those held before it without looking ids up."""
    row = tx.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
    return int(row[0])


def insert_new_events(tx: Tx, events: Sequence[Event], head: int,
                      texts: Mapping[str, str] | None = None) -> list[Event]:
    """Insert the events whose id is not in the log yet, in one statement; return those.

    `head` is `log_head(tx)` taken just before. INSERT OR IGNORE skips ids already held (and
    guards the (origin, origin_seq) uniqueness); when it inserted the whole batch, as in a
    catch-up, nothing is looked up. Otherwise the rows it did insert are the ones past `head`
    (one range scan of the primary key, not a probe per id). `texts` may hold the events'
    data already encoded (by id); the others are encoded here."""
    first: dict[str, Event] = {}
    for e in events:
        first.setdefault(e.id, e)  # a batch may carry the same event twice (redelivery)
    batch = list(first.values())
    if not batch:
        return []
    texts = texts or {}
    cur = tx.executemany(
        "INSERT OR IGNORE INTO events (id, type, origin, origin_seq, hlc, pass_id, timestamp, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(e.id, e.type, e.origin, e.origin_seq, e.hlc, e.pass_id, e.timestamp,
          texts.get(e.id) or data_text(e.data)) for e in batch],
    )
    fresh = batch
    if cur.rowcount != len(batch):
        stored = {r[0] for r in tx.execute("SELECT id FROM events WHERE seq > ?", (head,))}
        fresh = [e for e in batch if e.id in stored]
    tx.inserted(fresh)
    return fresh


def events_of_passes_before(tx: Tx, pass_ids: Sequence[str], head: int,
                            after: int = 0) -> dict[str, list[Event]]:
    """The events of each pass that the log held up to `head` (the fold needs them all; what
    this batch inserted after `head` the caller has in memory already); with `after`, only
    those after that seq (the caller holds the earlier ones)."""
    found: dict[str, list[Event]] = {p: [] for p in pass_ids}
    for chunk in chunks(list(pass_ids)):
        rows = tx.execute(
            f"SELECT * FROM events WHERE pass_id IN ({marks(len(chunk))}) AND seq <= ? "
            "AND seq > ?", (*chunk, head, after)).fetchall()
        for r in rows:
            event = event_from_row(dict(r))
            found[event.pass_id or ""].append(event)
    return found


def with_events_before(tx: Tx, pass_ids: Sequence[str], head: int) -> set[str]:
    """The passes of which the log held events up to `head`: one index probe each (counting
    them read every event of a pass scanned thousands of times)."""
    found: set[str] = set()
    for chunk in chunks(list(pass_ids)):
        found.update(r[0] for r in tx.execute(
            "SELECT value FROM json_each(?) WHERE EXISTS "
            "(SELECT 1 FROM events WHERE pass_id = value AND seq <= ?)",
            (json.dumps(chunk), head)).fetchall())
    return found


def last_event_key_before(tx: Tx, pass_id: str, head: int) -> tuple[str, str, str] | None:
    """The greatest fold order key (hlc, origin, id) among the pass's events up to `head`."""
    row = tx.execute(
        "SELECT hlc, origin, id FROM events WHERE pass_id = ?1 AND seq <= ?2 AND hlc = "
        "(SELECT max(hlc) FROM events WHERE pass_id = ?1 AND seq <= ?2) "
        "ORDER BY origin DESC, id DESC LIMIT 1", (pass_id, head)).fetchone()
    return (row[0], row[1], row[2]) if row else None


def insert_scan_if_absent(tx: Tx, scan: Scan, event_id: str,
                          extras: Mapping[str, Any] | None = None) -> bool:
    """A scan another door recorded: kept once, whatever how often its event arrives.
    `extras`: its event's `scan` keys (direction, list, reentry)."""
    cur = tx.execute(
        "INSERT OR IGNORE INTO scans (id, pass_id, station_id, scanned_at, verdict, reason, source, "
        "operator, payload, event_id, direction, list_id, reentry) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (scan.id, scan.pass_id, scan.station_id, scan.scanned_at, str(scan.verdict), scan.reason,
         scan.source, scan.operator, scan.payload[:256], event_id, *scan_movement(extras or {})),
    )
    return bool(cur.rowcount)


def insert_client_if_absent(tx: Tx, client: Client) -> bool:
    cur = tx.execute(
        "INSERT OR IGNORE INTO clients (id, name, email, phone, created_at) VALUES (?, ?, ?, ?, ?)",
        (client.id, client.name, client.email, client.phone, client.created_at),
    )
    return bool(cur.rowcount)


def set_stream_seq(tx: Tx, hub: str, seq: int) -> None:
    """How far in `hub`'s stream this station got; commits with the events it covers."""
    tx.execute(
        "INSERT INTO sync_progress (hub, stream_seq) VALUES (?, ?) "
        "ON CONFLICT(hub) DO UPDATE SET stream_seq = max(stream_seq, excluded.stream_seq)",
        (hub, seq),
    )


def upsert_peers(tx: Tx, peers: Iterable[Peer]) -> None:
    for p in peers:
        tx.execute(
            "INSERT INTO sync_peers (station_id, name, head_seq, seen_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(station_id) DO UPDATE SET name = excluded.name, "
            "head_seq = max(head_seq, excluded.head_seq), seen_at = max(seen_at, excluded.seen_at)",
            (p.station_id, p.name, p.head_seq, p.seen_at),
        )


class SyncLedger:
    """Per-hub progress of this station's outbox, and reads the sync status needs."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # --- outbox --------------------------------------------------------------------------------
    def published_seq(self, hub: str) -> int:
        row = self._store.fetch_one(
            "SELECT published_seq FROM sync_progress WHERE hub = ?", (hub,))
        return int(row["published_seq"]) if row else 0

    def stream_seq(self, hub: str) -> int:
        row = self._store.fetch_one(
            "SELECT stream_seq FROM sync_progress WHERE hub = ?", (hub,))
        return int(row["stream_seq"]) if row else 0

    def mark_published(self, hub: str, seq: int, at: str) -> None:
        """Everything up to local seq `seq` was acknowledged by `hub`. Never moves backwards."""
        self._store.write(lambda tx: tx.execute(
            "INSERT INTO sync_progress (hub, published_seq, last_sync_at) VALUES (?, ?, ?) "
            "ON CONFLICT(hub) DO UPDATE SET published_seq = max(published_seq, "
            "excluded.published_seq), last_sync_at = excluded.last_sync_at",
            (hub, seq, at),
        ), Priority.HOUSEKEEPING)

    def mark_synced(self, hub: str, at: str) -> None:
        self._store.write(lambda tx: tx.execute(
            "INSERT INTO sync_progress (hub, last_sync_at) VALUES (?, ?) "
            "ON CONFLICT(hub) DO UPDATE SET last_sync_at = excluded.last_sync_at",
            (hub, at),
        ), Priority.HOUSEKEEPING)

    def last_sync_at(self, hub: str) -> str | None:
        row = self._store.fetch_one(
            "SELECT last_sync_at FROM sync_progress WHERE hub = ?", (hub,))
        return row["last_sync_at"] if row else None

    def carry_over(self, hub: str, same_stream: str) -> bool:
        """The first time `hub` is seen, take over the progress kept under another key that
        ends with `same_stream` (the same organisation's same stream, reached at another
        address: a hub whose address changed, found again by --sync auto): nothing is
        downloaded or published again. True when something was carried over."""
        def carry(tx: Tx) -> bool:
            if tx.execute("SELECT 1 FROM sync_progress WHERE hub = ?", (hub,)).fetchone():
                return False
            rows = tx.execute(
                "SELECT hub, published_seq, stream_seq, last_sync_at FROM sync_progress "
                "ORDER BY last_sync_at IS NULL, last_sync_at DESC").fetchall()
            row = next((tuple(r)[1:] for r in rows if str(r[0]).endswith(same_stream)), None)
            if row is None:
                return False
            tx.execute("INSERT INTO sync_progress (hub, published_seq, stream_seq, last_sync_at) "
                       "VALUES (?, ?, ?, ?)", (hub, *row))
            return True

        return self._store.write(carry, Priority.SYNC)

    def hubs(self) -> list[str]:
        """Every hub key this station has progress for, the most recently synced first."""
        rows = self._store.fetch_all(
            "SELECT hub FROM sync_progress ORDER BY last_sync_at IS NULL, last_sync_at DESC, hub")
        return [str(r["hub"]) for r in rows]

    def unsent(self, origins: Sequence[str], after_seq: int, limit: int = 500
               ) -> list[tuple[int, Event]]:
        """This station's own events (recorded under any of its ids) not yet acknowledged."""
        marks = ", ".join("?" for _ in origins)
        rows = self._store.fetch_all(
            f"SELECT * FROM events WHERE seq > ? AND origin IN ({marks}) ORDER BY seq LIMIT ?",
            (after_seq, *origins, limit),
        )
        return [(int(r["seq"]), event_from_row(r)) for r in rows]

    def unsent_texts(self, origins: Sequence[str], after_seq: int, limit: int = 500
                     ) -> list[tuple[int, Event, str]]:
        """`unsent`, each event with its data's text as stored: what the publisher signs and
        sends (encoding the data again cost as much as signing it)."""
        marks = ", ".join("?" for _ in origins)
        rows = self._store.fetch_all(
            f"SELECT * FROM events WHERE seq > ? AND origin IN ({marks}) ORDER BY seq LIMIT ?",
            (after_seq, *origins, limit),
        )
        return [(int(r["seq"]), event_from_row(r), str(r["data"])) for r in rows]

    def origin_events(self, origin: str, first_seq: int, last_seq: int
                      ) -> list[tuple[Event, str]]:
        """The events of `origin` with origin_seq from `first_seq` to `last_seq`, in that order
        (the (origin, origin_seq) index), each with its data's text as stored."""
        rows = self._store.fetch_all(
            "SELECT * FROM events WHERE origin = ? AND origin_seq BETWEEN ? AND ? "
            "ORDER BY origin_seq", (origin, first_seq, last_seq))
        return [(event_from_row(r), str(r["data"])) for r in rows]

    def events_by_ids(self, ids: Sequence[str]) -> list[Event]:
        """The events with these ids that the log holds, in log order."""
        found: list[tuple[int, Event]] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = self._store.fetch_all(f"SELECT * FROM events WHERE id IN ({marks})", chunk)
            found += [(int(r["seq"]), event_from_row(r)) for r in rows]
        return [event for _, event in sorted(found, key=lambda f: f[0])]

    def count_unsent(self, origins: Sequence[str], after_seq: int) -> int:
        # `+origin` keeps SQLite on the seq range (the rowid: only what came after the last
        # acknowledgement) instead of the (origin, origin_seq) index, which counted every event
        # this station ever recorded: 1.7 ms at 30k events, and the status bar asks every 2 s.
        marks = ", ".join("?" for _ in origins)
        row = self._store.fetch_one(
            f"SELECT count(*) AS n FROM events WHERE seq > ? AND +origin IN ({marks})",
            (after_seq, *origins),
        )
        return int(row["n"]) if row else 0

    # --- peers ---------------------------------------------------------------------------------
    def heads(self) -> dict[str, int]:
        """The latest origin_seq held here for each origin station."""
        rows = self._store.fetch_all(
            "SELECT origin, max(origin_seq) AS head FROM events GROUP BY origin")
        return {r["origin"]: int(r["head"]) for r in rows}

    def head_of(self, origin: str) -> int:
        row = self._store.fetch_one(
            "SELECT coalesce(max(origin_seq), 0) AS head FROM events WHERE origin = ?", (origin,))
        return int(row["head"]) if row else 0

    def peers(self) -> list[Peer]:
        rows = self._store.fetch_all(
            "SELECT station_id, name, head_seq, seen_at FROM sync_peers ORDER BY name, station_id")
        return [Peer(r["station_id"], r["name"], int(r["head_seq"]), r["seen_at"]) for r in rows]

    # --- convergence -----------------------------------------------------------------------------
    def state_digest(self) -> str:
        """A hash of the folded pass state; equal on stations that hold the same events."""
        h = hashlib.sha256()
        for row in self._store.iter_rows(
                "SELECT id, status, uses, conflicts FROM passes ORDER BY id"):
            h.update(json.dumps(list(row), separators=(",", ":")).encode())
            h.update(b"\n")
        return h.hexdigest()

    def event_ids(self) -> set[str]:
        return {r["id"] for r in self._store.fetch_all("SELECT id FROM events")}

    def pass_states(self) -> list[dict[str, Any]]:
        return self._store.fetch_all("SELECT id, status, uses, conflicts FROM passes ORDER BY id")
