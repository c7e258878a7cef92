"""The scheduled automatic check-out, run beside the expiry sweeper (docs/checkin-lists.md):
a list's `checkoutAt`, and the venue's `venue_checkout_at` setting, each a time of day in the
venue's zone. Each occurrence is recorded once as an `occupancy.checkout` whose id and data
every station computes alike (domain/checkout_schedule.py), so doors that all run the
schedule leave one fact in every log: a copy already held (synced from a door that was
first) is not written again, and one that arrives later is the same event id."""

from __future__ import annotations

import logging
from datetime import datetime

from station.domain.checkout_schedule import DueCheckout, Scheduled, due
from station.domain.entry_rules import parse_clock
from station.domain.errors import InvalidInput
from station.domain.events import EventType
from station.domain.times import parse_iso, to_iso
from station.services.context import Context
from station.services.door_probes import venue_zone
from station.services.lists import ListService
from station.store.db import Priority, Tx

log = logging.getLogger(__name__)

VENUE_SETTING = "venue_checkout_at"  # "HH:MM": everyone in the venue out every day
CHECKED_SETTING = "checkout_schedule_checked"  # ISO: the schedule was run up to this instant


class ScheduledCheckout:
    def __init__(self, ctx: Context, lists: ListService) -> None:
        self._ctx = ctx
        self._lists = lists

    def schedules(self) -> list[Scheduled]:
        found = [Scheduled(x.id, parse_clock(x.checkout_at, "checkoutAt"))
                 for x in self._lists.all() if x.checkout_at]
        venue = self._ctx.store.setting(VENUE_SETTING)
        if venue is not None:
            try:
                found.append(Scheduled(None, parse_clock(venue, VENUE_SETTING)))
            except InvalidInput as exc:  # a setting written by hand: said, not fatal
                log.info("The venue's automatic check-out is off: %s", exc)
        return found

    def run(self) -> int:
        """Record the check-outs due since the last run (the first run only notes the time:
        nothing before it); how many this station wrote."""
        now = self._ctx.now()
        checked = self._ctx.store.setting(CHECKED_SETTING)
        since = parse_iso(checked) if isinstance(checked, str) else now
        todo = due(self.schedules(), since, now, venue_zone(self._ctx, now))
        if checked is not None and not todo:
            return 0  # nothing to write: no write job every sweep
        return self._ctx.write(lambda tx: self._record(tx, todo, now), Priority.HOUSEKEEPING)

    def _record(self, tx: Tx, todo: list[DueCheckout], now: datetime) -> int:
        made = 0
        for d in todo:
            if tx.has_event(d.event_id):
                continue  # another door's copy arrived first: the same fact
            # Stamped at the scheduled time; the fold orders a check-out by its `at`.
            tx.append_event(self._ctx.event(tx, EventType.OCCUPANCY_CHECKOUT, d.data(),
                                            event_id=d.event_id, timestamp=d.at))
            made += 1
        tx.set_setting(CHECKED_SETTING, to_iso(now))
        return made
