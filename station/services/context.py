"""What every service needs: the store, the bus, the clocks and the organisation's keys."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from station.domain.events import Event, new_event_id
from station.domain.fold import FoldResult, fold, fold_next
from station.domain.models import Pass
from station.domain.hlc import HybridClock, Stamp
from station.domain.times import to_iso
from station.services.bus import EventBus
from station.services.org import OrgKeys
from station.store.db import Priority, Store, Tx

T = TypeVar("T")


def station_name(store: Store) -> str:
    """The name people gave this station (Settings), or a placeholder until they do."""
    return str(store.setting("station_name") or "This station")


def system_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    store: Store
    bus: EventBus
    keys: OrgKeys
    base_url: str
    now: Callable[[], datetime] = system_now
    hlc: HybridClock = field(init=False)

    def __post_init__(self) -> None:
        last = self.store.max_hlc()
        self.hlc = HybridClock(
            lambda: int(self.now().timestamp() * 1000),
            Stamp.decode(last) if last else None,
        )

    @property
    def station_id(self) -> str:
        return self.store.station_id

    @property
    def station_name(self) -> str:
        return station_name(self.store)

    def station_names(self) -> dict[str, str]:
        """Names of the stations this one knows (peers arrive through sync)."""
        names = dict(self.store.setting("station_names", {}) or {})
        names[self.station_id] = self.station_name
        return names

    def record(self, tx: Tx, type_: str, data: dict[str, Any], *, pass_id: str | None = None,
               event_id: str | None = None, at: datetime | None = None) -> Event:
        """Append a new local event to the log inside `tx` (timestamped `at`, default now)."""
        event = self.event(tx, type_, data, pass_id=pass_id, event_id=event_id, at=at)
        tx.append_event(event)
        return event

    def record_pass_change(self, tx: Tx, type_: str, data: dict[str, Any], *, pass_id: str,
                           event_id: str | None = None, at: datetime | None = None,
                           current: Pass | None = None) -> tuple[Event, Pass | None]:
        """Append an event that changes a pass, with the pass fields of its `data` showing the
        pass *after* it (what webhooks and /triggers promise), and store the refolded pass;
        returns the event and that pass.

        The event is folded together with the pass's log before it is appended, so its data can
        carry the result: status, uses, and updatedAt (the event's own time when it changed the
        pass). The fold reads only the fields that describe the change (`scan`, `trigger`, `to`)
        and the pass's fixed fields, which stay the same, so replication is unaffected.
        `current` (the pass as stored, read in this transaction) lets a change that sorts after
        the whole log be folded onto it without reading the log (fold_next)."""
        event = self.event(tx, type_, data, pass_id=pass_id, event_id=event_id, at=at)
        after: Pass | None = None
        if current is not None:
            last = tx.last_event_key(pass_id)
            if last is not None and last < event.order_key():
                after = fold_next(current, event)
        counted = after is not None  # a use counted onto the stored row: only it changes
        if after is None:
            # Stored events first: when the id is already in the log (an expiry another path
            # recorded), the fold keeps the stored one, as the log will.
            after = fold([event, *tx.events_for_pass(pass_id)]).pass_
        if after is not None:
            event = replace(event, data={**data, **after.to_api()})
        tx.append_event(event)
        if counted and after is not None:
            tx.count_use(after)
        elif after is not None:
            tx.upsert_pass(after, None)
        return event, after

    def event(self, tx: Tx, type_: str, data: dict[str, Any], *, pass_id: str | None = None,
              event_id: str | None = None, at: datetime | None = None,
              timestamp: str | None = None) -> Event:
        """A new local event, given its place in this station's log and clock, for the caller
        to append inside `tx` (several at once: tx.append_new_events); stamped `timestamp`
        (ISO), or `at`, or now."""
        return Event(
            id=event_id or new_event_id(),
            type=type_,
            timestamp=timestamp or to_iso(at or self.now()),
            data=data,
            origin=tx.station_id,
            origin_seq=tx.next_origin_seq(),
            hlc=self.hlc.now().encode(),
            pass_id=pass_id,
        )

    def refold(self, tx: Tx, pass_id: str, email: str | None = None) -> FoldResult:
        """Recompute a pass from its events and store the result (the cache of the fold)."""
        result = fold(tx.events_for_pass(pass_id))
        if result.pass_ is not None:
            tx.upsert_pass(result.pass_, email)
        return result

    def write(self, fn: Callable[[Tx], T], priority: Priority = Priority.USER) -> T:
        """`fn(tx)` as one job of the store's writer; the events it appended are published
        once it has committed (never before, and not at all if it rolled back)."""
        result, appended = self.store.write(lambda tx: (fn(tx), tx.appended), priority)
        self.publish(appended)
        return result

    def publish(self, events: Sequence[Event]) -> None:
        self.bus.publish(events)

