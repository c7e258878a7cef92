"""Entry rules: validation on write, evaluation at the door, the explanation; DST and midnight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from station.domain.entry_rules import evaluate, parse_rules, rules_to_json
from station.domain.errors import InvalidInput

BERLIN = ZoneInfo("Europe/Berlin")


def local(y: int, mo: int, d: int, h: int, mi: int = 0, fold: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN, fold=fold)


def verdict(rules: list[dict[str, Any]], now: datetime,
            entries: tuple[datetime, ...] = ()) -> str | None:
    refusal = evaluate(parse_rules(rules), entries, now, BERLIN)
    return None if refusal is None else refusal.message


# 2026-06-05 is a Friday.
FRI_EVENING = [{"rule": "window", "days": ["fri", "sat"], "from": "18:00", "until": "02:00"}]

CASES: list[tuple[str, list[dict[str, Any]], datetime, tuple[datetime, ...], str | None]] = [
    ("window: before it opens today", FRI_EVENING, local(2026, 6, 5, 17, 0), (),
     "Entry allowed from 18:00"),
    ("window: inside", FRI_EVENING, local(2026, 6, 5, 18, 0), (), None),
    ("window: past midnight belongs to Friday", FRI_EVENING, local(2026, 6, 6, 1, 59), (), None),
    ("window: closed at 02:00, next opens Saturday", FRI_EVENING, local(2026, 6, 6, 2, 0), (),
     "Entry allowed from 18:00"),
    ("window: Sunday night, next Friday", FRI_EVENING, local(2026, 6, 7, 3, 0), (),
     "Entry allowed from Fri 18:00"),
    ("window on a date: before", [{"rule": "window", "date": "2026-12-31", "from": "20:00",
                                   "until": "24:00"}], local(2026, 12, 20, 12), (),
     "Entry allowed from 31 Dec 20:00"),
    ("window on a date: over", [{"rule": "window", "date": "2026-12-31", "from": "20:00",
                                 "until": "24:00"}], local(2027, 1, 1, 0, 0), (),
     "Entry times for this entrance are over"),
    ("two windows are alternatives",
     [{"rule": "window", "from": "10:00", "until": "12:00"},
      {"rule": "window", "from": "18:00", "until": "20:00"}], local(2026, 6, 5, 19), (), None),
    ("per day: second entry allowed", [{"rule": "entriesPerDay", "max": 2}],
     local(2026, 6, 5, 20), (local(2026, 6, 5, 19),), None),
    ("per day: third refused", [{"rule": "entriesPerDay", "max": 2}], local(2026, 6, 5, 22),
     (local(2026, 6, 5, 19), local(2026, 6, 5, 21)), "Already entered twice today; next entry tomorrow"),
    ("per day: once", [{"rule": "entriesPerDay", "max": 1}], local(2026, 6, 5, 22),
     (local(2026, 6, 5, 19),), "Already entered once today; next entry tomorrow"),
    ("per day: yesterday's entries do not count", [{"rule": "entriesPerDay", "max": 1}],
     local(2026, 6, 6, 0, 1), (local(2026, 6, 5, 23, 59),), None),
    ("between: too soon", [{"rule": "minutesBetween", "min": 30}], local(2026, 6, 5, 21, 20),
     (local(2026, 6, 5, 21, 10),), "Next entry from 21:40"),
    ("between: exactly then", [{"rule": "minutesBetween", "min": 30}], local(2026, 6, 5, 21, 40),
     (local(2026, 6, 5, 21, 10),), None),
    ("between: from the latest entry, given in any order", [{"rule": "minutesBetween", "min": 30}],
     local(2026, 6, 5, 21, 20), (local(2026, 6, 5, 21, 10), local(2026, 6, 5, 18)),
     "Next entry from 21:40"),
    ("not before a local time", [{"rule": "notBefore", "at": "2026-06-05T18:00"}],
     local(2026, 6, 5, 17, 59), (), "Entry allowed from 18:00"),
    ("not before: from then on", [{"rule": "notBefore", "at": "2026-06-05T18:00"}],
     local(2026, 6, 5, 18), (), None),
    ("not before a date, days ahead", [{"rule": "notBefore", "at": "2026-12-01"}],
     local(2026, 6, 5, 12), (), "Entry allowed from 01 Dec 00:00"),
    ("not after a date: its whole day", [{"rule": "notAfter", "at": "2026-06-05"}],
     local(2026, 6, 5, 23, 59), (), None),
    ("not after a date: the next day", [{"rule": "notAfter", "at": "2026-06-05"}],
     local(2026, 6, 6, 0, 0), (), "Entry closed after 05 Jun"),
    ("not after an instant with offset", [{"rule": "notAfter", "at": "2026-06-05T16:00:00Z"}],
     local(2026, 6, 5, 18, 1), (), "Entry closed after 18:00"),
    ("the first refusing rule in order speaks",
     [{"rule": "entriesPerDay", "max": 1}, {"rule": "minutesBetween", "min": 600}],
     local(2026, 6, 5, 22), (local(2026, 6, 5, 21),), "Already entered once today; next entry tomorrow"),
]


@pytest.mark.parametrize(("rules", "now", "entries", "said"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_rule_and_its_explanation(rules: list[dict[str, Any]], now: datetime,
                                  entries: tuple[datetime, ...], said: str | None) -> None:
    assert verdict(rules, now, entries) == said


def test_the_refusal_names_the_rule_and_when_it_would_pass() -> None:
    rules = parse_rules([{"rule": "entriesPerDay", "max": 5},
                         {"rule": "minutesBetween", "min": 30}])
    refusal = evaluate(rules, [local(2026, 6, 5, 21, 10)], local(2026, 6, 5, 21, 20), BERLIN)
    assert refusal is not None and refusal.index == 1
    assert refusal.retry_at == local(2026, 6, 5, 21, 40)


def test_per_day_is_the_venue_day_not_the_utc_day() -> None:
    # 23:30 and 00:30 Berlin summer time are both 1 June in UTC: two local days.
    first = local(2026, 6, 1, 23, 30)
    again = local(2026, 6, 2, 0, 30)
    assert first.astimezone(UTC).date() == again.astimezone(UTC).date()
    assert verdict([{"rule": "entriesPerDay", "max": 1}], again, (first,)) is None


def test_fall_back_day_has_25_hours_and_one_count() -> None:
    # 25 Oct 2026: clocks go back 03:00 -> 02:00; 00:30 and 23:30 are the same local day.
    morning, night = local(2026, 10, 25, 0, 30), local(2026, 10, 25, 23, 30)
    assert (night.astimezone(UTC) - morning.astimezone(UTC)) == timedelta(hours=24)
    assert verdict([{"rule": "entriesPerDay", "max": 1}], night, (morning,)) == \
        "Already entered once today; next entry tomorrow"


def test_the_repeated_hour_of_fall_back_counts_once_per_entry() -> None:
    first = local(2026, 10, 25, 2, 30, fold=0)  # 00:30 UTC (summer time)
    second = local(2026, 10, 25, 2, 30, fold=1)  # 01:30 UTC (winter time), an hour later
    rules = [{"rule": "entriesPerDay", "max": 2}, {"rule": "minutesBetween", "min": 45}]
    assert verdict(rules, second, (first,)) is None  # 60 real minutes passed, not 0
    assert verdict(rules, local(2026, 10, 25, 3, 0), (first, second)) == \
        "Already entered twice today; next entry tomorrow"


def test_minutes_between_counts_elapsed_time_over_spring_forward() -> None:
    # 29 Mar 2026: 02:00 -> 03:00. 01:50 + 30 min elapsed is 03:20 on the wall clock.
    before = local(2026, 3, 29, 1, 50)
    assert verdict([{"rule": "minutesBetween", "min": 30}], local(2026, 3, 29, 3, 5), (before,)) == \
        "Next entry from 03:20"


def test_window_opening_in_the_skipped_hour_opens_after_the_gap() -> None:
    rules = [{"rule": "window", "date": "2026-03-29", "from": "02:30", "until": "05:00"}]
    assert verdict(rules, local(2026, 3, 29, 1, 59)) == "Entry allowed from 03:30"
    assert verdict(rules, local(2026, 3, 29, 3, 30)) is None


def test_window_until_midnight_and_from_midnight() -> None:
    late = [{"rule": "window", "from": "20:00", "until": "24:00"}]
    assert verdict(late, local(2026, 6, 5, 23, 59)) is None
    assert verdict(late, local(2026, 6, 6, 0, 0)) == "Entry allowed from 20:00"
    early = [{"rule": "window", "days": ["sat"], "from": "00:00", "until": "06:00"}]
    assert verdict(early, local(2026, 6, 6, 0, 0)) is None
    assert verdict(early, local(2026, 6, 5, 23, 59)) == "Entry allowed from Sat 00:00"


BAD: list[tuple[Any, str]] = [
    ("not a list", "rules must be a JSON array."),
    ([{"rule": "eval", "code": "1"}], "rules[0] has an unknown rule kind 'eval'"),
    ([{"kind": "window"}], "rules[0] must be an object with a \"rule\" kind"),
    ([{"rule": "window", "from": "18:00", "until": "20:00", "extra": 1}],
     "rules[0] has an unknown key 'extra'"),
    ([{"rule": "window", "from": "6pm", "until": "20:00"}], "rules[0].from must be a time of day"),
    ([{"rule": "window", "from": "24:00", "until": "20:00"}], "rules[0].from must be a time of day"),
    ([{"rule": "window", "from": "18:00", "until": "18:00"}], "rules[0].until is the same time"),
    ([{"rule": "window", "days": ["fri"], "date": "2026-01-01", "from": "1:00", "until": "2:00"}],
     "rules[0] has both days and date"),
    ([{"rule": "window", "days": ["friday"], "from": "18:00", "until": "20:00"}],
     "rules[0].days must list days as mon"),
    ([{"rule": "window", "days": [], "from": "18:00", "until": "20:00"}], "rules[0].days must list"),
    ([{"rule": "window", "date": "31.12.2026", "from": "18:00", "until": "20:00"}],
     "rules[0].date must be a date like"),
    ([{"rule": "entriesPerDay", "max": 0}], "rules[0].max is 0; use a whole number from 1 to 1000."),
    ([{"rule": "entriesPerDay", "max": True}], "rules[0].max must be a whole number"),
    ([{"rule": "entriesPerDay", "max": "2"}], "rules[0].max must be a whole number"),
    ([{"rule": "minutesBetween", "min": 10081}], "rules[0].min is 10081"),
    ([{"rule": "notBefore", "at": "soon"}], "rules[0].at must be a date like"),
    ([{"rule": "notAfter"}], "rules[0].at must be a date like"),
    ([{"rule": "entriesPerDay", "max": 1}] * 21, "rules has 21 items; at most 20 are allowed."),
]


@pytest.mark.parametrize(("rules", "message"), BAD, ids=[b[1][:40] for b in BAD])
def test_bad_rules_are_refused_with_one_sentence_naming_the_rule(rules: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_rules(rules)
    text = str(caught.value)
    assert text.startswith(message) and text.endswith(".") and "\n" not in text


def test_rules_round_trip_through_json() -> None:
    written = [
        {"rule": "window", "days": ["fri", "sat"], "from": "18:00", "until": "02:00"},
        {"rule": "window", "date": "2026-12-31", "from": "20:00", "until": "24:00"},
        {"rule": "window", "from": "10:00", "until": "12:00"},
        {"rule": "entriesPerDay", "max": 2},
        {"rule": "minutesBetween", "min": 30},
        {"rule": "notBefore", "at": "2026-12-01T18:00"},
        {"rule": "notAfter", "at": "2026-12-24"},
    ]
    assert rules_to_json(parse_rules(written)) == written
    assert parse_rules(rules_to_json(parse_rules(written))) == parse_rules(written)
