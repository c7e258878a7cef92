"""Queries for the counters and the admissions chart (read-only, on the caller's thread's own
reader connection). Undone admissions (a `scan.reverted` event names the scan) do not count, nor
do exits and re-entries: an admission is an accepted entry that spent a use."""

from __future__ import annotations

from dataclasses import dataclass

from station.store.db import Store

_ADMISSION = "s.verdict = 'accepted' AND s.direction = 'entry' AND s.reentry = 0"
_NOT_REVERTED = (
    "s.id NOT IN (SELECT json_extract(data, '$.scanId') FROM events WHERE type = 'scan.reverted')"
)


@dataclass(frozen=True, slots=True)
class Bucket:
    start: str  # ISO time (UTC) at which the 15-minute slot begins, e.g. 2026-06-01T18:15:00Z
    accepted_single: int = 0
    accepted_multi: int = 0
    refused: int = 0

    @property
    def accepted(self) -> int:
        return self.accepted_single + self.accepted_multi


@dataclass(frozen=True, slots=True)
class Counters:
    admitted_since: int  # accepted scans since the given moment (today)
    admitted_recent: int  # accepted scans in the recent window (last 15 minutes)
    refused_since: int
    passes_admitted: int  # distinct passes admitted at least once, ever
    passes_total: int


def admissions_per_quarter(store: Store, since_iso: str) -> list[Bucket]:
    """Scans since `since_iso` grouped by 15-minute slot, verdict and pass type, oldest first."""
    sql = (
        "SELECT substr(s.scanned_at, 1, 14) || printf('%02d', "
        "(CAST(substr(s.scanned_at, 15, 2) AS INTEGER) / 15) * 15) || ':00Z' AS slot, "
        f"count(*) FILTER (WHERE {_ADMISSION} AND p.type = 'single') AS single, "
        f"count(*) FILTER (WHERE {_ADMISSION} AND coalesce(p.type, 'multi') = 'multi') AS multi, "
        "count(*) FILTER (WHERE s.verdict = 'rejected') AS refused "
        "FROM scans s LEFT JOIN passes p ON p.id = s.pass_id "
        f"WHERE s.scanned_at >= ? AND (s.verdict = 'rejected' OR {_NOT_REVERTED}) "
        "GROUP BY slot ORDER BY slot"
    )
    rows = store.db().execute(sql, [since_iso]).fetchall()
    return [Bucket(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows]


def counters(store: Store, since_iso: str, recent_iso: str) -> Counters:
    db = store.db()
    row = db.execute(
        f"SELECT count(*) FILTER (WHERE {_ADMISSION} AND s.scanned_at >= ?), "
        f"count(*) FILTER (WHERE {_ADMISSION} AND s.scanned_at >= ?), "
        "count(*) FILTER (WHERE s.verdict = 'rejected' AND s.scanned_at >= ?) "
        f"FROM scans s WHERE s.scanned_at >= min(?, ?) AND (s.verdict = 'rejected' OR {_NOT_REVERTED})",
        [since_iso, recent_iso, since_iso, since_iso, recent_iso],
    ).fetchone()
    passes = db.execute(
        "SELECT count(*), count(*) FILTER (WHERE uses > 0) FROM passes"
    ).fetchone()
    return Counters(int(row[0]), int(row[1]), int(row[2]), int(passes[1]), int(passes[0]))
