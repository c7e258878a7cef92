"""Manager PIN (hashed, first unlock sets it), auto-lock, and settings that persist."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from station.ui import pin as pins
from station.ui import settings as ui_settings
from station.ui.main_window import MainWindow
from station.ui.settings import UiSettings


def test_first_unlock_sets_a_hashed_pin_then_wrong_and_right_pins(
        qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[bool] = []
    answers = iter(["13579", "00000", None, "13579"])

    def ask(choosing: bool, note: str = "") -> str | None:
        asked.append(choosing)
        return next(answers)

    monkeypatch.setattr(window, "ask_pin", ask)
    assert not window.roles.is_manager and not window.settings_button.isEnabled()
    with qtbot.waitSignal(window.roles.changed, timeout=10000):
        window.toggle_lock()  # no PIN yet: choose one
    assert asked == [True] and window.roles.is_manager and window.settings_button.isEnabled()
    stored = window.core.store.setting(pins.SETTING)
    assert "13579" not in json.dumps(stored) and stored["alg"] == "scrypt" and len(stored["salt"]) == 32
    window.toggle_lock()
    assert not window.roles.is_manager
    # a wrong PIN asks again (with a note); cancelling leaves door mode
    window.toggle_lock()
    qtbot.waitUntil(lambda: asked == [True, False, False], timeout=10000)
    assert not window.roles.is_manager
    with qtbot.waitSignal(window.roles.changed, timeout=10000):
        window.toggle_lock()
    assert window.roles.is_manager and asked == [True, False, False, False]


def test_manager_mode_locks_itself_after_inactivity(
        qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.gui.conftest import unlock

    window.roles.set_auto_lock(0.3)
    unlock(qtbot, window, monkeypatch)
    assert window.passes_view.create_button.isEnabled()
    with qtbot.waitSignal(window.roles.changed, timeout=5000) as locked:
        pass
    assert locked.args == ["door"]
    assert not window.roles.is_manager
    assert not window.passes_view.create_button.isEnabled()
    assert window.status.role.text() == "Door mode"


def test_activity_postpones_auto_lock(qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtCore import Qt

    from tests.gui.conftest import unlock

    window.roles.set_auto_lock(0.6)
    unlock(qtbot, window, monkeypatch)
    for _ in range(4):  # clicking around every 0.3 s keeps it open past 0.6 s
        qtbot.wait(300)
        qtbot.mouseClick(window.tabs.tabBar(), Qt.MouseButton.LeftButton)
        assert window.roles.is_manager
    qtbot.waitUntil(lambda: not window.roles.is_manager, timeout=5000)


def test_settings_persist_across_restarts(
        qtbot: Any, make_window: Callable[..., MainWindow], qsettings: QSettings,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from tests.gui.conftest import unlock

    first = make_window()
    unlock(qtbot, first, monkeypatch)
    chosen = UiSettings(camera="none", resolution="1920x1080", decoder="zbar", camera_cooldown_s=3.0,
                        hid_cooldown_s=1.5, muted=True, auto_lock_min=5.0)
    with qtbot.waitSignal(first.status.messageChanged, timeout=10000,
                          check_params_cb=lambda t: t == "Settings saved."):
        first.apply_settings(chosen, "Side door", tmp_path / "elsewhere")
    first.resize(first.minimumSizeHint().width() + 20, first.minimumSizeHint().height() + 10)
    size = (first.width(), first.height())
    assert size != (1280, 800)  # not the default size
    first.tabs.setCurrentIndex(2)
    first.close()
    first.station.stop()

    reopened = first.core.store.__class__(first.core.store.data_dir)
    try:
        loaded = ui_settings.load(reopened)
    finally:
        reopened.close()  # a store runs its writer thread until closed
    assert loaded == chosen
    second = make_window(loaded)
    assert second.settings == chosen
    assert second.core.ctx.station_name == "Side door"
    assert second.station_label.text() == "Side door"
    assert second.sounds.muted and second.mute_button.text() == "Sound: off"
    assert second.roles.auto_lock_s == 300
    # the offscreen screen is 800 px wide, so restoring clamps the width; the height survives
    assert second.height() == size[1]
    assert second.tabs.currentIndex() == 2
    assert qsettings.value("data_dir") == str(tmp_path / "elsewhere")


def test_bad_settings_are_refused_and_change_nothing() -> None:
    from station.domain.errors import InvalidInput

    with pytest.raises(InvalidInput, match="Resolution"):
        UiSettings(resolution="99x99").checked()
    with pytest.raises(InvalidInput, match="Cooldowns"):
        UiSettings(camera_cooldown_s=-1).checked()
