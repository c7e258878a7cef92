"""A US-set scanner on US, German and French desktops: recovering what it meant to type.

The key events are recordings (tests/unit/data/wedge_recorded_keys.json): Qt's key presses on an
X11 window under Xvfb with `setxkbmap us|de|fr`, while xdotool pressed the keycodes a US-set
scanner sends for a pass code, a pass link and a signed token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from station.capture.scanner_layouts import (
    GUESSED_LAYOUTS, ScanCodes, Stroke, as_typed, guessed_readings, recover, us_char, well_formed,
)

RECORDED = json.loads((Path(__file__).parent / "data" / "wedge_recorded_keys.json").read_text("utf-8"))
SHIFT = 0x02000000  # Qt.ShiftModifier
QT_KEY_SHIFT = 0x01000020
CASES = [name for name in RECORDED if not name.startswith("_")]


def strokes(name: str, scan_codes: bool = True) -> list[Stroke]:
    """The payload's key presses as the Qt wedge turns them into strokes (modifier keys dropped)."""
    return [Stroke(text, code if scan_codes else 0, bool(mods & SHIFT))
            for text, code, _vk, mods, key in RECORDED[name]["events"] if key != QT_KEY_SHIFT]


@pytest.mark.parametrize("name", [c for c in CASES if c != "de/code"])
def test_the_physical_keys_give_back_what_a_us_scanner_meant_on_every_layout(name: str) -> None:
    intended = RECORDED[name]["intended"]
    got = recover(strokes(name), ScanCodes.XKB)
    assert got.text == intended
    assert got.alternatives == ()


def test_the_desktops_own_text_is_wrong_where_the_layouts_differ() -> None:
    assert as_typed(strokes("us/code")) == "AbYz0Q9mWx1Z"
    assert as_typed(strokes("de/code")) == "AbZy0Q9mWx1Y"  # y and z swapped
    assert as_typed(strokes("fr/code")) == "QbYwàAç,Zx&W"  # digits need Shift on AZERTY
    assert not well_formed(as_typed(strokes("de/url")))  # "httpsÖ--passes…"


def test_a_bare_code_on_qwertz_is_ambiguous_and_the_other_reading_is_offered() -> None:
    # A scanner set to the desktop's own layout would send exactly these keys for "AbZy0Q9mWx1Y":
    # both readings are valid codes, so the one the scanner most likely meant comes first and
    # the other is offered for the caller to check against the passes it knows.
    got = recover(strokes("de/code"), ScanCodes.XKB)
    assert {got.text, *got.alternatives} == {"AbYz0Q9mWx1Z", "AbZy0Q9mWx1Y"}
    assert got.text == "AbZy0Q9mWx1Y"  # the text as typed, never a silent guess


def test_windows_set1_scan_codes_map_the_same_keys() -> None:
    assert us_char(0x15, False, ScanCodes.SET1) == "y"  # the key right of T
    assert us_char(0x15 + 8, True, ScanCodes.XKB) == "Y"
    assert us_char(0x0B, True, ScanCodes.SET1) == ")"
    assert us_char(0, False, ScanCodes.XKB) is None
    assert us_char(30, False, ScanCodes.NONE) is None


@pytest.mark.parametrize("name", ["de/url", "de/token", "fr/code", "fr/url", "fr/token"])
def test_without_scan_codes_a_layout_guess_is_used_only_when_unambiguous(name: str) -> None:
    got = recover(strokes(name, scan_codes=False), ScanCodes.NONE)
    intended = RECORDED[name]["intended"]
    if name == "de/url":
        # The dead key "´" (US "=") types nothing without a scan code: the link cannot be
        # rebuilt, so nothing is guessed and the text goes on as typed.
        assert got.text == as_typed(strokes(name)) and got.how == "as typed"
    else:
        assert got.text == intended, got
        assert got.how.startswith("guessed")


def test_without_scan_codes_well_formed_text_is_never_re_mapped() -> None:
    got = recover(strokes("de/code", scan_codes=False), ScanCodes.NONE)
    assert got.text == "AbZy0Q9mWx1Y" and got.how == "as typed"
    assert recover(strokes("us/url", scan_codes=False), ScanCodes.NONE).text == RECORDED["us/url"]["intended"]


def test_text_that_no_layout_explains_goes_on_as_typed() -> None:
    foreign = [Stroke(c) for c in "4006381333931"]  # an EAN-13 barcode
    assert recover(foreign, ScanCodes.NONE).text == "4006381333931"
    assert "de" not in guessed_readings("Ωmega")


def test_well_formed_knows_the_payload_shapes() -> None:
    assert well_formed("AbYz0Q9mWx1Z")
    assert well_formed(RECORDED["us/url"]["intended"])
    assert well_formed(RECORDED["us/token"]["intended"])
    assert not well_formed("AbYz0Q9mWx1")  # 11 characters
    assert not well_formed("https://passes.station.example/p/AbYz0Q9mWx1Z")  # no token
    assert not well_formed("hello world")


@pytest.mark.parametrize("layout", ["de", "fr"])
def test_the_guess_tables_agree_with_every_recorded_key(layout: str) -> None:
    table = GUESSED_LAYOUTS[layout]
    seen = 0
    for name in (n for n in CASES if n.startswith(layout + "/")):
        for s in strokes(name):
            if s.text:  # a dead key types nothing: no table entry to check
                assert table[s.text] == us_char(s.scan_code, s.shift, ScanCodes.XKB), (name, s)
                seen += 1
    assert seen > 400  # a code, a link and a token: most keys a payload uses


@pytest.mark.parametrize("layout", ["de", "fr"])
@pytest.mark.parametrize("shape", [str.upper, str.lower])
def test_a_format_2_link_typed_on_another_desktop_layout_is_recovered(layout: str, shape: object) -> None:
    """The printed link is upper case and all digits after the prefix; a scanner may type it in
    either case, and on AZERTY every digit comes out as another character."""
    url = shape("HTTPS://PASSES.STATION.EXAMPLE/P/") + "2" + "0123456789" * 20  # type: ignore[operator]
    assert well_formed(url)
    us_to_typed = {us: typed for typed, us in GUESSED_LAYOUTS[layout].items()}
    typed = "".join(us_to_typed[ch] for ch in url)
    got = recover([Stroke(ch) for ch in typed], ScanCodes.NONE)
    assert got.text == url


def test_short_digit_strings_are_not_taken_for_a_format_2_token() -> None:
    assert not well_formed("1234567")
    assert not well_formed("https://passes.station.example/p/1234567")
