"""Entry rules of a check-in list: data, not code, evaluated at the door offline and explained.

A list's `rules` is a JSON array of objects; each names its kind in `rule`. Nothing is ever
executed or evaluated as an expression: an unknown kind or key is refused when the list is saved.

    {"rule": "window", "days": ["fri", "sat"], "from": "18:00", "until": "02:00"}
        Entry on Fridays and Saturdays from 18:00 until 02:00 the next morning (`until` at or
        before `from` crosses midnight; the window belongs to the day it opens). `days` left out
        means every day; "until": "24:00" means the end of the day.
    {"rule": "window", "date": "2026-12-31", "from": "20:00", "until": "23:30"}
        A window on one date instead of on days of the week.
    {"rule": "entriesPerDay", "max": 2}          at most 2 entries per day
    {"rule": "minutesBetween", "min": 30}        at least 30 minutes from one entry to the next
    {"rule": "notBefore", "at": "2026-12-01T18:00"}   no entry before then
    {"rule": "notAfter", "at": "2026-12-24"}     no entry after that day (a date: its whole day)

How they combine: all rules must allow the entry, except that windows are alternatives (an
entry inside any one window passes the window check). Times of day, dates and days are the
venue's local time (every function takes its tzinfo); `at` without an offset is local too, one
with an offset or `Z` is that instant. A day is the local calendar day, so on a day when the
clocks change it has 23 or 25 hours; a window opening at a time the clocks skip (02:30 on a
spring-forward night) opens when the clock reaches the time after the gap. Entries counted are
the pass's admitted entries (re-entries too, exits never) on this station plus what sync
brought. The refusal names the rule (its index in the array) and says what to do:
"Entry allowed from 18:00", "Already entered twice today", "Next entry from 21:40".
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from station.domain import json_checks as check
from station.domain.errors import InvalidInput

MAX_RULES = 20
MAX_ENTRIES_PER_DAY = 1000
MAX_MINUTES_BETWEEN = 7 * 24 * 60
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_KEYS = {
    "window": {"rule", "days", "date", "from", "until"},
    "entriesPerDay": {"rule", "max"},
    "minutesBetween": {"rule", "min"},
    "notBefore": {"rule", "at"},
    "notAfter": {"rule", "at"},
}


@functools.lru_cache(maxsize=256)
def _span(window: Window, day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    # A door asks for the same day's windows at every scan (four zone conversions).
    return window._span(day, tz)


@dataclass(frozen=True, slots=True)
class Window:
    start: time
    end: time | None  # None: the end of the day ("24:00")
    days: tuple[int, ...] = ()  # weekday numbers (Monday 0); empty with no date: every day
    on: date | None = None

    def opens_on(self, day: date) -> bool:
        if self.on is not None:
            return day == self.on
        return not self.days or day.weekday() in self.days

    def span(self, day: date, tz: tzinfo) -> tuple[datetime, datetime]:
        """The window opening on `day`, as UTC instants (aware datetimes sharing one tzinfo
        compare by wall time, which is wrong across a clock change)."""
        return _span(self, day, tz)

    def _span(self, day: date, tz: tzinfo) -> tuple[datetime, datetime]:
        start = datetime.combine(day, self.start, tz).astimezone(UTC)
        if self.end is None:
            end_day, end_time = day + timedelta(days=1), time(0, 0)
        else:
            end_day = day if self.end > self.start else day + timedelta(days=1)
            end_time = self.end
        return start, datetime.combine(end_day, end_time, tz).astimezone(UTC)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": "window"}
        if self.on is not None:
            out["date"] = self.on.isoformat()
        elif self.days:
            out["days"] = [DAY_NAMES[d] for d in self.days]
        out["from"] = self.start.strftime("%H:%M")
        out["until"] = "24:00" if self.end is None else self.end.strftime("%H:%M")
        return out


@dataclass(frozen=True, slots=True)
class EntriesPerDay:
    max: int

    def to_json(self) -> dict[str, Any]:
        return {"rule": "entriesPerDay", "max": self.max}


@dataclass(frozen=True, slots=True)
class MinutesBetween:
    min: int

    def to_json(self) -> dict[str, Any]:
        return {"rule": "minutesBetween", "min": self.min}


@dataclass(frozen=True, slots=True)
class Bound:
    """notBefore / notAfter: `at` as written (a date, or a time with or without offset)."""

    kind: str  # "notBefore" | "notAfter"
    at: str

    def instant(self, tz: tzinfo) -> datetime:
        """notBefore: the first allowed moment; notAfter: the first refused one (UTC)."""
        if len(self.at) == 10:
            day = date.fromisoformat(self.at)
            if self.kind == "notAfter":
                day += timedelta(days=1)
            return datetime.combine(day, time(0, 0), tz).astimezone(UTC)
        moment = datetime.fromisoformat(self.at.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz)
        if self.kind == "notAfter":
            moment += timedelta(microseconds=1)  # `at` itself is still allowed
        return moment.astimezone(UTC)

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.kind, "at": self.at}


Rule = Window | EntriesPerDay | MinutesBetween | Bound


@dataclass(frozen=True, slots=True)
class RuleRefusal:
    index: int  # which rule of the list's array refused (the first window for windows)
    message: str  # what the door reads, e.g. "Entry allowed from 18:00"
    retry_at: datetime | None = None  # when the same pass would pass this rule, if ever


# --- validation on write ---------------------------------------------------------------------


def counts_entries(rules: Sequence[Rule]) -> bool:
    """Whether the rules read the pass's earlier entries (a door reads them only then)."""
    return any(isinstance(r, (EntriesPerDay, MinutesBetween)) for r in rules)


def parse_rules(value: Any, what: str = "rules") -> tuple[Rule, ...]:
    items = check.array(value, what, max_items=MAX_RULES)
    return tuple(parse_rule(item, f"{what}[{i}]") for i, item in enumerate(items))


def rules_to_json(rules: Sequence[Rule]) -> list[dict[str, Any]]:
    return [r.to_json() for r in rules]


def parse_rule(value: Any, what: str) -> Rule:
    if not isinstance(value, dict) or not isinstance(value.get("rule"), str):
        raise InvalidInput(f"{what} must be an object with a \"rule\" kind "
                           f"({', '.join(_KEYS)}).")
    kind = value["rule"]
    if kind not in _KEYS:
        raise InvalidInput(f"{what} has an unknown rule kind {kind[:40]!r}; use one of "
                           f"{', '.join(_KEYS)}.")
    check.obj(value, what, _KEYS[kind])
    if kind == "entriesPerDay":
        return EntriesPerDay(check.whole(value.get("max"), f"{what}.max", low=1,
                                         high=MAX_ENTRIES_PER_DAY))
    if kind == "minutesBetween":
        return MinutesBetween(check.whole(value.get("min"), f"{what}.min", low=1,
                                          high=MAX_MINUTES_BETWEEN))
    if kind in ("notBefore", "notAfter"):
        return Bound(kind, _bound_text(value.get("at"), f"{what}.at"))
    return _window(value, what)


def _window(value: dict[str, Any], what: str) -> Window:
    if "days" in value and "date" in value:
        raise InvalidInput(f"{what} has both days and date; a window is on days of the week "
                           "or on one date.")
    start = _clock(value.get("from"), f"{what}.from", allow_24=False)
    assert start is not None  # "24:00" is only allowed as an end
    end = _clock(value.get("until"), f"{what}.until", allow_24=True)
    if end == start:
        raise InvalidInput(f"{what}.until is the same time as from; give the window a length.")
    on: date | None = None
    days: tuple[int, ...] = ()
    if "date" in value:
        on = _date(value["date"], f"{what}.date")
    elif "days" in value:
        names = check.array(value["days"], f"{what}.days", max_items=7)
        if not names or not all(isinstance(n, str) and n.lower() in DAY_NAMES for n in names):
            raise InvalidInput(f"{what}.days must list days as {', '.join(DAY_NAMES)}.")
        days = tuple(sorted({DAY_NAMES.index(n.lower()) for n in names}))
    return Window(start, end, days, on)


def parse_clock(value: Any, what: str) -> time:
    """A time of day "HH:MM" (a list's automatic check-out); raises InvalidInput naming `what`."""
    parsed = _clock(value, what, allow_24=False)
    assert parsed is not None
    return parsed


def _clock(value: Any, what: str, *, allow_24: bool) -> time | None:
    if allow_24 and value == "24:00":
        return None
    ok = isinstance(value, str) and len(value) == 5 and value[2] == ":"
    try:
        parsed = time.fromisoformat(value) if ok else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidInput(f"{what} must be a time of day like \"18:00\""
                           + (" (or \"24:00\")." if allow_24 else "."))
    return parsed


def _date(value: Any, what: str) -> date:
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise InvalidInput(f"{what} must be a date like \"2026-12-31\".")


def _bound_text(value: Any, what: str) -> str:
    if isinstance(value, str) and len(value.strip()) == 10:
        return _date(value.strip(), what).isoformat()
    if isinstance(value, str) and len(value) <= 40:
        try:
            datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            return value.strip()
        except ValueError:
            pass
    raise InvalidInput(f"{what} must be a date like \"2026-12-24\" or a time like "
                       "\"2026-12-24T18:00\".")


# --- evaluation at the door ------------------------------------------------------------------


def evaluate(rules: Sequence[Rule], entries: Sequence[datetime], now: datetime,
             tz: tzinfo) -> RuleRefusal | None:
    """None when every rule lets the pass in now; else the first refusing rule, explained.
    `entries`: the pass's admitted entries (any order), aware datetimes."""
    windows_done = False
    for index, rule in enumerate(rules):
        refusal: RuleRefusal | None = None
        if isinstance(rule, Window):
            if windows_done:
                continue
            windows_done = True
            refusal = _check_windows(index, [r for r in rules if isinstance(r, Window)], now, tz)
        elif isinstance(rule, Bound):
            refusal = _check_bound(index, rule, now, tz)
        elif isinstance(rule, EntriesPerDay):
            refusal = _check_per_day(index, rule, entries, now, tz)
        else:
            refusal = _check_between(index, rule, entries, now, tz)
        if refusal is not None:
            return refusal
    return None


def _check_windows(index: int, windows: Sequence[Window], now: datetime,
                   tz: tzinfo) -> RuleRefusal | None:
    today = now.astimezone(tz).date()
    # A window that opened yesterday may run past midnight into today.
    for day in (today - timedelta(days=1), today):
        for w in windows:
            if w.opens_on(day):
                start, end = w.span(day, tz)
                if start <= now < end:
                    return None
    upcoming = [w.span(day, tz)[0] for w in windows
                for day in _days_ahead(w, today) if w.opens_on(day)]
    later = [s for s in upcoming if s > now]
    if not later:
        return RuleRefusal(index, "Entry times for this entrance are over")
    opens = min(later)
    return RuleRefusal(index, f"Entry allowed from {_when(opens, now, tz)}", opens)


def _days_ahead(w: Window, today: date) -> list[date]:
    if w.on is not None:
        return [w.on]
    return [today + timedelta(days=n) for n in range(8)]


def _check_bound(index: int, rule: Bound, now: datetime, tz: tzinfo) -> RuleRefusal | None:
    edge = rule.instant(tz)
    if rule.kind == "notBefore" and now < edge:
        return RuleRefusal(index, f"Entry allowed from {_when(edge, now, tz)}", edge)
    if rule.kind == "notAfter" and now >= edge:
        last = (edge - timedelta(microseconds=1)).astimezone(tz)
        shown = last.strftime("%d %b") if len(rule.at) == 10 else _when(last, now, tz)
        return RuleRefusal(index, f"Entry closed after {shown}")
    return None


def _check_per_day(index: int, rule: EntriesPerDay, entries: Sequence[datetime],
                   now: datetime, tz: tzinfo) -> RuleRefusal | None:
    today = now.astimezone(tz).date()
    count = sum(1 for e in entries if e.astimezone(tz).date() == today)
    if count < rule.max:
        return None
    tomorrow = datetime.combine(today + timedelta(days=1), time(0, 0), tz).astimezone(UTC)
    times = {1: "once", 2: "twice"}.get(count, f"{count} times")
    return RuleRefusal(index, f"Already entered {times} today; next entry tomorrow", tomorrow)


def _check_between(index: int, rule: MinutesBetween, entries: Sequence[datetime],
                   now: datetime, tz: tzinfo) -> RuleRefusal | None:
    if not entries:
        return None
    # Elapsed time, not wall-clock difference: an hour the clocks skip still counts as none.
    next_at = max(e.astimezone(UTC) for e in entries) + timedelta(minutes=rule.min)
    if now >= next_at:
        return None
    return RuleRefusal(index, f"Next entry from {_when(next_at, now, tz)}", next_at)


def _when(moment: datetime, now: datetime, tz: tzinfo) -> str:
    local, local_now = moment.astimezone(tz), now.astimezone(tz)
    if local.date() == local_now.date():
        return local.strftime("%H:%M")
    if timedelta(0) < local.date() - local_now.date() < timedelta(days=7):
        return local.strftime("%a %H:%M")
    return local.strftime("%d %b %H:%M")
