"""The automatic check-out (pretix #1819): everyone on a list, or in the venue, is checked out
every day at a set time of day in the venue's zone.

Every station that runs the schedule computes the same occurrences (the list, the instant)
and records each as an `occupancy.checkout` with the same id (`events.checkout_event_id`) and
the same data, so two doors checking out at the same scheduled time leave one fact in every
log, and the occupancy fold (which de-duplicates by fact id and orders a check-out by its
`at`) counts it once whichever door's copy arrived first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from station.domain.events import checkout_event_id
from station.domain.times import to_iso

# A station that was off for longer catches up this far back, no further: a check-out from
# the past rebuilds the occupancy rows, and one per missed day would do it again and again.
CATCH_UP = timedelta(days=2)
BY = "schedule"


@dataclass(frozen=True, slots=True)
class Scheduled:
    list_id: str | None  # None: the venue (every list and the doors with none)
    at: time  # time of day in the venue's zone


@dataclass(frozen=True, slots=True)
class DueCheckout:
    event_id: str
    at: str  # ISO instant (UTC): when everyone went out
    list_id: str | None

    def data(self) -> dict[str, str | None]:
        return {"at": self.at, "listId": self.list_id, "by": BY}


def due(schedules: Iterable[Scheduled], since: datetime, now: datetime,
        zone: tzinfo) -> list[DueCheckout]:
    """The check-outs scheduled after `since` and at or before `now`, oldest first. A time the
    clocks skip that night is taken as the same wall time after the gap (as zoneinfo reads it);
    a time they repeat, at its first occurrence."""
    since = max(since, now - CATCH_UP)
    found: list[tuple[datetime, DueCheckout]] = []
    for s in schedules:
        day = since.astimezone(zone).date()
        while day <= now.astimezone(zone).date():
            instant = datetime.combine(day, s.at, zone).astimezone(UTC)
            if since < instant <= now:
                at = to_iso(instant)
                found.append((instant, DueCheckout(checkout_event_id(s.list_id, at), at,
                                                   s.list_id)))
            day += timedelta(days=1)
    return [d for _, d in sorted(found, key=lambda f: (f[0], f[1].list_id or ""))]
