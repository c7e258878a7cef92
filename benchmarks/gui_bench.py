"""Window figures: start-up to the first frame and verdict, the longest GUI stall under 1,000
scans, and memory over a demo-scanning soak (with its slope, to extrapolate to an hour).

    .venv/bin/python benchmarks/gui_bench.py [--soak-minutes 3] [--runs 3]

Runs offscreen; prints medians. Nothing here is asserted: compare runs on the same machine."""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def startup(runs: int) -> None:
    frames, verdicts, totals = [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-m", "station", "gui", "--demo", "--port", "0", "--data-dir", f"{tmp}/d",
                 "--screenshot", f"{tmp}/s.png"],
                cwd=ROOT, capture_output=True, text=True, timeout=120,
                env={**os.environ, "PYTHONPATH": str(ROOT)})
            totals.append((time.perf_counter() - started) * 1000)
            frame = re.search(r"first camera frame (\d+) ms", out.stderr)
            verdict = re.search(r"first verdict (\d+) ms", out.stderr)
            if frame and verdict:
                frames.append(int(frame.group(1)))
                verdicts.append(int(verdict.group(1)))
    print(f"start-up ({runs} runs, fresh demo data dir, offscreen): first frame median "
          f"{statistics.median(frames):.0f} ms, first verdict median {statistics.median(verdicts):.0f} ms "
          f"(after QApplication creation); whole process to PNG written {statistics.median(totals):.0f} ms")


def in_window(soak_minutes: float) -> None:
    import gc

    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from station.app import StationOptions, build_station
    from station.ui.capture_worker import demo_source
    from station.ui.main_window import MainWindow
    from station.ui.resources import stylesheet
    from tests.gui.test_passes_view import Heartbeat

    app = QApplication(sys.argv[:1])
    app.setStyleSheet(stylesheet())
    tmp = Path(tempfile.mkdtemp())
    station = build_station(StationOptions(data_dir=tmp / "data", demo=True, api_port=0))
    station.start()
    window = MainWindow(station, QSettings(str(tmp / "ui.ini"), QSettings.Format.IniFormat), demo=True)
    window.resize(1400, 860)
    window.show()
    gc.freeze()

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    passes = station.core.passes
    created = passes.create_many([passes.validate(f"Bench {i:03d}") for i in range(500)])
    results: list[object] = []
    window.scan_view.scanned.connect(results.append)
    beat = Heartbeat()
    beat.start()
    started = time.perf_counter()
    for p in created * 2:
        window.scan_view.submit(p.public_url, "camera")
    while len(results) < 1000:
        wait(10)
    elapsed = time.perf_counter() - started
    wait(600)
    print(f"1,000 scans queued at once through the window: {elapsed:.1f} s "
          f"({1000 / elapsed:.0f} scans/s), longest GUI stall {beat.stop()} ms")

    # Soak: the demo camera (30 fps, decoding every frame) scanning for a few minutes.
    window.start_capture(demo_source(list(reversed(passes.list(limit=1000).items))[:10]))
    samples = []
    beat.start()
    soak_started = time.perf_counter()
    while time.perf_counter() - soak_started < soak_minutes * 60:
        wait(10_000)
        samples.append(((time.perf_counter() - soak_started) / 60, rss_mib()))
    stall = beat.stop()
    frames = window.capture.frames_sent
    window.close()
    station.stop()
    first_min = [s for s in samples if s[0] >= min(1.0, samples[-1][0] / 2)]
    (t0, m0), (t1, m1) = first_min[0], samples[-1]
    slope = (m1 - m0) / (t1 - t0) if t1 > t0 else 0.0
    print(f"demo soak {soak_minutes:g} min: RSS {samples[0][1]:.0f} MiB at {samples[0][0]:.1f} min, "
          f"{m1:.0f} MiB at {t1:.1f} min; slope after warm-up {slope:+.2f} MiB/min "
          f"(linear extrapolation to 60 min: {m1 + slope * (60 - t1):.0f} MiB); "
          f"{len(results)} scans, {frames} preview frames, longest GUI stall {stall} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--soak-minutes", type=float, default=3.0)
    args = parser.parse_args()
    startup(args.runs)
    in_window(args.soak_minutes)


if __name__ == "__main__":
    main()
