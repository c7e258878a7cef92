"""The Integrations page reads as prose: no literal markdown backticks, and a station that is
simply not set up for sync is told so plainly, not in red."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QLabel, QWidget

from station.ui.main_window import MainWindow
from station.ui.rich_text import rich
from tests.gui.conftest import unlock


def shown_texts(root: QWidget) -> list[str]:
    """Every label's text and every widget's tooltip under `root`."""
    texts = [label.text() for label in root.findChildren(QLabel)]
    texts += [w.toolTip() for w in root.findChildren(QWidget) if w.toolTip()]
    return [t for t in texts if t]


def test_integrations_page_shows_no_backticks(qtbot: Any, window: MainWindow,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    unlock(qtbot, window, monkeypatch)
    assert window.open_integrations()
    page = window.integrations_view
    with qtbot.waitSignal(page.sync.refreshed, timeout=10000):
        page.refresh()
    texts = shown_texts(page)
    assert any("Authorization: Bearer" in t for t in texts)  # the note is there, as <code>
    assert [t for t in texts if "`" in t] == []


def test_rich_text_turns_backticks_into_code_and_escapes_the_rest() -> None:
    assert rich("use `station keys list` <now>") == "use <code>station keys list</code> &lt;now&gt;"
    assert rich("a stray ` tick") == "a stray  tick"


def test_a_station_without_sync_is_told_plainly_not_in_red(qtbot: Any, window: MainWindow,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    assert window.station.sync is None  # one door, no hub configured
    unlock(qtbot, window, monkeypatch)
    assert window.open_integrations()
    sync = window.integrations_view.sync
    window.integrations_view.sections.setCurrentWidget(sync)
    with qtbot.waitSignal(sync.refreshed, timeout=10000):
        sync.refresh()
    assert sync.error.text() == ""  # the red line is for real faults only
    assert "works alone" in sync.alone.text() and sync.alone.isVisibleTo(window)
    assert "b91c1c" not in sync.alone.styleSheet() + sync.summary.styleSheet()
    assert "syncs with no other" not in " ".join(shown_texts(window))
