"""`station check`: is the database whole, and does every pass row say what its events say?

Pass rows are a cache of the fold of their events (Context.refold writes them in the events'
own transaction). The check re-folds every pass from the log and compares the fields a verdict
depends on, after SQLite's integrity and foreign-key checks. It only reads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from station.domain.fold import fold
from station.store import audit, health
from station.store.rows import PASS_COLUMNS, pass_values

# Columns of a pass row the fold decides (email is the client's copy, updated_at a display).
FOLDED = ("code", "type", "status", "uses", "max_uses", "valid_from", "valid_until",
          "provisional", "conflicts")
# Findings listed one by one before the rest are only counted.
MAX_LISTED = 50


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # integrity | foreign_key | fold
    message: str


@dataclass
class Report:
    database: Path
    passes: int = 0
    events: int = 0
    findings: list[Finding] = field(default_factory=list)
    unlisted: int = 0  # findings past MAX_LISTED

    @property
    def healthy(self) -> bool:
        return not self.findings

    def add(self, kind: str, message: str) -> None:
        if len(self.findings) < MAX_LISTED:
            self.findings.append(Finding(kind, message))
        else:
            self.unlisted += 1

    def to_json(self) -> dict[str, Any]:
        return {"database": str(self.database), "healthy": self.healthy, "passes": self.passes,
                "events": self.events, "unlisted": self.unlisted,
                "findings": [{"kind": f.kind, "message": f.message} for f in self.findings]}


def check_database(db: Path) -> Report:
    """Raises health.DamagedDatabase when `db` is not a Station database at all."""
    if not db.exists():
        raise health.DamagedDatabase(db, "does not exist")
    health.probe(db)
    report = Report(db)
    conn = health.open_read_only(db)
    try:
        for doing, step in STEPS:
            try:
                step(conn, report)
            except sqlite3.DatabaseError as exc:
                # SQLite cannot read some page at all: say so, and go on with the other steps.
                report.add("integrity", f"SQLite could not read the database ({exc}) while {doing}")
    finally:
        conn.close()
    return report


def _integrity(conn: sqlite3.Connection, report: Report) -> None:
    for problem in audit.integrity_problems(conn):
        report.add("integrity", problem)


def _foreign_keys(conn: sqlite3.Connection, report: Report) -> None:
    for problem in audit.foreign_key_problems(conn):
        report.add("foreign_key", problem)


def _counts(conn: sqlite3.Connection, report: Report) -> None:
    report.passes, report.events = audit.count(conn, "passes"), audit.count(conn, "events")


def _compare_folds(conn: sqlite3.Connection, report: Report) -> None:
    for pass_id, events, row in audit.pass_histories(conn):
        folded = fold(events).pass_
        if folded is None:
            continue  # events that name a pass but carry none of it (e.g. a lone revert)
        if row is None:
            report.add("fold", f"pass {pass_id} ({folded.code}) has events but no pass row")
            continue
        expected = dict(zip(PASS_COLUMNS, pass_values(folded, None), strict=True))
        wrong = [f"{name} {row[name]!r} (its events say {expected[name]!r})"
                 for name in FOLDED if row[name] != expected[name]]
        if wrong:
            report.add("fold", f"pass {pass_id} ({row['code']}) stores " + ", ".join(wrong))
    for pass_id in audit.passes_without_events(conn, MAX_LISTED):
        report.add("fold", f"pass {pass_id} has no events in the log")


STEPS: tuple[tuple[str, Callable[[sqlite3.Connection, Report], None]], ...] = (
    ("checking its pages", _integrity),
    ("checking its foreign keys", _foreign_keys),
    ("counting passes and events", _counts),
    ("re-folding the passes", _compare_folds),
)
