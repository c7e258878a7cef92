"""Lists in the manager's area (issue 14 step 5.6): create and edit a check-in list through the
real dialog, its validation's one sentence shown and nothing saved on bad input. A real
station on a real data directory and its real window, offscreen."""

from __future__ import annotations

import json
from typing import Any

import pytest

from station.ui.list_dialog import ListDialog
from station.ui.main_window import MainWindow
from tests.gui.conftest import unlock

WAIT_MS = 60_000


def saved_via_dialog(qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch,
                     fill: Any, start: Any, said: str) -> None:
    """Run `start` (New or Edit) with the real dialog, filled by `fill(dialog)`, and wait
    for the window to say it was saved and for the table read after it."""
    view = window.lists_view

    def ask(current: Any) -> dict[str, Any] | None:
        dialog = ListDialog(current, view)
        qtbot.addWidget(dialog)
        fill(dialog)
        return dialog.changes() if dialog.result() == ListDialog.DialogCode.Accepted else None

    monkeypatch.setattr(view, "ask_list", ask)
    with qtbot.waitSignal(view.message, timeout=WAIT_MS, check_params_cb=lambda t: t == said):
        start()
    with qtbot.waitSignal(view.loaded, timeout=WAIT_MS):  # the refresh after the save
        pass


def test_a_manager_creates_and_edits_a_list_and_bad_input_saves_nothing(
        qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    view = window.lists_view
    window.tabs.setCurrentWidget(view)
    assert not view.new_button.isEnabled() and view.hint.isVisible()  # door mode: PIN first
    unlock(qtbot, window, monkeypatch)
    assert view.new_button.isEnabled()

    def fill(dialog: ListDialog) -> None:
        dialog.name.setText("VIP")
        dialog.field.setText("tier=vip")
        dialog.capacity.setText("many")
        dialog.ok.click()
        assert dialog.error.text() == "capacity must be a whole number from 1 to 1000000."
        assert dialog.result() != ListDialog.DialogCode.Accepted
        assert window.core.lists.all() == []  # nothing saved
        dialog.capacity.setText("500")
        dialog.rules.setPlainText('[{"rule": "entriesPerDay", "max": 1')
        dialog.ok.click()
        assert dialog.error.text().startswith("Rules are not valid JSON (")
        dialog.rules.setPlainText('[{"rule": "eval"}]')
        dialog.ok.click()
        assert dialog.error.text().startswith("rules[0]")
        dialog.rules.setPlainText('[{"rule": "entriesPerDay", "max": 1}]')
        dialog.reentry.setChecked(True)
        dialog.checkout_at.setText("04:00")
        dialog.ok.click()
        assert dialog.error.text() == "" and dialog.result() == ListDialog.DialogCode.Accepted

    saved_via_dialog(qtbot, window, monkeypatch, fill, view.new_list, "List VIP created.")
    (vip,) = window.core.lists.all()
    assert (vip.name, dict(vip.fields), vip.capacity, vip.reentry, vip.checkout_at, len(vip.rules)) == (
        "VIP", {"tier": "vip"}, 500, True, "04:00", 1)
    assert [view.table.item(0, c).text() for c in range(4)] == ["VIP", "tier vip", "500", "yes"]

    def edit(dialog: ListDialog) -> None:
        assert dialog.name.text() == "VIP" and dialog.capacity.text() == "500"
        dialog.capacity.setText("")  # no limit any more
        dialog.ok.click()

    view.table.selectRow(0)
    saved_via_dialog(qtbot, window, monkeypatch, edit, view.edit_selected, "List VIP saved.")
    (edited,) = window.core.lists.all()
    assert edited.capacity is None and edited.reentry and len(edited.rules) == 1
    # only the changed key was recorded: an edit of another key at another door stays
    rows = window.core.store.fetch_all(
        "SELECT json_extract(data, '$.changes') AS changes FROM events WHERE type = 'list.changed' "
        "ORDER BY rowid")
    assert json.loads(rows[-1]["changes"]) == {"capacity": None}
