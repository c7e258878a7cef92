"""ListService: check-in lists (gates), created and edited as `list.changed` events.

Every change is validated whole before anything is written (bad input changes nothing); the
event carries only the keys the change set, so edits made apart at two doors both stay
(domain/list_log.py), and the store materialises the lists in the event's transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
import dataclasses
from dataclasses import dataclass
from typing import Any

from station.domain.checkin_list import CheckinList, parse_checkin_list, with_changes
from station.domain.codes import new_id
from station.domain.errors import Conflict, InvalidInput, NotFound
from station.domain.events import EventType
from station.domain.hlc import Stamp
from station.domain.list_log import ListsState, change_data
from station.domain.times import from_ms
from station.services.context import Context
from station.store.db import Tx
from station.store.door_reads import inside_counts
from station.store.lists import lists_in, read_lists


@dataclass(frozen=True, slots=True)
class ListInside:
    list_: CheckinList
    inside: int


@dataclass(frozen=True, slots=True)
class VenueOccupancy:
    """Inside now: the venue (every list and the doors with none) and each list."""

    inside: int
    lists: tuple[ListInside, ...]


class ListService:
    def __init__(self, ctx: Context, merge_door: Callable[[], object] | None = None) -> None:
        self._ctx = ctx
        # Puts the door journal's unmerged scans into the log (ScanMerger.merge_pending): a
        # scan merged after a check-out gets a later clock stamp there and would stay inside.
        self._merge_door = merge_door

    def all(self) -> list[CheckinList]:
        """The lists not deleted."""
        return [x for x in read_lists(self._ctx.store).values() if not x.deleted]

    def find(self, ref: str) -> CheckinList | None:
        """By id, else by name ignoring case (`--list VIP`, the API's `list`)."""
        return ListsState(read_lists(self._ctx.store)).find(ref)

    def get(self, ref: Any) -> CheckinList:
        if not isinstance(ref, str) or not ref.strip() or len(ref) > 100:
            raise InvalidInput("Give a list's id or name.")
        found = self.find(ref)
        if found is None:
            raise NotFound(f"No check-in list has the id or name {ref.strip()[:40]!r}.")
        if found.deleted:
            raise NotFound(f"The list {found.name[:40]!r} was deleted; choose another list.")
        return found

    def occupancy(self) -> VenueOccupancy:
        """A few counter rows whatever the number of scans (store/occupancy.py keeps them)."""
        counts = inside_counts(self._ctx.store)
        return VenueOccupancy(sum(counts.values()), tuple(
            ListInside(lst, counts.get(lst.id, 0)) for lst in self.all()))

    def checkout(self, ref: Any = None, *, by: str) -> VenueOccupancy:
        """Everyone out now: of one list (`ref`), or of the venue (None). An
        `occupancy.checkout` event that reaches every door, dated just after every fact this
        station holds (a check-out orders by its `at`, and this station's clock is at or past
        each of them), so it takes out everyone this door counts as inside."""
        list_id = None if ref is None else self.get(ref).id
        if self._merge_door is not None:
            self._merge_door()  # every scan decided before this request, in the log first
        self._ctx.write(lambda tx: self._checkout_in(tx, list_id, by))
        return self.occupancy()

    def _checkout_in(self, tx: Tx, list_id: str | None, by: str) -> None:
        draft = self._ctx.event(tx, EventType.OCCUPANCY_CHECKOUT, {})
        at = from_ms(Stamp.decode(draft.hlc).wall_ms + 1)
        tx.append_event(dataclasses.replace(draft, data={"at": at, "listId": list_id, "by": by}))

    def delete(self, ref: Any, *, by: str) -> CheckinList:
        """Delete a list at every door: a `list.changed` setting `deleted` (a door set to it
        refuses every entry from then on, saying so; exits are still recorded) and, in the
        same transaction, everyone on it checked out (nobody can see or empty its count
        any more, and the venue's count must not keep them)."""
        list_id = self.get(ref).id
        if self._merge_door is not None:
            self._merge_door()  # the door's scans on it, in the log before the check-out

        def delete_in(tx: Tx) -> CheckinList:
            lst = lists_in(tx).get(list_id)
            if lst is None or lst.deleted:
                raise NotFound("That list was deleted already.")
            gone = self._change_in(tx, dataclasses.replace(lst, deleted=True),
                                   {"deleted": True}, by)
            self._checkout_in(tx, list_id, by)
            return gone

        return self._ctx.write(delete_in)

    def create(self, body: Any, *, by: str) -> CheckinList:
        made = parse_checkin_list(body, default_id=new_id("lst"))

        def create_in(tx: Tx) -> CheckinList:
            lists = lists_in(tx)
            if made.id in lists:
                raise Conflict(f"A list with id {made.id!r} exists already; edit it instead.")
            self._refuse_taken_name(lists, made)
            return self._change_in(tx, made, {k: v for k, v in made.to_json().items() if k != "id"},
                                   by)

        return self._ctx.write(create_in)

    def edit(self, ref: Any, changes: Any, *, by: str) -> CheckinList:
        list_id = self.get(ref).id

        def edit_in(tx: Tx) -> CheckinList:
            # The list as this transaction sees it: another edit may have committed since.
            lists = lists_in(tx)
            edited = with_changes(lists[list_id], changes)  # validated whole, or it raises
            self._refuse_taken_name(lists, edited)
            body: Mapping[str, Any] = changes
            keys = {k: v for k, v in edited.to_json().items() if k in body and k != "id"}
            return self._change_in(tx, edited, keys, by)

        return self._ctx.write(edit_in)

    @staticmethod
    def _refuse_taken_name(lists: Mapping[str, CheckinList], lst: CheckinList) -> None:
        # A door picks its list by name (`--list VIP`): two lists of one name would be ambiguous.
        for other in lists.values():
            if (other.id != lst.id and not other.deleted
                    and other.name.casefold() == lst.name.casefold()):
                raise Conflict(f"A list named {other.name!r} exists already; choose another name.")

    def _change_in(self, tx: Tx, lst: CheckinList, keys: Mapping[str, Any], by: str) -> CheckinList:
        self._ctx.record(tx, EventType.LIST_CHANGED, change_data(lst.id, keys, by))
        stored = lists_in(tx).get(lst.id)
        assert stored is not None  # the store materialised it in this transaction
        return stored
