"""The Lists tab's manager actions (issue 14): delete a list and everyone out, each confirmed
first, and the venue's zone and daily check-out; a door set to a list deleted meanwhile refuses
every entry, saying so, instead of admitting as a door with no list. A real station on a real
data directory and its real window, offscreen."""

from __future__ import annotations

from typing import Any

import pytest

from station.domain.models import Reason
from station.services.venue import Venue
from station.ui.main_window import MainWindow
from station.ui.venue_dialog import VenueDialog
from station.ui.verdicts import Kind
from tests.gui.conftest import scan, unlock
from tests.gui.test_door_lists import lists_shown, pick

WAIT_MS = 60_000


def said(qtbot: Any, window: MainWindow, action: Any, text: str) -> None:
    """Run `action` and wait for the tab to say `text` and for its table read after it."""
    view = window.lists_view
    with qtbot.waitSignal(view.message, timeout=WAIT_MS, check_params_cb=lambda t: t == text):
        action()
    with qtbot.waitSignal(view.loaded, timeout=WAIT_MS):
        pass


def test_a_manager_deletes_a_list_and_its_door_refuses_saying_why(
        qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    core, view = window.core, window.lists_view
    hall = core.lists.create({"name": "Hall"}, by="test")
    core.lists.create({"name": "Bar"}, by="test")
    ada, bo = (core.passes.create(core.passes.validate(n, "multi")) for n in ("Ada", "Bo"))
    lists_shown(qtbot, window, 2)
    pick(window, hall)
    assert scan(qtbot, window, ada.code).kind is Kind.ACCEPTED

    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.table.rowCount() == 2, timeout=WAIT_MS)
    assert not view.delete_button.isEnabled() and not view.out_button.isEnabled()
    unlock(qtbot, window, monkeypatch)
    view.table.selectRow([x.name for x in view.lists].index("Hall"))
    asked: list[str] = []
    monkeypatch.setattr(view, "confirm", lambda q: asked.append(q) or False)
    view.delete_selected()  # the manager said no: nothing happens
    assert asked[0].startswith("Delete the list Hall?") and len(core.lists.all()) == 2
    monkeypatch.setattr(view, "confirm", lambda q: True)
    said(qtbot, window, view.delete_selected, "List Hall deleted.")
    assert [x.name for x in core.lists.all()] == ["Bar"]
    assert [view.table.item(r, 0).text() for r in range(view.table.rowCount())] == ["Bar"]

    # The Scan view's door was set to Hall: it keeps it, marked, and refuses every entry.
    panel = window.scan_view.door_panel
    panel.refresh()
    qtbot.waitUntil(lambda: panel.list_picker.currentText() == "Hall (deleted)",
                    timeout=WAIT_MS)
    refused = scan(qtbot, window, bo.code)
    assert refused.kind is Kind.REFUSED
    assert window.scan_view.results[-1].reason == Reason.WRONG_LIST
    assert "Hall was deleted" in window.scan_view.results[-1].message


def test_everyone_out_of_a_list_or_the_venue_after_a_confirmation(
        qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    core, view = window.core, window.lists_view
    hall = core.lists.create({"name": "Hall", "reentry": True}, by="test")
    lists_shown(qtbot, window, 1)
    pick(window, hall)
    for name in ("Ada", "Bo"):
        p = core.passes.create(core.passes.validate(name, "multi"))
        assert scan(qtbot, window, p.code).kind is Kind.ACCEPTED
    pick(window, None)
    p = core.passes.create(core.passes.validate("Cy", "multi"))
    assert scan(qtbot, window, p.code).kind is Kind.ACCEPTED
    window.tabs.setCurrentWidget(view)
    unlock(qtbot, window, monkeypatch)
    qtbot.waitUntil(lambda: view.table.rowCount() == 1, timeout=WAIT_MS)
    asked: list[str] = []
    monkeypatch.setattr(view, "confirm", lambda q: asked.append(q) or True)

    view.table.selectRow(0)
    assert view.out_button.text() == "Everyone out of Hall…"
    said(qtbot, window, view.everyone_out, "Checked everyone on Hall out; inside now: 1.")
    view.table.clearSelection()
    assert view.out_button.text() == "Everyone out of the venue…"
    said(qtbot, window, view.everyone_out, "Checked everyone in the venue out; inside now: 0.")
    assert asked == ["Check everyone on Hall out now, at every door?",
                     "Check everyone in the venue out now, at every door?"]
    assert core.lists.occupancy().inside == 0


def test_a_manager_sets_the_venue_s_zone_and_check_out_and_bad_input_saves_nothing(
        qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    view = window.lists_view
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.venue_label.text() != "", timeout=WAIT_MS)
    assert view.venue_label.text() == "Venue: time zone of this computer · everyone out never"
    assert not view.venue_button.isEnabled()
    unlock(qtbot, window, monkeypatch)

    def ask(current: Venue) -> dict[str, Any] | None:
        dialog = VenueDialog(current, view)
        qtbot.addWidget(dialog)
        dialog.timezone.setText("Mars/Olympus")
        dialog.ok.click()
        assert dialog.error.text().startswith("Time zone 'Mars/Olympus' is not a time zone")
        dialog.timezone.setText("Europe/Berlin")
        dialog.checkout_at.setText("4 am")
        dialog.ok.click()
        assert dialog.error.text() == 'Everyone out at must be a time of day like "18:00".'
        assert window.core.venue.get() == Venue(None, None)  # nothing saved
        dialog.checkout_at.setText("04:00")
        dialog.ok.click()
        assert dialog.result() == VenueDialog.DialogCode.Accepted
        return dialog.changes()

    monkeypatch.setattr(view, "ask_venue", ask)
    said(qtbot, window, view.edit_venue, "Venue saved.")
    assert window.core.venue.get() == Venue("Europe/Berlin", "04:00")
    assert view.venue_label.text() == ("Venue: time zone Europe/Berlin · everyone out every "
                                       "day at 04:00")
