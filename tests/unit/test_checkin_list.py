"""Check-in lists: parsed and validated from the API's JSON, who is on them, when they are open."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from station.domain.checkin_list import CheckinList, is_open, on_list, parse_checkin_list, with_changes
from station.domain.errors import InvalidInput
from station.domain.models import PassType, Reason
from tests.unit.made_passes import guest

FULL = {"id": "lst_vip", "name": "VIP", "types": ["single"], "fields": {"tier": "vip"},
        "clientId": "cli_1", "validFrom": "2026-06-01T16:00:00.000Z",
        "validUntil": "2026-06-02T04:00:00.000Z", "reentry": True, "capacity": 300,
        "rules": [{"rule": "entriesPerDay", "max": 2}], "confirmAttention": True,
        "checkoutAt": "04:00"}


def test_only_a_name_is_needed_and_defaults_admit_everyone() -> None:
    lst = parse_checkin_list({"name": "  Main entrance "}, default_id="lst_1")
    assert lst == CheckinList(id="lst_1", name="Main entrance")
    assert on_list(lst, guest(type=PassType.MULTI, fields={"tier": "x"})) is None


def test_full_shape_round_trips() -> None:
    lst = parse_checkin_list(FULL)
    assert lst.to_json() == FULL
    assert parse_checkin_list(lst.to_json()) == lst


def test_times_are_normalised_to_the_logs_utc_form() -> None:
    lst = parse_checkin_list({"name": "x", "validFrom": "2026-06-01T18:00:00+02:00"}, default_id="l")
    assert lst.valid_from == "2026-06-01T16:00:00.000Z"


BAD: list[tuple[Any, str]] = [
    ([], "The list must be a JSON object."),
    ({}, "name is required"),
    ({"name": "   "}, "name must not be empty."),
    ({"name": 5}, "name must be text."),
    ({"name": "x" * 201}, "name is 201 characters long"),
    ({"name": "VIP", "colour": "red"}, "The list has an unknown key 'colour'"),
    ({"name": "VIP", "types": "single"}, "types must be a JSON array."),
    ({"name": "VIP", "types": ["vip"]}, "types must list pass types: single, multi."),
    ({"name": "VIP", "fields": ["tier"]}, "fields must be a JSON object"),
    ({"name": "VIP", "fields": {"tier": 3}}, "fields.tier must be text."),
    ({"name": "VIP", "clientId": 7}, "clientId must be text."),
    ({"name": "VIP", "validFrom": "tomorrow"}, "validFrom 'tomorrow' is not a time"),
    ({"name": "VIP", "validUntil": 5}, "validUntil must be a time"),
    ({"name": "VIP", "validFrom": "2026-06-02T00:00:00Z", "validUntil": "2026-06-01T00:00:00Z"},
     "validFrom is not before validUntil"),
    ({"name": "VIP", "reentry": "yes"}, "reentry must be true or false."),
    ({"name": "VIP", "capacity": 0}, "capacity is 0; use a whole number from 1 to 1000000."),
    ({"name": "VIP", "capacity": 2.5}, "capacity must be a whole number"),
    ({"name": "VIP", "capacity": True}, "capacity must be a whole number"),
    ({"name": "VIP", "rules": [{"rule": "x"}]}, "rules[0] has an unknown rule kind 'x'"),
    ({"name": "VIP", "checkoutAt": "4:00"}, "checkoutAt must be a time of day like \"18:00\"."),
    ({"name": "VIP", "confirmAttention": 1}, "confirmAttention must be true or false."),
]


@pytest.mark.parametrize(("data", "message"), BAD, ids=[b[1][:40] for b in BAD])
def test_bad_lists_get_one_sentence_naming_the_field(data: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_checkin_list(data, default_id="lst_1")
    text = str(caught.value)
    assert text.startswith(message) and text.endswith(".") and "\n" not in text


def test_a_new_list_needs_an_id_from_somewhere() -> None:
    with pytest.raises(InvalidInput, match="id is required"):
        parse_checkin_list({"name": "VIP"})


def test_patch_replaces_given_keys_clears_nulls_and_validates_the_whole() -> None:
    lst = parse_checkin_list(FULL)
    changed = with_changes(lst, {"capacity": None, "name": "VIP lounge"})
    assert (changed.capacity, changed.name, changed.fields) == (None, "VIP lounge", {"tier": "vip"})
    with pytest.raises(InvalidInput, match="validFrom is not before validUntil"):
        with_changes(lst, {"validFrom": "2026-06-03T00:00:00Z"})
    with pytest.raises(InvalidInput, match="id cannot be changed"):
        with_changes(lst, {"id": "lst_other"})
    assert lst.capacity == 300  # a refused change changes nothing


def test_vip_list_refuses_a_general_pass_saying_what_it_admits() -> None:
    vip = parse_checkin_list({"name": "VIP entrance", "fields": {"tier": "vip"}}, default_id="l")
    assert on_list(vip, guest(fields={"tier": " VIP "})) is None  # case and spaces do not matter
    refusal = on_list(vip, guest(fields={"tier": "general"}))
    assert refusal is not None and refusal.reason is Reason.WRONG_LIST
    assert refusal.message == "VIP entrance admits tier vip only — use another entrance"


@pytest.mark.parametrize(("data", "pass_over", "message"), [
    ({"types": ["multi"]}, {}, "Day passes admits multi-use passes only — use another entrance"),
    ({"types": ["single", "multi"]}, {}, None),
    ({"clientId": "cli_9"}, {"client_id": "cli_1"},
     "Day passes admits one client's passes only — use another entrance"),
    ({"clientId": "cli_9"}, {"client_id": "cli_9"}, None),
    ({"fields": {"tier": "vip", "day": "sat"}}, {"fields": {"tier": "vip"}},
     "Day passes admits tier vip, day sat only — use another entrance"),
])
def test_every_criterion_must_match(data: dict[str, Any], pass_over: dict[str, Any],
                                    message: str | None) -> None:
    lst = parse_checkin_list({"name": "Day passes", **data}, default_id="l")
    refusal = on_list(lst, guest(**pass_over))
    assert (refusal.message if refusal else None) == message


def test_a_pass_not_synced_yet_cannot_prove_it_is_vip() -> None:
    vip = parse_checkin_list({"name": "VIP", "fields": {"tier": "vip"}}, default_id="l")
    refusal = on_list(vip, guest(provisional=True))
    assert refusal is not None and "has not synced here yet" in refusal.message
    by_type = parse_checkin_list({"name": "Singles", "types": ["single"]}, default_id="l")
    assert on_list(by_type, guest(provisional=True)) is None  # the signed token carries the type


def test_the_list_window() -> None:
    lst = parse_checkin_list(FULL)
    assert is_open(lst, datetime(2026, 6, 1, 20, tzinfo=UTC), UTC) is None
    early = is_open(lst, datetime(2026, 6, 1, 15, tzinfo=UTC), UTC)
    assert early is not None and early.message == "VIP opens 01 Jun 16:00"
    assert early.retry_at == datetime(2026, 6, 1, 16, tzinfo=UTC)
    late = is_open(lst, datetime(2026, 6, 2, 4, tzinfo=UTC), UTC)
    assert late is not None and late.message == "VIP closed 02 Jun 04:00 — use another entrance"
