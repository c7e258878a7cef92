"""The decision at the door: today's verdict (rules.decide) composed with the door's list,
direction, re-entry, capacity and entry rules. Pure: the caller brings the pass's presence
(occupancy.Presence), its admitted entries, the list's count inside and the venue's tzinfo.

Order of the checks at an entry door with a list (the first that refuses gives the verdict):
1. the pass is revoked, expired or not valid yet (decide)        -> revoked / expired / not_yet_valid
2. the list was deleted; the pass is not on the list; the list
   is outside its window                                         -> wrong_list / entry_rule
3. re-entry list: the pass is inside (no exit since its entry)    -> already_inside
4. no uses left, unless it is a re-entry (exited since its last
   entry this visit, on a re-entry list: not a use, but still
   inside the pass's validity window)                             -> used / max_uses_reached
5. the list's entry rules                                         -> entry_rule
6. the list is at capacity, unless a manager overrides            -> capacity_reached
An exit is always accepted for a known pass (nobody is kept in: not revoked, used or a rule),
and counts no use. With no list at an entry door the decision is exactly decide()'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from station.domain.checkin_list import CheckinList, is_open, on_list
from station.domain.entry_rules import evaluate
from station.domain.errors import InvalidInput
from station.domain.events import Event, EventType
from station.domain.models import Direction, Pass, Reason, Verdict
from station.domain.occupancy import Presence
from station.domain.refusal import Refusal
from station.domain.rules import Decision, decide, is_past_validity
from station.domain.times import parse_iso

# Pass-level refusals that hold at every door, before the list is even looked at.
_PASS_REFUSALS = frozenset({Reason.REVOKED, Reason.EXPIRED, Reason.NOT_YET_VALID})


@dataclass(frozen=True, slots=True)
class Door:
    list_: CheckinList | None = None
    direction: Direction = Direction.ENTRY


NO_LIST = Door()


@dataclass(frozen=True, slots=True)
class AttentionAnswer:
    """The door's answer to a pass's note on a list that asks for it (`confirmAttention`):
    `admit` True records the entry with `scan.attention.confirmedBy`, False a refusal
    `turned_away`. Until the door answers nothing is recorded."""

    by: str
    admit: bool


@dataclass(frozen=True, slots=True)
class DoorDecision:
    decision: Decision
    # The door's sentence when the list or a rule decided; None: explain() words it, as today.
    message: str | None = None
    attention: str | None = None  # the pass's note, on an accepted entry
    confirm: bool = False  # the door confirms the note (or turns away) before the entry counts
    reentry: bool = False  # recorded as `scan.reentry`: a movement, not a use
    overridden: bool = False  # admitted over capacity on a manager's override (recorded)
    rule: int | None = None  # entry_rule: which rule of the list refused
    retry_at: datetime | None = None  # when this pass would pass the refusing rule

    @property
    def accepted(self) -> bool:
        return self.decision.verdict is Verdict.ACCEPTED


def decide_at_door(p: Pass, now: datetime, door: Door = NO_LIST, *,
                   presence: Presence = Presence(), entries: Sequence[datetime] = (),
                   inside_on_list: int = 0, override: bool = False,
                   tz: tzinfo | None = None) -> DoorDecision:
    """`entries`: the pass's admitted entries (for the rules); `inside_on_list`: people inside
    on the door's list now; `override`: a manager allowed an entry over capacity; `tz`: the
    venue's time zone (default: this machine's)."""
    if door.direction is Direction.EXIT:
        said = "Exit recorded" if presence.inside else "Exit recorded (was not recorded as inside)"
        return DoorDecision(Decision(Verdict.ACCEPTED, None), said)
    base = decide(p, now)
    lst = door.list_
    if lst is None:
        return _admit_or_refuse(base, p)
    if base.reason in _PASS_REFUSALS:
        return DoorDecision(base)
    if lst.deleted:
        return _refuse(Refusal(Reason.WRONG_LIST, f"{lst.name} was deleted — this door admits "
                                                  "nobody on it; choose another list"))
    zone = tz or now.astimezone().tzinfo
    assert zone is not None
    refusal = on_list(lst, p) or is_open(lst, now, zone)
    if refusal is not None:
        return _refuse(refusal)
    if lst.reentry and presence.inside:
        return _refuse(Refusal(Reason.ALREADY_INSIDE,
                               "Already inside: no exit since the last entry — scan the exit first "
                               "or call a manager"))
    reentry = lst.reentry and presence.may_reenter
    if base.verdict is Verdict.REJECTED and not reentry:
        return DoorDecision(base)
    if reentry and base.verdict is Verdict.REJECTED:
        # decide() said "used" before looking at the validity window; a re-entry still needs it.
        outside = _outside_validity(p, now)
        if outside is not None:
            return DoorDecision(Decision(Verdict.REJECTED, outside))
    broken = evaluate(lst.rules, entries, now, zone)
    if broken is not None:
        return _refuse(Refusal(Reason.ENTRY_RULE, broken.message, broken.retry_at, broken.index))
    full = lst.capacity is not None and inside_on_list >= lst.capacity
    if full and not override:
        return _refuse(Refusal(Reason.CAPACITY_REACHED,
                               f"{lst.name} is full ({inside_on_list} of {lst.capacity} inside) — "
                               "wait for someone to leave or ask a manager to override"))
    admitted = Decision(Verdict.ACCEPTED, None, new_status=None if reentry else base.new_status)
    welcome = f"{p.name or 'Guest'} · re-entry" if reentry else None
    return DoorDecision(admitted, welcome, p.attention,
                        confirm=bool(p.attention) and lst.confirm_attention, reentry=reentry,
                        overridden=full)


def answered(d: DoorDecision, answer: AttentionAnswer | None) -> DoorDecision:
    """The decision once the door answered the note: turned away, a refusal `turned_away`
    (nothing counts, no use); confirmed or not asked, the decision itself."""
    if answer is None or answer.admit or not (d.accepted and d.confirm):
        return d
    return DoorDecision(Decision(Verdict.REJECTED, Reason.TURNED_AWAY),
                        f"Turned away at the door ({d.attention})")


def _outside_validity(p: Pass, now: datetime) -> Reason | None:
    if is_past_validity(p, now):
        return Reason.EXPIRED
    if p.valid_from is not None and now < parse_iso(p.valid_from):
        return Reason.NOT_YET_VALID
    return None


def _admit_or_refuse(base: Decision, p: Pass) -> DoorDecision:
    accepted = base.verdict is Verdict.ACCEPTED
    return DoorDecision(base, attention=p.attention if accepted else None)


def _refuse(r: Refusal) -> DoorDecision:
    return DoorDecision(Decision(Verdict.REJECTED, r.reason), r.message, rule=r.rule,
                        retry_at=r.retry_at)


_DIRECTION_WORDS = {"in": Direction.ENTRY, "out": Direction.EXIT}


def parse_direction(value: Any) -> Direction:
    """`direction` from the API or the command line; absent means entry; in and out are
    what a door says."""
    if value is None:
        return Direction.ENTRY
    if isinstance(value, str) and value in _DIRECTION_WORDS:
        return _DIRECTION_WORDS[value]
    try:
        return Direction(value)
    except ValueError:
        raise InvalidInput(f"direction {str(value)[:20]!r} is not one of entry, exit "
                           "(or in, out).") from None


def scan_extras(door: Door, d: DoorDecision, *, override_by: str | None = None,
                confirmed_by: str | None = None) -> dict[str, Any]:
    """The keys a scan at this door adds to `data.scan` of its pass.scanned event (none at an
    entry door with no list, so today's events stay exactly as they are). The pass fold
    (`counts_as_use`) and the occupancy fold (`movement_from_event`) read these keys."""
    extras: dict[str, Any] = {}
    if door.direction is Direction.EXIT:
        extras["direction"] = str(Direction.EXIT)
    if door.list_ is not None:
        extras["list"] = door.list_.id
    if d.reentry:
        extras["reentry"] = True
    if d.overridden:
        extras["override"] = {"by": override_by or "manager"}
    if d.rule is not None:
        extras["rule"] = d.rule
    if d.attention is not None and confirmed_by is not None:
        extras["attention"] = {"note": d.attention, "confirmedBy": confirmed_by}
    return extras


def admitted_entries(events: Iterable[Event]) -> list[datetime]:
    """The pass's admitted entries (re-entries too; exits, refusals and undone scans not), as
    the entry rules count them: from its events on this station plus what sync brought."""
    scans: list[dict[str, Any]] = []
    undone: set[Any] = set()
    for event in events:
        if event.type == EventType.SCAN_REVERTED:
            undone.add(event.data.get("scanId"))
        elif event.type == EventType.PASS_SCANNED and isinstance(event.data.get("scan"), dict):
            scans.append(event.data["scan"])
    return [parse_iso(s["scannedAt"]) for s in scans
            if s.get("verdict") == Verdict.ACCEPTED and s.get("id") not in undone
            and s.get("direction", Direction.ENTRY) == Direction.ENTRY and s.get("scannedAt")]
