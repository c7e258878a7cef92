"""Regenerate the README screenshots under docs/ from the real window on the demo data
(offscreen, no display needed):  .venv/bin/python scripts/screenshots.py [OUT_DIR]"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from station.app import StationOptions, build_station  # noqa: E402
from station.ui.capture_worker import demo_source  # noqa: E402
from station.ui.main_window import MainWindow  # noqa: E402
from station.ui.resources import stylesheet  # noqa: E402
from station.ui.verdicts import Kind  # noqa: E402


def wait(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def seed_evening(data_dir: Path) -> None:
    """Three hours of doors before the window opens, so the stats chart has a shape."""
    import math
    import random
    from datetime import UTC, datetime, timedelta

    from station.app import build_core

    start = datetime.now(UTC) - timedelta(hours=3)
    moment = [start]
    core = build_core(data_dir, demo=True, now=lambda: moment[0])
    passes = core.passes
    guests = passes.create_many([passes.validate(f"Guest {i:03d}", "multi" if i % 5 == 0 else "single",
                                                 max_uses=2 if i % 5 == 0 else None) for i in range(420)])
    rng = random.Random(7)
    for minute in range(0, 175):
        moment[0] = start + timedelta(minutes=minute)
        arrivals = int(6 * math.exp(-((minute - 70) / 35) ** 2) + rng.random() * 1.5)
        for _ in range(arrivals):
            moment[0] += timedelta(seconds=rng.randint(1, 50))
            guest = rng.choice(guests)
            core.scans.submit(guest.public_url if rng.random() > 0.05 else "NOT-A-PASS-CODE", "camera")
    core.close()


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    app.setStyleSheet(stylesheet())
    tmp = Path(tempfile.mkdtemp())
    seed_evening(tmp / "data")
    station = build_station(StationOptions(data_dir=tmp / "data", demo=True, api_port=0))
    station.start()
    window = MainWindow(station, QSettings(str(tmp / "ui.ini"), QSettings.Format.IniFormat), demo=True)
    window.resize(1400, 860)
    window.show()
    seen: dict[Kind, bool] = {}

    def shot(name: str) -> None:
        window.grab().save(str(out / name), "PNG")
        print(f"wrote {out / name}")

    def on_verdict(view: object) -> None:
        kind = getattr(view, "kind")
        if kind not in seen:
            seen[kind] = True
            QTimer.singleShot(500, lambda: shot(f"scan-{kind}.png"))

    window.scan_view.verdict_shown.connect(on_verdict)
    oldest = list(reversed(station.core.passes.list(limit=1000).items))[:10]  # the demo passes
    window.start_capture(demo_source(oldest))
    for _ in range(300):  # an admission, then a refusal, within ~10 s of demo camera
        wait(100)
        if Kind.ACCEPTED in seen and Kind.REFUSED in seen:
            break
    wait(700)
    window.tabs.setCurrentWidget(window.passes_view)
    wait(400)
    window.passes_view.select_row(0)
    wait(600)
    shot("passes.png")
    window.tabs.setCurrentWidget(window.activity_view)
    wait(300)
    shot("activity.png")
    window.tabs.setCurrentWidget(window.stats_view)
    wait(800)
    shot("stats.png")
    window.close()
    station.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
