"""What the card says for a scan: the time, the repeat counter, the code of an unknown pass."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from station.domain.models import Reason, Verdict
from station.ui.verdicts import Kind, VerdictView, from_result, local_time, ordinal


def refused_unknown(payload: str, scan_id: str = "scn_1", at: str = "2026-06-01T18:03:12Z") -> object:
    scan = SimpleNamespace(id=scan_id, scanned_at=at, payload=payload)
    return SimpleNamespace(scan=scan, pass_=None, warning=None, accepted=False,
                           verdict=Verdict.REJECTED, reason=Reason.UNKNOWN, message="Unknown pass")


@pytest.mark.parametrize("n, text", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"),
                                     (12, "12th"), (13, "13th"), (21, "21st"), (102, "102nd")])
def test_ordinals(n: int, text: str) -> None:
    assert ordinal(n) == text


def test_two_different_unknown_codes_do_not_look_alike() -> None:
    a, b = from_result(refused_unknown("AAAA1111BBBB")), from_result(refused_unknown("CCCC2222DDDD"))
    assert a.kind is b.kind is Kind.REFUSED and a.title == b.title == "Unknown pass"
    assert a.detail == "Scanned: AAAA1111BBBB" and b.detail == "Scanned: CCCC2222DDDD"
    assert a.code != b.code  # the repeat counter tells them apart too


def test_a_long_scanned_text_is_cut_for_the_card() -> None:
    view = from_result(refused_unknown("https://example.org/" + "x" * 200))
    assert len(view.detail) <= len("Scanned: ") + 40 and view.detail.endswith("…")


def test_stamp_is_the_local_scan_time_and_the_repeat_count() -> None:
    view = from_result(refused_unknown("AAAA1111BBBB"))
    assert view.scanned_at == "2026-06-01T18:03:12Z"
    assert view.stamp == local_time("2026-06-01T18:03:12Z")
    assert len(view.stamp) == len("19:03:12")
    again = VerdictView(view.kind, view.title, view.detail, scanned_at=view.scanned_at, repeat=3)
    assert again.stamp == f"{local_time(view.scanned_at)} · 3rd scan in a row"


def test_a_view_without_a_time_has_an_empty_stamp() -> None:
    assert VerdictView(Kind.IDLE, "Show a pass", "").stamp == ""
    assert local_time("not a time") == ""
