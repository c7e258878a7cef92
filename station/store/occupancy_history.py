"""The Stats chart's occupancy over the evening: each 15-minute slot's net movement per list and
the check-outs since a moment (read-only, on the caller's thread's reader). The series itself
is built by domain/occupancy_series.py."""

from __future__ import annotations

from station.store.db import Store
from station.store.stats import _NOT_REVERTED

_SLOT = ("substr(s.scanned_at, 1, 14) || printf('%02d', "
         "(CAST(substr(s.scanned_at, 15, 2) AS INTEGER) / 15) * 15) || ':00Z'")


def movements_per_quarter(store: Store, since_iso: str) -> list[tuple[str, str, int]]:
    """(slot, list id or '', entries - exits) of accepted, not undone scans since `since_iso`."""
    rows = store.db().execute(
        f"SELECT {_SLOT} AS slot, coalesce(s.list_id, ''), "
        "sum(CASE WHEN s.direction = 'exit' THEN -1 ELSE 1 END) "
        f"FROM scans s WHERE s.scanned_at >= ? AND s.verdict = 'accepted' AND {_NOT_REVERTED} "
        "GROUP BY slot, 2 ORDER BY slot", [since_iso]).fetchall()
    return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]


def checkouts_since(store: Store, since_iso: str) -> list[tuple[str, str | None]]:
    """(at, list id or None for the venue) of every check-out at or after `since_iso`."""
    rows = store.db().execute(
        "SELECT json_extract(data, '$.at'), json_extract(data, '$.listId') FROM events "
        "WHERE type = 'occupancy.checkout' AND json_extract(data, '$.at') >= ?",
        [since_iso]).fetchall()
    return [(str(r[0]), None if r[1] is None else str(r[1])) for r in rows]
