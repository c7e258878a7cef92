"""The capture loop: a grabber thread keeps only the newest frame, a decoder thread decodes it.

Frames are never queued: while a frame is being decoded the grabber keeps reading (a camera's
driver buffer would otherwise hand us seconds-old frames) and overwrites the one waiting slot,
so the decoder always starts on the freshest frame and the rest are counted as dropped.
A lost camera is reported in the status and re-opened until it returns, first after
`reopen_delay_s`, then less and less often (up to `max_reopen_delay_s`); the log gets one line
when it goes and one when it is back, not one per attempt.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

import numpy as np

from station.capture import machine_pace
from station.capture.debounce import CAMERA, Debouncer, PayloadSink
from station.capture.detection import Detection
from station.capture.ladder import DecodeLadder, LadderResult
from station.capture.sequence import SequenceReader
from station.capture.sources import FrameSource, SourceError

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class FrameDecoder(Protocol):
    """What the loop needs of a reader (`SequenceReader`, `StreamLadder`): one frame at a time."""

    def decode(self, image: np.ndarray) -> LadderResult: ...


class CaptureState(StrEnum):
    """Where the camera is. A StrEnum: its members compare equal to the words they stand for."""

    OFF = "off"  # no camera chosen (the window's state; the loop itself never reports it)
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    LOST = "lost"  # reconnecting; manual entry and handheld scanners still work
    ENDED = "ended"  # a video file or image folder has no more frames


# The loop's states by their old names (tests and callers import these).
STOPPED, STARTING, RUNNING, LOST, ENDED = (CaptureState.STOPPED, CaptureState.STARTING,
                                           CaptureState.RUNNING, CaptureState.LOST,
                                           CaptureState.ENDED)


@dataclass(frozen=True, slots=True)
class CaptureStatus:
    state: CaptureState = STOPPED
    source: str = ""
    width: int = 0
    height: int = 0
    fps: float = 0.0  # frames grabbed per second, over the last couple of seconds
    decode_ms: float = 0.0  # time the decoder spent on the latest frame
    decode_ms_avg: float = 0.0
    frames: int = 0  # grabbed
    decoded: int = 0
    dropped: int = 0  # grabbed but replaced by a newer frame before decoding
    last_error: str | None = None
    last_payload: str | None = None


class CaptureLoop:
    def __init__(
        self,
        source: FrameSource,
        on_payload: PayloadSink,
        *,
        decoder: FrameDecoder | None = None,
        debouncer: Debouncer | None = None,
        clock: Clock = time.monotonic,
        on_status: Callable[[CaptureStatus], None] | None = None,
        on_frame: Callable[[np.ndarray, tuple[Detection, ...]], None] | None = None,
        reopen_delay_s: float = 1.0,
        max_reopen_delay_s: float = 5.0,
    ) -> None:
        """`on_payload(text, "camera")` gets each confirmed, debounced code; `on_status` gets a
        new CaptureStatus on every state change and about once a second; `on_frame` (optional,
        e.g. a throttled preview) gets each decoded frame with what was read in it. All three
        are called from the loop's threads."""
        self.source = source
        self._on_payload = on_payload
        # The default reads the sequence, not frame by frame: a pass waved into view is read
        # from the frames around the blurred one (capture/sequence.py).
        self._decoder = decoder or SequenceReader(DecodeLadder())
        self._debouncer = debouncer or Debouncer(clock=clock)
        self._clock = clock
        self._on_status = on_status
        self._on_frame = on_frame
        self._reopen_delay_s = reopen_delay_s
        self._max_reopen_delay_s = max(reopen_delay_s, max_reopen_delay_s)
        self._retry_in = reopen_delay_s
        self._outage_since: float | None = None  # when the source went (None: it works)

        self._lock = threading.Lock()
        self._new_frame = threading.Condition(self._lock)
        self._slot: np.ndarray | None = None
        self._slot_seq = 0
        self._status = CaptureStatus(source=getattr(source, "name", ""))
        self._grab_times: deque[float] = deque(maxlen=120)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_report = 0.0

    # -- control ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._threads:
            raise RuntimeError("The capture loop is already running.")
        self._stop.clear()
        self._set(state=STARTING, last_error=None)
        self._threads = [
            threading.Thread(target=self._grab_forever, name="capture-grab", daemon=True),
            threading.Thread(target=self._decode_forever, name="capture-decode", daemon=True),
        ]
        for t in self._threads:
            t.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._new_frame:
            self._new_frame.notify_all()
        for t in self._threads:
            t.join(timeout)
        alive = [t.name for t in self._threads if t.is_alive()]
        self._threads = []
        try:
            self.source.close()
        except Exception:  # closing a vanished camera can fail; nothing to do about it
            log.debug("closing %s failed", self.source.name, exc_info=True)
        self._set(state=STOPPED)
        if alive:
            # A camera read that never returns (a broken driver) keeps its thread; it is a
            # daemon, so it cannot keep the application from exiting.
            log.warning("capture threads still running after stop: %s", ", ".join(alive))

    def status(self) -> CaptureStatus:
        with self._lock:
            return self._status

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    # -- threads ---------------------------------------------------------------------------

    def _grab_forever(self) -> None:
        opened = False
        while not self._stop.is_set():
            if not opened:
                opened = self._open()
                if not opened:
                    self._back_off()
                    continue
            try:
                frame = self.source.read()
            except SourceError as exc:
                self._gone(str(exc))
                self._set(state=LOST, last_error=str(exc), fps=0.0)
                self._close_quietly()
                opened = False
                self._back_off()
                continue
            except Exception as exc:  # a bug in a source: report it, keep the door working
                log.exception("frame source %s failed", self.source.name)
                self._set(state=LOST, last_error=f"{type(exc).__name__}: {exc}", fps=0.0)
                self._close_quietly()
                opened = False
                self._back_off()
                continue
            if frame is not None:
                self._back()
            if frame is None:
                self._set(state=ENDED)
                with self._new_frame:
                    self._new_frame.notify_all()
                return
            now = self._clock()
            with self._new_frame:
                if self._slot is not None:
                    self._status = replace(self._status, dropped=self._status.dropped + 1)
                self._slot = frame
                self._slot_seq += 1
                self._grab_times.append(now)
                self._status = replace(self._status, frames=self._status.frames + 1, fps=self._fps())
                self._new_frame.notify()
            self._report_now_and_then(now)

    def _decode_forever(self) -> None:
        # The ladder scales its rungs' prior costs by this machine's slowness, measured once a
        # process (~50-150 ms of CPU): here, while the camera opens, not on the first frame
        # that climbs the ladder (measured there, it cost presentation_bench.py a 156 ms frame).
        machine_pace.slowness()
        while not self._stop.is_set():
            with self._new_frame:
                while self._slot is None and not self._stop.is_set() and self._status.state != ENDED:
                    self._new_frame.wait(0.5)
                frame, self._slot = self._slot, None
                if frame is None:
                    if self._status.state == ENDED:
                        return
                    continue
            try:
                result = self._decoder.decode(frame)
            except Exception as exc:  # never let one bad frame stop the door
                log.exception("decoding a frame failed")
                self._set(last_error=f"decoder: {type(exc).__name__}: {exc}")
                continue
            self._after_decode(frame, result)

    def _after_decode(self, frame: np.ndarray, result: LadderResult) -> None:
        texts = [d.text for d in result.detections]
        accepted = self._debouncer.frame(texts)
        with self._lock:
            s = self._status
            avg = result.ms if s.decoded == 0 else 0.9 * s.decode_ms_avg + 0.1 * result.ms
            self._status = replace(
                s,
                decoded=s.decoded + 1,
                decode_ms=result.ms,
                decode_ms_avg=avg,
                last_payload=accepted[-1] if accepted else s.last_payload,
            )
        if self._on_frame is not None:
            self._on_frame(frame, result.detections)
        for text in accepted:
            try:
                self._on_payload(text, CAMERA)
            except Exception as exc:  # the scan service's problem, but the camera keeps going
                log.exception("handling a scanned payload failed")
                self._set(last_error=f"scan: {type(exc).__name__}: {exc}")

    # -- helpers ---------------------------------------------------------------------------

    def _open(self) -> bool:
        try:
            info = self.source.open()
        except SourceError as exc:
            self._gone(str(exc))
            self._set(state=LOST, last_error=str(exc), fps=0.0)
            return False
        except Exception as exc:
            log.exception("opening %s failed", self.source.name)
            self._set(state=LOST, last_error=f"{type(exc).__name__}: {exc}", fps=0.0)
            return False
        with self._lock:
            self._grab_times.clear()
        # The last error stays visible after a recovery, until a newer one replaces it.
        self._set(state=RUNNING, source=info.name, width=info.width, height=info.height)
        return True

    def _gone(self, why: str) -> None:
        """One log line per outage: a missing camera is tried again and again, and each failed
        attempt saying so would bury everything else in the log."""
        if self._outage_since is None and not self._stop.is_set():  # (stopping: not news)
            self._outage_since = self._clock()
            log.warning("%s The station tries again every few seconds; scanning by hand and "
                        "by scanner works meanwhile.", why)

    def _back(self) -> None:
        """A frame arrived: the source works (again)."""
        if self._outage_since is not None:
            log.warning("%s delivers frames again (after %.0f s).", self.source.name,
                        self._clock() - self._outage_since)
            self._outage_since = None
        self._retry_in = self._reopen_delay_s

    def _back_off(self) -> None:
        # Doubling up to a few seconds: a camera plugged back in is found soon, while a camera
        # that is not there costs almost nothing.
        self._stop.wait(self._retry_in)
        self._retry_in = min(self._retry_in * 2, self._max_reopen_delay_s)

    def _close_quietly(self) -> None:
        try:
            self.source.close()
        except Exception:
            log.debug("closing %s failed", self.source.name, exc_info=True)

    def _fps(self) -> float:
        times = self._grab_times
        if len(times) < 2:
            return 0.0
        # Only the last two seconds: a camera that slows down in the dark shows at once.
        recent = [t for t in times if times[-1] - t <= 2.0]
        if len(recent) < 2 or recent[-1] == recent[0]:
            return 0.0
        return (len(recent) - 1) / (recent[-1] - recent[0])

    def _set(self, **changes: Any) -> None:  # CaptureStatus fields, checked by replace()
        with self._lock:
            self._status = replace(self._status, **changes)
            status = self._status
        if self._on_status is not None:
            self._on_status(status)

    def _report_now_and_then(self, now: float) -> None:
        if self._on_status is not None and now - self._last_report >= 1.0:
            self._last_report = now
            self._on_status(self.status())
