from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from capture_fakes import LOST, FakeClock, ScriptedDecoder, ScriptedSource, numbered_frame, wait_until
from station.capture.debounce import DebounceConfig, Debouncer
from station.capture.demo_source import DemoSource
from station.capture.ladder import DecodeLadder, StreamLadder
from station.capture.loop import ENDED, LOST as LOST_STATE, RUNNING, STOPPED, CaptureLoop, CaptureStatus


@pytest.fixture(autouse=True)
def no_threads_left_behind() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    wait_until(lambda: not [t for t in set(threading.enumerate()) - before if t.name.startswith("capture-")])


def test_the_decoder_always_takes_the_newest_frame_and_drops_the_rest() -> None:
    source, decoder = ScriptedSource(), ScriptedDecoder()
    decoder.hold.clear()
    loop = CaptureLoop(source, lambda t, s: None, decoder=decoder)  # type: ignore[arg-type]
    loop.start()
    try:
        source.push(numbered_frame(1))
        assert decoder.entered.wait(10)  # frame 1 is being decoded (held)
        source.push(*(numbered_frame(n) for n in range(2, 6)))
        wait_until(lambda: loop.status().frames == 5)
        decoder.hold.set()
        wait_until(lambda: len(decoder.decoded) == 2)
        assert decoder.decoded == [1, 5]
        assert loop.status().dropped == 3
        assert loop.status().decoded == 2
    finally:
        source.unblock()
        loop.stop()


def test_a_code_seen_in_a_few_frames_is_one_camera_scan() -> None:
    source = ScriptedSource()
    decoder = ScriptedDecoder(lambda n: ["PASS-1"] if n < 50 else [])
    clock = FakeClock()
    got: list[tuple[str, str]] = []
    loop = CaptureLoop(source, lambda t, s: got.append((t, s)), decoder=decoder,  # type: ignore[arg-type]
                       debouncer=Debouncer(DebounceConfig(confirm_frames=2), clock), clock=clock)
    loop.start()
    try:
        for n in range(1, 40):
            source.push(numbered_frame(n))
            wait_until(lambda n=n: n in decoder.decoded)  # one frame at a time: nothing dropped
            clock.advance(1 / 30)
        assert got == [("PASS-1", "camera")]
        assert loop.status().last_payload == "PASS-1"
    finally:
        source.unblock()
        loop.stop()


def test_several_codes_in_one_frame_are_all_scanned() -> None:
    source = ScriptedSource()
    decoder = ScriptedDecoder(lambda n: ["A", "B", "C"])
    got: list[str] = []
    loop = CaptureLoop(source, lambda t, s: got.append(t), decoder=decoder)  # type: ignore[arg-type]
    loop.start()
    try:
        for n in (1, 2):
            source.push(numbered_frame(n))
            wait_until(lambda n=n: n in decoder.decoded)
        wait_until(lambda: len(got) == 3)
        assert sorted(got) == ["A", "B", "C"]
    finally:
        source.unblock()
        loop.stop()


def test_a_lost_camera_is_reported_and_reopened_when_it_returns(caplog: pytest.LogCaptureFixture) -> None:
    source = ScriptedSource()
    decoder = ScriptedDecoder(lambda n: ["BACK"] if n >= 100 else [])
    statuses: list[CaptureStatus] = []
    got: list[str] = []
    loop = CaptureLoop(source, lambda t, s: got.append(t), decoder=decoder,  # type: ignore[arg-type]
                       on_status=statuses.append, reopen_delay_s=0.01)
    loop.start()
    try:
        source.push(numbered_frame(1))
        wait_until(lambda: 1 in decoder.decoded)
        assert loop.status().state == RUNNING
        source.available = False  # unplugged: reads fail, and so does re-opening
        source.push(LOST)
        wait_until(lambda: source.failed_opens >= 3)
        status = loop.status()
        assert status.state == LOST_STATE
        assert status.fps == 0.0
        assert status.last_error and "not available" in status.last_error
        assert source.closes >= 1 and not source.is_open
        assert any(s.state == LOST_STATE and "stopped delivering" in (s.last_error or "") for s in statuses)

        source.available = True  # plugged back in
        wait_until(lambda: loop.status().state == RUNNING)
        assert source.opens == 2
        for n in (100, 101):
            source.push(numbered_frame(n))
            wait_until(lambda n=n: n in decoder.decoded)
        wait_until(lambda: got == ["BACK"])
    finally:
        source.unblock()
        loop.stop()
    assert loop.status().state == STOPPED
    # One line when it went (not one per failed re-open), one when it came back.
    warnings = [r.getMessage() for r in caplog.records if r.name == "station.capture.loop"]
    assert len(warnings) == 2 and "stopped delivering" in warnings[0], warnings
    assert "delivers frames again" in warnings[1]


@pytest.mark.allow_log("station.capture.loop", "handling a scanned payload failed")
def test_a_finite_source_ends_and_a_failing_callback_does_not_stop_the_loop() -> None:
    source = ScriptedSource()
    decoder = ScriptedDecoder(lambda n: [f"code{n}"])
    calls: list[str] = []

    def flaky(text: str, source_name: str) -> None:
        calls.append(text)
        raise RuntimeError("database is locked")

    loop = CaptureLoop(source, flaky, decoder=decoder,  # type: ignore[arg-type]
                       debouncer=Debouncer(DebounceConfig(confirm_frames=1)))
    loop.start()
    try:
        for n in (1, 2):
            source.push(numbered_frame(n))
            wait_until(lambda n=n: n in decoder.decoded)
        source.push(None)
        wait_until(lambda: loop.status().state == ENDED)
        wait_until(lambda: not loop.running)
        assert calls == ["code1", "code2"]
        assert "database is locked" in (loop.status().last_error or "")
    finally:
        source.unblock()
        loop.stop()


def test_the_demo_source_scans_each_pass_exactly_once_per_showing() -> None:
    payloads = [
        "https://passes.example.org/p/AbCdEfGhIjKl?token=" + "a" * 175 + "." + "b" * 86,
        "ZyXwVuTsRqPo",  # a bare code
        "https://elsewhere.example.com/ticket/42",  # a foreign code: shown too, refused later
    ]
    clock = FakeClock()
    # The demo's pacing sleeps move the fake clock: 1/30 s per frame, whatever the machine.
    demo = DemoSource(payloads, fps=30, show_s=3.0, gap_s=1.5, clock=clock, sleep=clock.sleep)
    start = clock()
    tickets = threading.Semaphore(0)
    stopping = threading.Event()

    class OneFrameAtATime:
        """The demo, but each frame is released by the test: every frame gets decoded, none
        dropped, so the fake time line is the same on a fast or a busy machine."""

        name = demo.name

        def open(self):  # type: ignore[no-untyped-def]
            return demo.open()

        def read(self):  # type: ignore[no-untyped-def]
            while not tickets.acquire(timeout=0.05):
                if stopping.is_set():
                    return None
            return None if clock() - start > 13.0 else demo.read()

        def close(self) -> None:
            demo.close()

    got: list[tuple[str, str]] = []
    loop = CaptureLoop(OneFrameAtATime(), lambda t, s: got.append((t, s)),  # type: ignore[arg-type]
                       decoder=StreamLadder(DecodeLadder()), debouncer=Debouncer(clock=clock), clock=clock)
    loop.start()
    try:
        n = 0
        while loop.status().state != ENDED:
            tickets.release()
            n += 1
            wait_until(lambda: loop.status().decoded == n or loop.status().state == ENDED)
    finally:
        stopping.set()
        loop.stop()
    assert got == [(p, "camera") for p in payloads]
    assert loop.status().dropped == 0


def test_a_missing_camera_logs_one_line_not_one_per_attempt(
        caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    """No camera at all: the loop keeps trying (backing off), OpenCV's own "can't open camera by
    index" stays out of stderr, and our log says it once."""
    import logging

    from station.capture.camera import CameraSource

    class Counted(CameraSource):
        def open(self):  # type: ignore[no-untyped-def]
            self.attempts = getattr(self, "attempts", 0) + 1
            return super().open()

    source = Counted(97)  # no machine has a camera at index 97
    caplog.set_level(logging.WARNING, logger="station.capture")
    loop = CaptureLoop(source, lambda t, s: None, reopen_delay_s=0.01, max_reopen_delay_s=0.05)
    loop.start()
    try:
        wait_until(lambda: getattr(source, "attempts", 0) >= 6)
        assert loop.status().state == LOST_STATE
    finally:
        loop.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "Camera 97 is not available" in warnings[0], warnings
    assert "can't open camera" not in capfd.readouterr().err
