"""The check before the window opens: Qt's X11 plugin aborts the process when a library is
missing, so the station names the apt line first."""

from __future__ import annotations

import pytest

from station.ui.platform_check import (
    XCB_LIBRARIES,
    MissingSystemLibraries,
    check_window_system,
    missing_packages,
    will_use_xcb,
)


@pytest.mark.parametrize(("environ", "platform", "xcb"), [
    ({"DISPLAY": ":0"}, "linux", True),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, "linux", True),
    ({"QT_QPA_PLATFORM": "xcb"}, "linux", True),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux", False),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
    ({}, "linux", False),
    ({"DISPLAY": ":0"}, "darwin", False),
    ({"DISPLAY": ":0"}, "win32", False),
])
def test_only_x11_on_linux_is_checked(environ: dict[str, str], platform: str, xcb: bool) -> None:
    assert will_use_xcb(environ, platform) is xcb


def test_a_missing_library_becomes_one_sentence_with_the_apt_line() -> None:
    gone = {"libxcb-cursor.so.0", "libxcb-keysyms.so.1"}
    with pytest.raises(MissingSystemLibraries) as raised:
        check_window_system({"DISPLAY": ":0"}, loads=lambda soname: soname not in gone)
    message = str(raised.value)
    assert "sudo apt-get install -y --no-install-recommends libxcb-cursor0 libxcb-keysyms1`" in message
    assert message.count(". ") == 0 and "\n" not in message


def test_a_soname_that_does_not_exist_is_reported_with_the_real_loader() -> None:
    libraries = {**XCB_LIBRARIES, "libstation-no-such-library.so.9": "station-no-such-package"}
    assert missing_packages(libraries)[-1] == "station-no-such-package"


def test_nothing_is_checked_offscreen() -> None:
    check_window_system({"QT_QPA_PLATFORM": "offscreen"}, loads=lambda soname: False)
