from __future__ import annotations

from capture_fakes import FakeClock
from station.capture.keystrokes import BurstConfig, KeystrokeBurstParser


def make() -> tuple[KeystrokeBurstParser, FakeClock, list[tuple[str, str]]]:
    clock = FakeClock()
    got: list[tuple[str, str]] = []
    parser = KeystrokeBurstParser(lambda t, s: got.append((t, s)), BurstConfig(), clock)
    return parser, clock, got


def type_text(parser: KeystrokeBurstParser, clock: FakeClock, text: str, gap: float) -> None:
    for ch in text:
        parser.key(ch)
        clock.advance(gap)


URL = "https://passes.example.org/p/AbCdEfGhIjKl?token=abc.def"


def test_a_scanner_burst_ended_by_enter_is_one_hid_payload() -> None:
    parser, clock, got = make()
    type_text(parser, clock, URL, 0.004)
    parser.enter()
    assert got == [(URL, "hid")]
    assert parser.pending() == ""


def test_a_scanner_without_enter_is_ended_by_silence() -> None:
    parser, clock, got = make()
    type_text(parser, clock, "AbCdEfGhIjKl", 0.01)
    parser.poll()
    assert got == []  # 10 ms of silence is still inside the burst
    clock.advance(0.2)
    parser.poll()
    assert got == [("AbCdEfGhIjKl", "hid")]


def test_two_enterless_scans_back_to_back_are_two_payloads() -> None:
    parser, clock, got = make()
    type_text(parser, clock, "AAAAAAAAAAAA", 0.01)
    clock.advance(0.3)  # the next key arrives before anyone polled
    type_text(parser, clock, "BBBBBBBBBBBB", 0.01)
    clock.advance(0.3)
    parser.poll()
    assert got == [("AAAAAAAAAAAA", "hid"), ("BBBBBBBBBBBB", "hid")]


def test_a_person_typing_slowly_and_pressing_enter_is_manual_entry() -> None:
    parser, clock, got = make()
    type_text(parser, clock, "AbCdEfGhIjKl", 0.25)
    parser.poll()  # slow typing is never cut off by the silence timeout
    assert got == []
    parser.enter()
    assert got == [("AbCdEfGhIjKl", "manual")]


def test_a_person_who_corrects_a_typo_is_manual_entry() -> None:
    parser, clock, got = make()
    type_text(parser, clock, "AbCdX", 0.005)
    parser.backspace()
    type_text(parser, clock, "EfGhIjKl", 0.005)
    parser.enter()
    assert got == [("AbCdEfGhIjKl", "manual")]


def test_short_fast_runs_and_stray_keys_are_not_scans() -> None:
    parser, clock, got = make()
    type_text(parser, clock, "ab", 0.005)
    clock.advance(0.5)
    parser.poll()
    assert got == []
    parser.key("\x1b")  # Escape and other control keys are ignored
    parser.key("Shift")
    assert parser.pending() == "ab"
    parser.enter()
    assert got == [("ab", "manual")]


def test_enter_alone_does_nothing() -> None:
    parser, clock, got = make()
    parser.enter()
    assert got == []
