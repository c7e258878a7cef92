"""Every scan is shown at the door: the Scan view comes to the front in door mode, a manager busy
elsewhere gets an overlay, API scans reach the card, verdicts go back to READY, kiosk mode and the
door's shortcuts. A real station and its real window, offscreen."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from station.domain.models import PassStatus
from station.ui.main_window import MainWindow
from station.ui.settings import UiSettings
from station.ui.verdicts import Kind
from tests.gui.conftest import PIN, scan, unlock

WAIT_MS = 60_000


def new_pass(window: MainWindow, name: str) -> Any:
    return window.core.passes.create(window.core.passes.validate(name))


def activate(qtbot: Any, window: MainWindow) -> None:
    """Window shortcuts fire only in the active window."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT_MS)


def test_locking_on_another_view_brings_the_scan_view_back(qtbot: Any, window: MainWindow,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    unlock(qtbot, window, monkeypatch)
    assert window.open_integrations()
    with qtbot.waitSignal(window.roles.changed, timeout=WAIT_MS):
        window.toggle_lock()  # Ctrl+L
    assert window.tabs.currentWidget() is window.scan_view
    # the auto-lock does the same
    unlock(qtbot, window, monkeypatch)
    window.tabs.setCurrentWidget(window.passes_view)
    window.roles.set_auto_lock(0.2)
    qtbot.waitUntil(lambda: not window.roles.is_manager, timeout=WAIT_MS)
    assert window.tabs.currentWidget() is window.scan_view


def test_a_scan_in_door_mode_brings_the_scan_view_to_the_front(qtbot: Any, window: MainWindow) -> None:
    p = new_pass(window, "Door Dora")
    window.tabs.setCurrentWidget(window.passes_view)  # a volunteer looked someone up
    view = scan(qtbot, window, p.code, "hid")
    assert window.tabs.currentWidget() is window.scan_view
    assert view.kind is Kind.ACCEPTED and window.scan_view.card.title.text() == "Door Dora"
    assert not window.overlay.isVisible()


def test_a_manager_elsewhere_gets_the_verdict_as_an_overlay(qtbot: Any, window: MainWindow,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    unlock(qtbot, window, monkeypatch)
    assert window.open_integrations()
    p = new_pass(window, "Overlay Olga")
    activate(qtbot, window)
    focused = window.integrations_view.findChild(QLineEdit)  # e.g. the allowed networks field
    focused.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is focused, timeout=WAIT_MS)
    scan(qtbot, window, p.code, "hid")
    assert window.tabs.currentWidget() is window.integrations_view  # the manager stays where they were
    overlay = window.overlay
    assert overlay.isVisible() and overlay.geometry() == window.rect()
    assert overlay.card.word.text() == "ACCEPTED" and overlay.card.title.text() == "Overlay Olga"
    assert QApplication.focusWidget() is focused  # it never takes the keyboard
    qtbot.keyClick(focused, Qt.Key.Key_Escape)  # Esc where the manager was typing
    assert not overlay.isVisible()
    # a click dismisses it too, and it goes by itself after the card's display time
    scan(qtbot, window, p.code, "hid")
    assert overlay.isVisible() and overlay.card.word.text() == "REFUSED"
    qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton)
    assert not overlay.isVisible()
    window.scan_view.set_reset_after(0.3)
    scan(qtbot, window, p.code, "hid")
    qtbot.waitUntil(lambda: not overlay.isVisible(), timeout=WAIT_MS)
    assert not window._esc.isEnabled()  # Esc is the widgets' own key again


def test_an_api_scan_reaches_the_card(qtbot: Any, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.station.api.address is not None, timeout=WAIT_MS)
    secret = window.station.integrations.keys.create("Door test").secret
    p = new_pass(window, "Api Anna")
    window.tabs.setCurrentWidget(window.stats_view)
    answers: list[int] = []

    def post() -> None:  # off the GUI thread, as a real client
        answers.append(httpx.post(f"{window.station.api.address}/api/v1/scans",
                                  json={"payload": p.code},
                                  headers={"Authorization": f"Bearer {secret}"}, timeout=30).status_code)

    with qtbot.waitSignal(window.scan_view.verdict_shown, timeout=WAIT_MS) as shown:
        threading.Thread(target=post).start()
    assert shown.args[0].kind is Kind.ACCEPTED and shown.args[0].title == "Api Anna"
    assert window.scan_view.card.title.text() == "Api Anna"
    assert window.tabs.currentWidget() is window.scan_view
    qtbot.waitUntil(lambda: answers == [201], timeout=WAIT_MS)
    # an unknown code records no event, and still reaches the door
    with qtbot.waitSignal(window.scan_view.verdict_shown, timeout=WAIT_MS) as unknown:
        worker = threading.Thread(target=lambda: window.core.scans.submit("ZZZZ9999ZZZZ", "api"))
        worker.start()
    worker.join(WAIT_MS / 1000)
    assert unknown.args[0].kind is Kind.REFUSED and "ZZZZ9999ZZZZ" in window.scan_view.card.detail.text()


def test_the_window_shows_its_own_scans_once(qtbot: Any, window: MainWindow) -> None:
    shown: list[Any] = []
    window.scan_view.verdict_shown.connect(shown.append)
    scan(qtbot, window, new_pass(window, "Once Otto").code, "hid")
    qtbot.wait(300)  # give a second showing (were there one) its chance to arrive
    assert [v.title for v in shown] == ["Once Otto"]


def test_a_verdict_goes_back_to_ready_and_undo_stays(qtbot: Any,
                                                     make_window: Callable[..., MainWindow]) -> None:
    window = make_window(UiSettings(verdict_reset_s=0.3))
    p = new_pass(window, "Reset Rita")
    assert scan(qtbot, window, p.code).kind is Kind.ACCEPTED
    with qtbot.waitSignal(window.scan_view.went_idle, timeout=WAIT_MS):
        pass
    card = window.scan_view.card
    assert card.kind is Kind.IDLE and card.word.text() == "READY" and card.stamp.text() == ""
    assert window.scan_view.undo_button.isEnabled()  # Undo keeps its own two minutes


def test_reset_never_when_zero(qtbot: Any, make_window: Callable[..., MainWindow]) -> None:
    window = make_window(UiSettings(verdict_reset_s=0))
    scan(qtbot, window, "ZZZZ1111ZZZZ")
    assert not window.scan_view._reset_timer.isActive()


def test_repeated_and_different_unknown_codes_look_different(qtbot: Any, window: MainWindow) -> None:
    card = window.scan_view.card
    first = scan(qtbot, window, "ZZZZ1111ZZZZ")
    second = scan(qtbot, window, "ZZZZ2222ZZZZ")
    assert first.detail != second.detail and card.detail.text().endswith("ZZZZ2222ZZZZ")
    again = scan(qtbot, window, "ZZZZ2222ZZZZ")
    assert again.repeat == 2 and card.stamp.text().endswith("2nd scan in a row")
    third = scan(qtbot, window, "ZZZZ2222ZZZZ")
    assert third.repeat == 3 and card.flashes == 4


def test_ctrl_z_undoes_the_last_admission(qtbot: Any, window: MainWindow) -> None:
    p = new_pass(window, "Undo Uma")
    scan(qtbot, window, p.code)
    assert window.core.passes.get(p.code).status is PassStatus.USED
    activate(qtbot, window)
    window.scan_view.entry.setFocus()  # the code box is where the door's focus lives
    with qtbot.waitSignal(window.scan_view.verdict_shown, timeout=WAIT_MS) as shown:
        qtbot.keyClick(window.scan_view.entry, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert shown.args[0].kind is Kind.UNDONE
    assert window.core.passes.get(p.code).status is PassStatus.ACTIVE


def test_ctrl_numbers_switch_views_and_integrations_needs_the_pin(qtbot: Any, window: MainWindow) -> None:
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.passes_view
    qtbot.keyClick(window, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.passes_view
    assert window.status.currentMessage() == "Unlock manager mode to open Integrations."
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.scan_view


def test_kiosk_needs_a_pin_to_exist(qtbot: Any, window: MainWindow) -> None:
    window.kiosk.start()
    qtbot.waitUntil(lambda: "Kiosk mode needs a manager PIN" in window.status.currentMessage(),
                    timeout=WAIT_MS)
    assert not window.kiosk.active and not window.isFullScreen()


def test_kiosk_leaves_only_with_the_pin(qtbot: Any, window: MainWindow,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    unlock(qtbot, window, monkeypatch)  # sets the PIN
    window.tabs.setCurrentWidget(window.stats_view)
    fullscreen: list[bool] = []
    window.kiosk.changed.connect(lambda active: fullscreen.append(window.isFullScreen()))
    window.kiosk.start()
    qtbot.waitUntil(lambda: window.kiosk.active, timeout=WAIT_MS)
    assert fullscreen == [True] and not window.roles.is_manager
    window.showNormal()  # a window manager takes fullscreen away: it comes back
    qtbot.waitUntil(window.isFullScreen, timeout=WAIT_MS)
    assert window.tabs.currentWidget() is window.scan_view
    for hidden in (window.tabs.tabBar(), window.settings_button, window.lock_button, window.mute_button):
        assert not hidden.isVisible()
    assert window.scan_view.undo_button.isVisible() and window.scan_view.entry.isVisible()
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.scan_view  # no way out to the other views

    asked: list[str] = []
    monkeypatch.setattr(window, "ask_pin", lambda choosing, note="": asked.append(note) or None)
    window.close()  # Alt+F4 and the close button: cancelled at the PIN
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert len(asked) == 3 and all("kiosk" in note for note in asked)
    assert window.isVisible() and window.kiosk.active

    tries: list[str] = []
    monkeypatch.setattr(window, "ask_pin", lambda choosing, note="": tries.append(note) or "0000")
    window.close()  # a wrong PIN: asked again up to the limit, the window stays
    qtbot.waitUntil(lambda: window.status.currentMessage().startswith("Too many wrong PINs"),
                    timeout=WAIT_MS)
    assert window.isVisible() and window.kiosk.active

    window.manager_pin.locked_until = 0.0  # the half-minute wait is over
    monkeypatch.setattr(window, "ask_pin", lambda choosing, note="": PIN)
    with qtbot.waitSignal(window.closed, timeout=WAIT_MS):
        window.close()
    assert not window.kiosk.active


def test_settings_dialog_keeps_the_door_fields(qtbot: Any, window: MainWindow) -> None:
    from station.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog("Door", UiSettings(verdict_reset_s=3, kiosk=True), window.core.store.data_dir,
                            [], window)
    qtbot.addWidget(dialog)
    assert dialog.verdict_reset.value() == 3 and dialog.kiosk.isChecked()
    dialog.verdict_reset.setValue(0)
    assert dialog.verdict_reset.text() == "Never"
    chosen = dialog.result_settings().checked()
    assert chosen.verdict_reset_s == 0 and chosen.kiosk is True


def test_a_scan_from_another_door_is_not_shown_as_this_doors(qtbot: Any, window: MainWindow,
                                                              tmp_path: Any) -> None:
    from station.app import build_core
    from station.services.sync_apply import RemoteEventService

    other = build_core(tmp_path / "other-door")
    try:
        created = other.passes.create(other.passes.validate("Elsewhere Eli"))
        other.scans.submit(created.code, "camera")
        events = other.store.events_for_pass(created.id)
    finally:
        other.close()
    for key in other.ctx.keys.public_keys_b64():
        window.core.ctx.keys.trust(key)
    shown: list[Any] = []
    window.scan_view.verdict_shown.connect(shown.append)
    window.tabs.setCurrentWidget(window.activity_view)
    with qtbot.waitSignal(window.bridge.events, timeout=WAIT_MS,
                          check_params_cb=lambda batch: any(e.type == "pass.scanned" for e in batch)):
        RemoteEventService(window.core.ctx).apply(events)
    # this door's own next scan comes after it on the same GUI thread: once it is shown, the
    # peer's scan had every chance to show and did not
    scan(qtbot, window, "ZZZZ3333ZZZZ")
    assert [v.detail for v in shown] == ["Scanned: ZZZZ3333ZZZZ"]


def test_the_kiosk_setting_starts_kiosk_mode_and_ctrl_l_asks_for_the_pin(
        qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    unlock(qtbot, window, monkeypatch)
    window.apply_settings(replace(window.settings, kiosk=True), window.core.ctx.station_name)
    qtbot.waitUntil(lambda: window.kiosk.active, timeout=WAIT_MS)
    assert not window.roles.is_manager
    with qtbot.waitSignal(window.roles.changed, timeout=WAIT_MS):
        window.toggle_lock()  # Ctrl+L: the PIN (patched by unlock) ends kiosk mode, as a manager
    assert not window.kiosk.active and window.roles.is_manager
    assert window.tabs.tabBar().isVisible() and window.settings_button.isVisible()
