"""`station gui` from the command line: the screenshot mode, and the headless fallback."""

from __future__ import annotations

import signal
import struct
import subprocess
import sys
from pathlib import Path

from station.store.db import Store
from station.ui import pin as pins
from tests.conftest import REPO, StationCLI
from tests.waiting import PATIENCE_S


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_screenshot_of_the_demo_window(cli: StationCLI, tmp_path: Path) -> None:
    shot = tmp_path / "docs" / "window.png"
    env_no_display = {k: v for k, v in cli.env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run(
        [sys.executable, "-m", "station", "gui", "--demo", "--port", "0", "--data-dir", str(cli.data_dir),
         "--screenshot", str(shot)],
        env=env_no_display, cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert png_size(shot) == (1400, 860)
    assert "first verdict" in result.stderr and f"wrote {shot}" in result.stderr
    assert shot.stat().st_size > 20_000  # a real picture, not an empty window


def test_kiosk_from_the_command_line(cli: StationCLI, tmp_path: Path) -> None:
    """`station gui --kiosk` needs a manager PIN; with one it opens in kiosk mode (the screenshot
    mode then closes it itself)."""
    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "station", "gui", "--demo", "--kiosk", "--port", "0",
             "--data-dir", str(cli.data_dir), "--screenshot", str(tmp_path / "kiosk.png")],
            env={**cli.env, "QT_QPA_PLATFORM": "offscreen"}, cwd=REPO, capture_output=True,
            text=True, timeout=120)

    without = run()
    assert without.returncode == 0, without.stderr
    assert "Kiosk mode needs a manager PIN" in without.stderr and "kiosk mode on;" not in without.stderr
    store = Store(cli.data_dir)
    try:
        pins.set_pin(store, "2468")
    finally:
        store.close()
    with_pin = run()
    assert with_pin.returncode == 0, with_pin.stderr
    assert "station: kiosk mode on; the manager PIN ends it." in with_pin.stderr
    assert "Traceback" not in with_pin.stderr


def test_gui_without_a_display_runs_headless(cli: StationCLI) -> None:
    env = {k: v for k, v in cli.env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.Popen([sys.executable, "-m", "station", "gui", "--port", "0"], env=env, cwd=REPO,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert banner.startswith("Station '")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=PATIENCE_S)
    assert proc.returncode == 0
    assert "no display found" in err and "running headless" in err
    assert "Aborted" not in err and "could not connect to display" not in err


def test_gui_without_qts_x11_libraries_prints_the_apt_line_instead_of_aborting(
        cli: StationCLI, tmp_path: Path) -> None:
    """Qt aborts the process ("Fatal Python error: Aborted") when its xcb plugin cannot load.
    The machine here has the libraries, so the test makes one "missing" from the outside: a
    sitecustomize (test code, on PYTHONPATH) makes the dynamic loader refuse libxcb-cursor."""
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(
        "import ctypes\n"
        "_real = ctypes.CDLL.__init__\n"
        "def _init(self, name, *args, **kwargs):\n"
        "    if name and 'libxcb-cursor' in str(name):\n"
        "        raise OSError(f'{name}: cannot open shared object file: No such file or directory')\n"
        "    _real(self, name, *args, **kwargs)\n"
        "ctypes.CDLL.__init__ = _init\n")
    env = {k: v for k, v in cli.env.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["DISPLAY"] = ":97"  # never reached: the check comes before Qt looks for the display
    env["PYTHONPATH"] = f"{hide}:{REPO}"
    result = subprocess.run([sys.executable, "-m", "station", "gui", "--no-api"], env=env, cwd=REPO,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert "sudo apt-get install -y --no-install-recommends libxcb-cursor0`" in result.stderr
    assert not cli.data_dir.exists()  # nothing was created
