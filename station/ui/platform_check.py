"""Before the window opens: can Qt's X11 (xcb) platform plugin load here?

Without one of its libraries (libxcb-cursor0 on a fresh Debian) Qt prints a few lines and
aborts the process ("Fatal Python error: Aborted"), which no try/except can catch. So the
libraries are checked first and a missing one becomes one sentence with the apt line
(docs/measured-facts.md, "Cameras and the window system").
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Iterable, Mapping

from station.domain.errors import StationError

# soname -> Debian package: what PySide6's libQt6XcbQpa needs beyond libxcb itself. The same list
# as X11_LIBS in scripts/bootstrap.sh, which installs them (a test keeps the two alike).
XCB_LIBRARIES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}


class MissingSystemLibraries(StationError):
    """Qt's window system libraries are not installed."""


def will_use_xcb(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Qt will pick its X11 plugin: Linux with an X display and no other platform chosen. (On a
    Wayland session Qt tries Wayland first; that is not checked here.)"""
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(":")[0] == "xcb"
    return bool(environ.get("DISPLAY")) and not environ.get("WAYLAND_DISPLAY")


def _loads(soname: str) -> bool:
    # The dynamic loader's own search, as Qt's plugin loading does; in a PyInstaller bundle also
    # its folder, where a collected copy may sit outside the loader's search path.
    bundle = getattr(sys, "_MEIPASS", None)
    for candidate in (soname, *([os.path.join(bundle, soname)] if bundle else [])):
        try:
            ctypes.CDLL(candidate)
        except OSError:
            continue
        return True
    return False


def missing_packages(libraries: Mapping[str, str] = XCB_LIBRARIES,
                     loads: Callable[[str], bool] = _loads) -> list[str]:
    return [package for soname, package in libraries.items() if not loads(soname)]


def install_line(packages: Iterable[str]) -> str:
    return "sudo apt-get install -y --no-install-recommends " + " ".join(packages)


def check_window_system(environ: Mapping[str, str] = os.environ,
                        libraries: Mapping[str, str] = XCB_LIBRARIES,
                        loads: Callable[[str], bool] = _loads) -> None:
    """Raise MissingSystemLibraries, with the one apt line to run, when Qt's X11 plugin would
    abort for want of a library."""
    if not will_use_xcb(environ):
        return
    packages = missing_packages(libraries, loads)
    if packages:
        raise MissingSystemLibraries(
            f"The window cannot open because Qt's X11 libraries are missing ({', '.join(packages)}); "
            f"install them with `{install_line(packages)}` (or run `station serve` without a window).")
