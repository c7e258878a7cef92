"""Check-in lists as events: `list.changed` carries the keys a create or an edit set, and the
lists every door works with are a fold of those events, so they sync and converge like passes.

    {"event": "list.changed", "data": {"id": "lst_vip", "changes": {"capacity": 250}, "by": "Mia"}}

The fold applies the changes in the log's total order (HLC, station, event id), key by key: two
doors that edited different keys offline both keep their edit, the later edit of the same key
wins. Each write was validated at the door that made it, but two valid edits made apart can
add up to an invalid list (validFrom moved past a validUntil moved earlier elsewhere): the
change that would make it invalid is skipped, on every station alike, and reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from station.domain.checkin_list import CheckinList, parse_checkin_list
from station.domain.errors import InvalidInput
from station.domain.events import Event, EventType


@dataclass(frozen=True, slots=True)
class ListsState:
    lists: Mapping[str, CheckinList] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()  # ids of list.changed events whose change was not applied

    def find(self, ref: str) -> CheckinList | None:
        """By id (a deleted list too: a door set to it must refuse, not admit as a door with
        no list), else by name ignoring case among the lists not deleted (`--list VIP`)."""
        if ref in self.lists:
            return self.lists[ref]
        named = [x for x in self.lists.values()
                 if not x.deleted and x.name.casefold() == ref.strip().casefold()]
        return named[0] if len(named) == 1 else None


def change_data(list_id: str, changes: Mapping[str, Any], by: str) -> dict[str, Any]:
    """The data of a list.changed event (the service validates `changes` first)."""
    return {"id": list_id, "changes": dict(changes), "by": by}


def fold_lists(events: Iterable[Event]) -> ListsState:
    unique = {e.id: e for e in events if e.type == EventType.LIST_CHANGED}
    merged: dict[str, dict[str, Any]] = {}
    lists: dict[str, CheckinList] = {}
    skipped: list[str] = []
    for event in sorted(unique.values(), key=Event.order_key):
        list_id, changes = event.data.get("id"), event.data.get("changes")
        if not isinstance(list_id, str) or not isinstance(changes, dict):
            skipped.append(event.id)
            continue
        candidate = {**merged.get(list_id, {}), **changes, "id": list_id}
        try:
            lists[list_id] = parse_checkin_list(candidate)
        except InvalidInput:
            skipped.append(event.id)
            continue
        merged[list_id] = candidate
    return ListsState(lists, tuple(skipped))
