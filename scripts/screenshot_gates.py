"""Regenerate the README's pictures of gates (check-in lists): the Scan view at a list's door
with its "inside now", and the Stats view's occupancy over the evening, from the real window on
seeded data (offscreen):  .venv/bin/python scripts/screenshot_gates.py [OUT_DIR]"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from scripts.screenshots import wait  # noqa: E402
from station.app import StationOptions, build_station  # noqa: E402
from station.ui.main_window import MainWindow  # noqa: E402
from station.ui.resources import stylesheet  # noqa: E402
from station.ui.settings import UiSettings  # noqa: E402


def seed_gates(data_dir: Path) -> tuple[str, str]:
    """Three hours of a venue with two gates: guests enter the hall, some go out and back, a
    few VIPs use the lounge. Returns the hall's id and a guest's code to scan in the picture."""
    import random
    from datetime import UTC, datetime, timedelta

    from station.app import build_core
    from station.domain.door import Door
    from station.domain.models import Direction

    start = datetime.now(UTC) - timedelta(hours=3)
    moment = [start]
    core = build_core(data_dir, now=lambda: moment[0])
    hall = core.lists.create({"name": "Main hall", "capacity": 500, "reentry": True}, by="setup")
    lounge = core.lists.create({"name": "VIP lounge", "capacity": 40, "reentry": True,
                                "fields": {"tier": "vip"}}, by="setup")
    passes = core.passes
    guests = passes.create_many([passes.validate(f"Guest {i:03d}", "multi") for i in range(520)])
    vips = passes.create_many([passes.validate(f"VIP {i:02d}", "multi", fields={"tier": "vip"})
                               for i in range(36)])
    rng = random.Random(14)
    inside: set[str] = set()
    for minute in range(0, 175, 2):
        moment[0] = start + timedelta(minutes=minute)
        for _ in range(rng.randint(2, 9) if minute < 110 else rng.randint(0, 3)):
            g = rng.choice(guests)
            out = g.id in inside and rng.random() < 0.5
            core.scans.submit(g.code, "camera", door=Door(hall, Direction.EXIT if out else Direction.ENTRY))
            (inside.discard if out else inside.add)(g.id)
            moment[0] += timedelta(seconds=rng.randint(1, 20))
        if minute > 40 and rng.random() < 0.4:
            core.scans.submit(rng.choice(vips).code, "camera", door=Door(lounge))
    code = next(g.code for g in guests if g.id not in inside)
    core.close()
    return hall.id, code


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    app.setStyleSheet(stylesheet())
    tmp = Path(tempfile.mkdtemp())
    hall, code = seed_gates(tmp / "data")
    station = build_station(StationOptions(data_dir=tmp / "data", api_port=0))
    station.start()
    settings = UiSettings(camera="none", door_list=hall)
    window = MainWindow(station, QSettings(str(tmp / "ui.ini"), QSettings.Format.IniFormat), settings)
    window.resize(1400, 860)
    window.show()
    wait(600)
    window.scan_view.submit(code, "hid")
    wait(1200)
    window.grab().save(str(out / "scan-gates.png"), "PNG")
    print(f"wrote {out / 'scan-gates.png'}")
    window.tabs.setCurrentWidget(window.stats_view)
    wait(1200)
    window.grab().save(str(out / "stats-occupancy.png"), "PNG")
    print(f"wrote {out / 'stats-occupancy.png'}")
    window.close()
    station.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
