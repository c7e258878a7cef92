from __future__ import annotations

from capture_fakes import FakeClock
from station.capture.debounce import DebounceConfig, DebouncedSink, Debouncer


def test_a_camera_code_needs_confirming_frames() -> None:
    clock = FakeClock()
    d = Debouncer(DebounceConfig(confirm_frames=3, confirm_window_s=0.5), clock)
    assert d.frame(["A"]) == []
    clock.advance(0.1)
    assert d.frame(["A"]) == []
    clock.advance(0.1)
    assert d.frame(["A"]) == ["A"]


def test_a_glimpse_is_not_a_scan() -> None:
    clock = FakeClock()
    d = Debouncer(DebounceConfig(confirm_frames=2, confirm_window_s=0.5), clock)
    assert d.frame(["A"]) == []
    clock.advance(0.8)  # seen again too late: the first sighting has expired
    assert d.frame(["A"]) == []
    clock.advance(0.2)
    assert d.frame(["A"]) == ["A"]


def test_a_phone_held_up_for_a_long_time_gives_exactly_one_scan() -> None:
    clock = FakeClock()
    d = Debouncer(DebounceConfig(), clock)
    scans = []
    for _ in range(30 * 20):  # 20 s at 30 fps
        scans += d.frame(["PASS"])
        clock.advance(1 / 30)
    assert scans == ["PASS"]


def test_camera_cooldown_runs_from_the_last_sighting_then_the_code_scans_again() -> None:
    clock = FakeClock()
    d = Debouncer(DebounceConfig(confirm_frames=1, camera_cooldown_s=5.0), clock)
    assert d.frame(["A"]) == ["A"]
    clock.advance(4.9)
    assert d.frame(["A"]) == []  # still in view: quiet until 5 s after this
    clock.advance(4.9)
    assert d.frame(["A"]) == []
    clock.advance(5.01)
    assert d.frame(["A"]) == ["A"]


def test_two_codes_in_view_are_two_scans_and_duplicates_in_a_frame_count_once() -> None:
    clock = FakeClock()
    d = Debouncer(DebounceConfig(confirm_frames=2), clock)
    assert d.frame(["A", "B", "A"]) == []
    clock.advance(0.1)
    assert sorted(d.frame(["B", "A"])) == ["A", "B"]


def test_hid_cooldown_is_shorter_than_the_camera_one_and_configurable() -> None:
    clock = FakeClock()
    d = Debouncer(DebounceConfig(hid_cooldown_s=2.5), clock)
    assert d.offer("X", "hid")
    clock.advance(2.4)
    assert not d.offer("X", "hid")
    clock.advance(0.2)
    assert d.offer("X", "hid")
    fast = Debouncer(DebounceConfig(hid_cooldown_s=0.5), clock)
    assert fast.offer("X", "hid")
    clock.advance(0.6)
    assert fast.offer("X", "hid")


def test_a_camera_scan_silences_the_same_code_from_a_handheld_scanner() -> None:
    clock = FakeClock()
    d = Debouncer(DebounceConfig(confirm_frames=1), clock)
    assert d.frame(["A"]) == ["A"]
    clock.advance(3.0)
    assert not d.offer("A", "hid")
    assert d.offer("B", "hid")


def test_manual_entry_is_never_held_back() -> None:
    clock = FakeClock()
    d = Debouncer(DebounceConfig(), clock)
    assert d.offer("A", "manual")
    assert d.offer("A", "manual")


def test_debounced_sink_forwards_only_new_scans() -> None:
    clock = FakeClock()
    got: list[tuple[str, str]] = []
    sink = DebouncedSink(Debouncer(DebounceConfig(), clock), lambda t, s: got.append((t, s)))
    sink("A", "hid")
    sink("A", "hid")
    clock.advance(3.0)
    sink("A", "hid")
    assert got == [("A", "hid"), ("A", "hid")]


def test_old_entries_are_forgotten() -> None:
    clock = FakeClock()
    d = Debouncer(DebounceConfig(confirm_frames=1), clock)
    for i in range(1000):
        d.frame([f"code{i}"])
    clock.advance(60)
    d.frame([])
    assert d._quiet_until == {} and d._sightings == {}
