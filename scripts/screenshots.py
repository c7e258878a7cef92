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


def local_receiver() -> tuple[str, object]:
    """A webhook target on 127.0.0.1 answering 200, so the delivery log has real attempts."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("content-length", "0")))
            body = b'{"ok":true,"received":"thanks"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def seed_integrations(station: object, base: str) -> None:
    """An API key and two subscriptions (one to a port where nothing listens)."""
    integrations = station.integrations  # type: ignore[attr-defined]
    integrations.set_saved_networks(["127.0.0.0/8"])
    integrations.keys.create("Zapier")
    integrations.keys.create("Door dashboard", rate_limit=120)
    integrations.subscribe("pass.scanned", f"{base}/zapier/scans")
    integrations.subscribe("pass.status_changed", "http://127.0.0.1:9/crm")


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    app.setStyleSheet(stylesheet())
    tmp = Path(tempfile.mkdtemp())
    seed_evening(tmp / "data")
    station = build_station(StationOptions(data_dir=tmp / "data", demo=True, api_port=0))
    station.start()
    base, receiver = local_receiver()
    seed_integrations(station, base)
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
    # In door mode every scan brings the Scan view back to the front: stop the demo camera
    # before visiting the other views.
    window.start_capture(None)
    wait(300)
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
    # The Integrations page is for managers: unlocked here as the PIN dialog would.
    window.roles.unlock()
    window.open_integrations()
    page = window.integrations_view
    page.sections.setCurrentWidget(page.webhooks)
    wait(800)
    hooks = page.webhooks
    hooks.hooks.selectRow(next(i for i, st in enumerate(hooks.states) if "zapier" in st.webhook.target_url))
    wait(600)
    page.webhooks.deliveries_table.selectRow(0)
    wait(600)
    shot("integrations.png")
    # A scan while a manager has another view open: the verdict comes over it.
    window.tabs.setCurrentWidget(window.passes_view)
    wait(300)
    window.scan_view.submit(oldest[1].code, "hid")
    wait(900)
    shot("overlay.png")
    window.overlay.dismiss()
    # The door on a 1024x768 laptop.
    window.roles.lock()
    window.resize(1024, 768)
    wait(300)
    window.scan_view.submit(oldest[2].code, "hid")
    wait(900)
    shot("scan-1024x768.png")
    receiver.shutdown()  # type: ignore[attr-defined]
    window.close()
    station.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
