"""Polling reads of the event log (`GET /api/v1/triggers`): vendor events, newest first."""

from __future__ import annotations

from typing import Any

from station.domain.events import VENDOR_EVENTS, Event
from station.store.db import Page, Store
from station.store.rows import event_from_row


def recent_events(store: Store, *, event: str | None, since: str | None, limit: int,
                  cursor: tuple[str, str] | None) -> Page:
    """Newest first by (timestamp, id): events with equal timestamps keep one stable order, and
    the cursor (timestamp and id of the last item seen) resumes exactly after it."""
    types = [event] if event else list(VENDOR_EVENTS)
    where = [f"type IN ({','.join('?' for _ in types)})"]
    params: list[Any] = [*types]
    if since:
        where.append("timestamp >= ?")
        params.append(since)
    if cursor:
        where.append("(timestamp, id) < (?, ?)")
        params += list(cursor)
    sql = ("SELECT * FROM events WHERE " + " AND ".join(where)
           + " ORDER BY timestamp DESC, id DESC LIMIT ?")
    rows = store.db().execute(sql, [*params, limit + 1]).fetchall()
    items: list[Event] = [event_from_row(dict(r)) for r in rows[:limit]]
    next_cursor = f"{items[-1].timestamp}|{items[-1].id}" if len(rows) > limit else None
    return Page(items, next_cursor)
