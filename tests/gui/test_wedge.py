"""The keyboard wedge in the real window: a scanner burst scans wherever the focus is unless a text
field or a dialog has it; a person's typing is never a scan outside the code box and reaches the
widget it was meant for (the Passes search, a dialog's checkbox and buttons)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from station.capture.scanner_layouts import ScanCodes
from station.domain.events import EventType
from station.domain.models import Pass
from station.ui.main_window import MainWindow
from station.ui.pass_dialogs import RevokeDialog
from station.ui.pin_dialog import PinDialog
from station.ui.verdicts import Kind
from tests.gui.conftest import scan, unlock
from tests.waiting import wait_until
from tests.gui.wedge_keys import KeyClock, press, type_text, us_scanner_on

PERSON_MS = 120  # a person typing quickly; a scanner sends a key every few milliseconds


@pytest.fixture(autouse=True)
def keys(window: MainWindow) -> KeyClock:
    """Every test here times its keys on this clock (see KeyClock)."""
    clock = KeyClock()
    window.wedge.clock = clock
    return clock


def new_pass(window: MainWindow, name: str) -> Pass:
    return window.core.passes.create(window.core.passes.validate(name))


def scans_of(window: MainWindow, p: Pass) -> int:
    # The door returns at its journal's fsync: the log has the scan once merged.
    wait_until(lambda: window.core.scans.merger.pending_count() == 0, what="the door's merge")
    return [e.type for e in window.core.passes.history(p.code)].count(EventType.PASS_SCANNED)


def settle(qtbot: Any, window: MainWindow) -> None:
    """A scan submitted before this point has been decided: the scan lane runs in order, so once
    a marker scan's verdict is shown every earlier submission is in the store."""
    marker = new_pass(window, "Marker Max")
    scan(qtbot, window, marker.code)


def burst_admits(qtbot: Any, window: MainWindow, p: Pass, send: Any) -> None:
    with qtbot.waitSignal(window.scan_view.verdict_shown, timeout=10000) as got:
        send()
    assert got.args[0].kind is Kind.ACCEPTED, got.args[0]
    assert window.scan_view.results[-1].scan.source == "hid"
    assert scans_of(window, p) == 1


def open_passes_with_a_selected_row(qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch,
                                    p: Pass) -> None:
    unlock(qtbot, window, monkeypatch)
    view = window.passes_view
    window.tabs.setCurrentWidget(view)
    view.model.reload()
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=10000)
    view.select_row(0)
    view.table.setFocus()
    qtbot.waitUntil(lambda: window.focusWidget() is view.table, timeout=10000)


def test_a_scanner_burst_on_passes_with_a_selected_row_admits(
        qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch, keys: KeyClock) -> None:
    p = new_pass(window, "Scanned Sam")
    open_passes_with_a_selected_row(qtbot, window, monkeypatch, p)
    burst_admits(qtbot, window, p, lambda: type_text(window, p.code + "\r", clock=keys))
    assert window.passes_view.search.text() == ""  # the burst reached no widget
    shown_over_the_view(qtbot, window, window.passes_view, p)


def shown_over_the_view(qtbot: Any, window: MainWindow, view: object, p: Pass) -> None:
    """The manager stays where they were and the verdict comes over it, naming the guest."""
    qtbot.waitUntil(window.overlay.isVisible, timeout=10000)
    assert window.tabs.currentWidget() is view
    assert window.overlay.card.kind is Kind.ACCEPTED
    assert window.overlay.card.title.text() == p.name


def test_a_scanner_burst_on_passes_in_door_mode_admits_and_brings_the_scan_view_back(
        qtbot: Any, window: MainWindow, keys: KeyClock) -> None:
    p = new_pass(window, "Door Dana")
    window.tabs.setCurrentWidget(window.passes_view)
    window.passes_view.table.setFocus()
    qtbot.waitUntil(lambda: window.focusWidget() is window.passes_view.table, timeout=10000)
    burst_admits(qtbot, window, p, lambda: type_text(window, p.code + "\r", clock=keys))
    qtbot.waitUntil(lambda: window.tabs.currentWidget() is window.scan_view, timeout=10000)
    assert window.scan_view.card.kind is Kind.ACCEPTED
    assert window.scan_view.card.title.text() == p.name


def test_typing_a_code_on_passes_is_a_search_and_records_nothing(
        qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch, keys: KeyClock) -> None:
    p = new_pass(window, "Looked-up Lou")
    open_passes_with_a_selected_row(qtbot, window, monkeypatch, p)
    type_text(window, p.code + "\r", qtbot, gap_ms=PERSON_MS, clock=keys)
    search = window.passes_view.search
    qtbot.waitUntil(lambda: search.text() == p.code, timeout=10000)
    settle(qtbot, window)
    assert scans_of(window, p) == 0
    assert [r.scan.payload for r in window.scan_view.results if r.scan.payload == p.code] == []


def test_a_scanner_burst_on_integrations_admits(
        qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch, keys: KeyClock) -> None:
    p = new_pass(window, "Integrated Ida")
    unlock(qtbot, window, monkeypatch)
    window.tabs.setCurrentWidget(window.integrations_view)
    window.tabs.tabBar().setFocus()
    burst_admits(qtbot, window, p, lambda: type_text(window, p.code + "\r", clock=keys))
    shown_over_the_view(qtbot, window, window.integrations_view, p)


def revoke_dialog(qtbot: Any, window: MainWindow, p: Pass) -> RevokeDialog:
    dialog = RevokeDialog(p, window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_a_scanner_burst_into_a_dialog_is_typed_there_and_never_scanned(qtbot: Any, window: MainWindow) -> None:
    p = new_pass(window, "Dialog Dora")
    dialog = revoke_dialog(qtbot, window, p)
    dialog.reason.lineEdit().setFocus()
    type_text(dialog, p.code)  # scanner-fast, into the dialog's text field
    assert dialog.reason.currentText() == p.code
    dialog.confirm.setFocus()
    type_text(dialog, p.code + "\r")  # scanner-fast while a checkbox has the focus
    settle(qtbot, window)
    assert scans_of(window, p) == 0
    assert all(r.scan.payload != p.code for r in window.scan_view.results)


def test_space_ticks_the_confirmation_enter_accepts_and_escape_cancels(qtbot: Any, window: MainWindow) -> None:
    p = new_pass(window, "Keyboard Kim")
    dialog = revoke_dialog(qtbot, window, p)
    dialog.confirm.setFocus()
    press(dialog, Qt.Key.Key_Space, " ")
    assert dialog.confirm.isChecked()
    assert dialog.ok.isEnabled()
    with qtbot.waitSignal(dialog.finished, timeout=10000):
        press(dialog, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted

    other = revoke_dialog(qtbot, window, p)
    other.confirm.setFocus()
    with qtbot.waitSignal(other.finished, timeout=10000):
        press(other, Qt.Key.Key_Escape)
    assert other.result() == QDialog.DialogCode.Rejected


def test_a_pin_typed_fast_into_the_pin_dialog_unlocks_and_is_never_a_scan(
        qtbot: Any, window: MainWindow) -> None:
    dialog = PinDialog(False, window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.pin.setFocus()
    with qtbot.waitSignal(dialog.finished, timeout=10000):
        type_text(dialog, "24681357\r")  # eight digits at scanner speed, then Enter
    assert dialog.result() == QDialog.DialogCode.Accepted and dialog.value() == "24681357"
    settle(qtbot, window)
    assert all(r.scan.payload != "24681357" for r in window.scan_view.results)


def test_a_scanner_with_a_tab_suffix_scans_and_leaves_the_focus_where_it_was(
        qtbot: Any, window: MainWindow, keys: KeyClock) -> None:
    p = new_pass(window, "Tabbed Tom")
    card = window.scan_view.card
    card.setFocus()
    burst_admits(qtbot, window, p, lambda: type_text(window, p.code + "\t", clock=keys))
    assert window.focusWidget() is card


def test_space_and_enter_reach_buttons_in_the_main_window(qtbot: Any, window: MainWindow) -> None:
    button = window.mute_button
    button.setFocus()
    before = button.isChecked()
    press(window, Qt.Key.Key_Space, " ")
    assert button.isChecked() is not before


def test_undo_can_be_pressed_from_the_keyboard(qtbot: Any, window: MainWindow) -> None:
    p = new_pass(window, "Undone Una")
    assert scan(qtbot, window, p.code).kind is Kind.ACCEPTED
    undo = window.scan_view.undo_button
    qtbot.waitUntil(undo.isEnabled, timeout=10000)
    undo.setFocus()
    with qtbot.waitSignal(window.scan_view.verdict_shown, timeout=10000):
        press(window, Qt.Key.Key_Space, " ")
    history = [e.type for e in window.core.passes.history(p.code)]
    qtbot.waitUntil(lambda: EventType.SCAN_REVERTED in [e.type for e in window.core.passes.history(p.code)],
                    timeout=10000)
    assert history.count(EventType.PASS_SCANNED) == 1


def test_a_person_typing_on_the_scan_screen_types_into_the_code_box(
        qtbot: Any, window: MainWindow, keys: KeyClock) -> None:
    p = new_pass(window, "Typed Theo")
    window.scan_view.card.setFocus()
    with qtbot.waitSignal(window.scan_view.verdict_shown, timeout=10000) as got:
        type_text(window, p.code + "\r", qtbot, gap_ms=PERSON_MS, clock=keys)
    assert got.args[0].kind is Kind.ACCEPTED
    assert window.scan_view.results[-1].scan.source == "manual"


def test_a_key_held_down_is_typing_not_a_scan(qtbot: Any, window: MainWindow) -> None:
    window.scan_view.card.setFocus()
    press(window, ord("X"), "x")
    for _ in range(12):  # the keyboard repeats a held key every ~30 ms: scanner speed
        press(window, ord("X"), "x", repeat=True)
    entry = window.scan_view.entry
    qtbot.waitUntil(lambda: entry.text() == "x" * 13, timeout=10000)
    assert window.scan_view.results == []


def test_a_scanner_burst_into_the_code_box_is_a_scanner_scan(
        qtbot: Any, window: MainWindow, keys: KeyClock) -> None:
    p = new_pass(window, "Boxed Bo")
    window.scan_view.entry.setFocus()
    burst_admits(qtbot, window, p, lambda: type_text(window, p.code + "\r", clock=keys))
    assert window.scan_view.entry.text() == ""


def test_a_scanner_without_enter_scans_after_its_silence(qtbot: Any, window: MainWindow, keys: KeyClock) -> None:
    p = new_pass(window, "Suffixless Sue")
    window.scan_view.card.setFocus()
    def scanner_then_silence() -> None:
        type_text(window, p.code, clock=keys)
        keys.advance(1.0)  # the wedge's timer then finds the burst over

    burst_admits(qtbot, window, p, scanner_then_silence)


# --- a scanner set to US on other desktop layouts ------------------------------------------------

@pytest.mark.parametrize("layout", ["us", "de", "fr"])
def test_a_us_scanner_admits_by_its_pass_link_on_every_layout(
        qtbot: Any, window: MainWindow, keys: KeyClock, layout: str) -> None:
    p = new_pass(window, f"Linked {layout.upper()}")
    window.wedge.scan_codes = ScanCodes.XKB  # as on X11; the offscreen platform reports none
    window.scan_view.card.setFocus()
    burst_admits(qtbot, window, p, lambda: us_scanner_on(window, layout, p.public_url, clock=keys))


def test_a_us_scanner_on_azerty_without_scan_codes_is_recognised_by_the_payload(
        qtbot: Any, window: MainWindow, keys: KeyClock) -> None:
    p = new_pass(window, "Guessed Gaby")
    window.scan_view.card.setFocus()
    burst_admits(qtbot, window, p,
                 lambda: us_scanner_on(window, "fr", p.public_url, scan_codes=False, clock=keys))


def test_an_ambiguous_code_on_qwertz_is_resolved_by_the_pass_that_exists(
        qtbot: Any, window: MainWindow, keys: KeyClock) -> None:
    p = new_pass(window, "Zany Yves")
    while not set(p.code) & set("yzYZ"):  # y/z swapped still reads as a valid code
        p = new_pass(window, "Zany Yves")
    window.wedge.scan_codes = ScanCodes.XKB
    window.scan_view.card.setFocus()
    burst_admits(qtbot, window, p, lambda: us_scanner_on(window, "de", p.code, clock=keys))
