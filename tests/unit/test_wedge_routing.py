"""The keyboard-wedge rule over key timings: what a scanner and what a person produce.

Each script is (milliseconds since the previous key, key) as a scanner or a person sends them:
scanners 2-30 ms per key (USB HID polls at 1-8 ms), a person typing fast 60-120 ms with the odd
40 ms pair of rolled keys. The driver plays them into the router as the Qt wedge does, calling
`tick` whenever the router's deadline passes between two keys."""

from __future__ import annotations

from dataclasses import dataclass, field

from station.capture.wedge_routing import Action, BurstConfig, Keystroke, KeyKind, Outcome, Place, WedgeRouter

CODE = "AbCdEfGhJkMn"
SPECIAL = {"<Enter>": KeyKind.SUFFIX, "<Tab>": KeyKind.SUFFIX, "<Space>": KeyKind.SPACE,
           "<Esc>": KeyKind.OTHER, "<Backspace>": KeyKind.OTHER, "<Shift>": KeyKind.MODIFIER}


def keys(gaps_ms: list[float], names: list[str]) -> list[tuple[float, str]]:
    return list(zip(gaps_ms, names, strict=True))


def scanner(text: str, gap_ms: float = 4, suffix: str | None = "<Enter>") -> list[tuple[float, str]]:
    names = list(text) + ([suffix] if suffix else [])
    return keys([gap_ms] * len(names), names)


@dataclass
class Played:
    delivered: list[str] = field(default_factory=list)  # what the focused widget received, in order
    scans: list[str] = field(default_factory=list)


def play(script: list[tuple[float, str]], place: Place = Place.WINDOW, router: WedgeRouter | None = None,
         tail_ms: float = 1000) -> Played:
    router = router or WedgeRouter()
    out = Played()
    now = 1000.0

    def take(o: Outcome, key: Keystroke | None) -> None:
        out.delivered += [k.text for k in o.replay]
        if o.scan:
            out.scans.append("".join(k.text for k in o.scan))
        if key is not None and o.action is Action.PASS:
            out.delivered.append(key.text)

    def ticks_until(t: float) -> None:
        while (d := router.deadline()) is not None and d < t:
            take(router.tick(d + 0.001), None)

    for gap_ms, name in script:
        now += gap_ms / 1000
        ticks_until(now)
        key = Keystroke(now, SPECIAL.get(name, KeyKind.CHAR), name)
        take(router.press(key, place), key)
    ticks_until(now + tail_ms / 1000)
    return out


def test_a_scanner_with_enter_is_one_scan_and_the_widget_sees_nothing() -> None:
    got = play(scanner(CODE))
    assert got.scans == [CODE]
    assert got.delivered == []


def test_a_scanner_without_a_suffix_is_ended_by_silence() -> None:
    router = WedgeRouter()
    got = play(scanner(CODE, gap_ms=12, suffix=None), router=router, tail_ms=100)
    assert got.scans == []  # 100 ms of silence is still inside the burst
    assert router.pending() == len(CODE)
    got = play([], router=router, tail_ms=1000)
    assert got.scans == [CODE]


def test_a_scanner_with_a_tab_suffix_swallows_the_tab() -> None:
    got = play(scanner(CODE, suffix="<Tab>"))
    assert got.scans == [CODE] and got.delivered == []


def test_two_suffixless_scans_back_to_back_are_two_scans() -> None:
    script = scanner("A" * 12, suffix=None) + [(90, "B")] + scanner("B" * 11, suffix=None)
    assert play(script).scans == ["A" * 12, "B" * 12]


def test_shift_inside_a_burst_is_not_an_end() -> None:
    script = keys([3, 3, 2, 3, 3, 3, 3, 3], ["a", "<Shift>", "B", "c", "<Shift>", "D", "e", "f"]) + [(3, "<Enter>")]
    assert play(script).scans == ["aBcDef"]


def test_a_person_typing_fast_is_never_a_scan_and_gets_every_key_in_order() -> None:
    # A quick typist: mostly 60-120 ms, two rolled pairs at 40 ms, then Enter.
    gaps = [0, 95, 40, 110, 70, 64, 40, 120, 85, 66, 102, 73, 150]
    script = keys(gaps, [*CODE, "<Enter>"])
    got = play(script)
    assert got.scans == []
    assert got.delivered == [*CODE, "<Enter>"]


def test_a_person_bursting_five_rolled_keys_is_still_a_person() -> None:
    got = play(keys([0, 30, 30, 30, 30, 200], ["t", "h", "e", "r", "e", "<Enter>"]))
    assert got.scans == [] and got.delivered == ["t", "h", "e", "r", "e", "<Enter>"]


def test_a_fast_double_tap_is_not_a_scan() -> None:
    got = play(keys([0, 8, 20], ["x", "x", "<Enter>"]))
    assert got.scans == []
    assert got.delivered == ["x", "x", "<Enter>"]


def test_space_enter_and_escape_reach_a_button_at_once() -> None:
    router = WedgeRouter()
    for name in ("<Space>", "<Enter>", "<Esc>"):
        o = router.press(Keystroke(1000.0, SPECIAL[name], name), Place.WINDOW)
        assert o.action is Action.PASS and not o.replay and not o.scan
    assert router.deadline() is None


def test_a_key_after_held_letters_comes_after_them() -> None:
    got = play(keys([0, 10, 10], ["a", "b", "<Space>"]))
    assert got.delivered == ["a", "b", "<Space>"]


def test_a_person_typing_in_a_dialog_gets_every_key_untouched() -> None:
    router = WedgeRouter()
    got = play(keys([0, 80, 40, 90, 30], ["2", "4", "6", "8", "<Enter>"]), Place.DIALOG, router)
    assert got.delivered == ["2", "4", "6", "8", "<Enter>"] and got.scans == []
    assert router.deadline() is None  # nothing was ever held


def test_a_scanner_burst_into_a_dialog_or_a_text_field_is_typed_there_not_scanned() -> None:
    for place in (Place.DIALOG, Place.FIELD):
        got = play(scanner(CODE), place)
        assert got.scans == []
        assert got.delivered == [*CODE, "<Enter>"]


def test_focus_moving_to_a_dialog_mid_run_gives_back_what_was_held() -> None:
    router = WedgeRouter()
    held = play(keys([0, 5], ["a", "b"]), router=router, tail_ms=0)
    assert held.delivered == []
    o = router.press(Keystroke(1000.02, KeyKind.CHAR, "c"), Place.DIALOG)
    assert [k.text for k in o.replay] == ["a", "b"] and o.action is Action.PASS


def test_a_shorter_burst_threshold_is_configurable() -> None:
    router = WedgeRouter(BurstConfig(min_burst_chars=3))
    assert play(scanner("abc"), router=router).scans == ["abc"]
