"""End to end on a real X server: `station gui` in an Xvfb window, a scanner emulated by xdotool
typing into it, and the scan found in the station's SQLite file afterwards. Then the X keyboard
is set to German or French and xdotool sends the X keycodes a scanner set to US sends."""

from __future__ import annotations

import json
import shutil
import signal
import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from station.capture.scanner_layouts import US_KEYS
from tests.conftest import REPO, StationCLI
from tests.waiting import PATIENCE_S, wait_until

pytestmark = pytest.mark.skipif(
    not (shutil.which("Xvfb") and shutil.which("xdotool")),
    reason="needs Xvfb and xdotool (scripts/test installs them as root: apt-get install xvfb xdotool)",
)


@pytest.fixture
def display() -> Iterator[str]:
    """A private X server; it picks a free display number itself (-displayfd) and prints it
    when it accepts connections, so parallel runs never collide and no socket is polled.
    -noreset: without it the server resets (and forgets the keyboard layout) whenever its last
    client leaves, e.g. right after setxkbmap."""
    server = subprocess.Popen(["Xvfb", "-displayfd", "1", "-noreset", "-screen", "0", "1280x720x24",
                               "-nolisten", "tcp"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        # The display number arrives once the server is ready; bounded, so a hung Xvfb fails
        # the test instead of stalling the suite.
        ready, _, _ = select.select([server.stdout], [], [], PATIENCE_S)
        number = server.stdout.readline().strip() if ready else ""
        assert number.isdigit(), f"Xvfb did not start (exit code {server.poll()})"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(PATIENCE_S)


def x(display: str, *args: str) -> str:
    result = subprocess.run(list(args), env={"DISPLAY": display, "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=PATIENCE_S, check=True)
    return result.stdout


@contextmanager
def station_window(cli: StationCLI, display: str) -> Iterator[str]:
    """`station gui` on the X server, mapped and holding the keyboard focus."""
    env = {k: v for k, v in cli.env.items() if k != "WAYLAND_DISPLAY"}
    # Its own window settings (geometry, tab), not the user's ~/.config/station/station.ini.
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", XDG_CONFIG_HOME=str(cli.data_dir / "config"))
    gui = subprocess.Popen([sys.executable, "-m", "station", "gui", "--port", "0", "--data-dir", str(cli.data_dir)],
                           env=env, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    try:
        # Polled rather than `search --sync`, which gives up when a window it looks at vanishes.
        window = wait_until(lambda: _mapped(display, "^Station"), what="the station window on the X server")
        x(display, "xdotool", "windowfocus", "--sync", window)
        yield display
    finally:
        gui.send_signal(signal.SIGTERM)
        try:
            _out, err = gui.communicate(timeout=PATIENCE_S)
        except subprocess.TimeoutExpired:
            gui.kill()
            _out, err = gui.communicate()
        assert "Traceback" not in err, err


def _mapped(display: str, title: str) -> str | None:
    found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title],
                           env={"DISPLAY": display, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                           timeout=PATIENCE_S)
    return found.stdout.split()[0] if found.returncode == 0 and found.stdout.split() else None


def new_pass(cli: StationCLI, name: str) -> dict[str, Any]:
    return json.loads(cli("passes", "create", "--name", name, "--json").stdout)


def used(cli: StationCLI, code: str) -> bool:
    return json.loads(cli("passes", "show", "--json", code).stdout)["uses"] == 1


def test_a_scanner_typing_into_the_real_window_admits(cli: StationCLI, display: str) -> None:
    p = new_pass(cli, "Xvfb Xena")
    with station_window(cli, display) as shown:
        x(shown, "xdotool", "type", "--delay", "5", p["code"])
        x(shown, "xdotool", "key", "Return")
        wait_until(lambda: used(cli, p["code"]), what="the scan in the SQLite file")


@pytest.mark.parametrize("layout", ["de", "fr"])
def test_a_us_scanner_on_a_german_or_french_x_keyboard_admits_by_its_pass_link(
        cli: StationCLI, display: str, layout: str) -> None:
    if not shutil.which("setxkbmap"):
        pytest.skip("needs setxkbmap (apt-get install x11-xkb-utils) to switch the X keyboard layout")
    p = new_pass(cli, f"Layout {layout}")
    x(display, "setxkbmap", layout)
    assert f"layout:     {layout}" in x(display, "setxkbmap", "-query")
    physical = {ch: (code + 8, shift) for code, plain, shifted in US_KEYS
                for shift, ch in ((False, plain), (True, shifted))}
    # xdotool presses X keycodes given as numbers: exactly the physical keys a US-set scanner
    # sends, which a German desktop turns into "httpsÖ--passes…" with y and z swapped, a French
    # one into "httpsM!!pqsses:…".
    keys = [f"shift+{physical[c][0]}" if physical[c][1] else str(physical[c][0]) for c in p["publicUrl"]]
    with station_window(cli, display) as shown:
        x(shown, "xdotool", "key", "--delay", "5", *keys, "36")  # 36: Return
        wait_until(lambda: used(cli, p["code"]), what="the scan in the SQLite file")

