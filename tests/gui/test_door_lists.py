"""The door's check-in list and direction on the Scan view, and "inside now" (issue 14 step 5).
A real station on a real data directory and its real window, offscreen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from station.app import build_core
from station.domain.checkin_list import CheckinList
from station.domain.models import Reason
from station.store.db import Store
from station.store.lists import read_lists
from station.ui import settings as ui_settings
from station.ui.main_window import MainWindow
from station.ui.settings import UiSettings
from station.ui.verdicts import Kind
from tests.conftest import StationCLI
from tests.gui.conftest import scan

WAIT_MS = 60_000


def lists_shown(qtbot: Any, window: MainWindow, count: int) -> None:
    """Until the picker holds "No list" and `count` lists (read on the reads lane)."""
    panel = window.scan_view.door_panel
    panel.refresh()
    qtbot.waitUntil(lambda: panel.list_picker.count() == count + 1, timeout=WAIT_MS)


def pick(window: MainWindow, lst: CheckinList | None) -> None:
    picker = window.scan_view.door_panel.list_picker
    picker.setCurrentIndex(picker.findData(lst.id if lst else ""))
    picker.activated.emit(picker.currentIndex())  # as a person's choice does


def saved(window: MainWindow) -> UiSettings:
    return ui_settings.load(window.core.store)


def test_the_door_list_and_direction_decide_every_scan_and_are_kept(
        qtbot: Any, window: MainWindow) -> None:
    multi_only = window.core.lists.create({"name": "Multi only", "types": ["multi"]}, by="test")
    lists_shown(qtbot, window, 1)
    single = window.core.passes.create(window.core.passes.validate("Sam Single"))
    pick(window, multi_only)
    qtbot.waitUntil(lambda: saved(window).door_list == multi_only.id, timeout=WAIT_MS)

    refused = scan(qtbot, window, single.code, "hid")
    result = window.scan_view.results[-1]
    assert result.reason == Reason.WRONG_LIST
    # the service's sentence, big on the card like other refusals
    assert refused.kind is Kind.REFUSED and refused.title == result.message
    assert window.scan_view.card.title.text() == result.message

    window.scan_view.door_panel.exit_button.click()
    qtbot.waitUntil(lambda: saved(window).door_direction == "exit", timeout=WAIT_MS)
    out = scan(qtbot, window, single.code, "camera")
    assert out.kind is Kind.ACCEPTED and window.scan_view.results[-1].message.startswith("Exit recorded")

    pick(window, None)  # "No list", entry: today's behaviour
    window.scan_view.door_panel.entry_button.click()
    assert scan(qtbot, window, single.code).kind is Kind.ACCEPTED
    qtbot.waitUntil(lambda: saved(window).door_list == "" and saved(window).door_direction == "entry",
                    timeout=WAIT_MS)


def test_the_saved_door_decides_the_first_scan(qtbot: Any, data_dir: Path,
                                               make_window: Callable[..., MainWindow]) -> None:
    core = build_core(data_dir)
    try:
        multi_only = core.lists.create({"name": "Multi only", "types": ["multi"]}, by="test")
        single = core.passes.create(core.passes.validate("First Scan"))
    finally:
        core.close()
    window = make_window(UiSettings(door_list=multi_only.id))
    # at once, before the picker has had the lists: the scan lane reads the door itself
    scan(qtbot, window, single.code)
    assert window.scan_view.results[-1].reason == Reason.WRONG_LIST
    lists_shown(qtbot, window, 1)
    assert window.scan_view.door_panel.list_picker.currentText() == "Multi only"


def test_gui_refuses_an_unknown_list_before_the_window_opens(cli: StationCLI, tmp_path: Path) -> None:
    cli("lists", "create", "--name", "VIP")
    shot = tmp_path / "door.png"
    refused = cli("gui", "--demo", "--port", "0", "--list", "Nope", "--screenshot", str(shot),
                  check=False, env_extra={"QT_QPA_PLATFORM": "offscreen"})
    assert refused.returncode != 0
    assert "Traceback" not in refused.stderr and not shot.exists()
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert lines == ["station: error: No check-in list has the id or name 'Nope'."], refused.stderr

    opened = cli("gui", "--demo", "--port", "0", "--list", "vip", "--direction", "out",
                 "--screenshot", str(shot), env_extra={"QT_QPA_PLATFORM": "offscreen"})
    assert shot.exists(), opened.stderr
    store = Store(cli.data_dir)
    try:
        chosen = ui_settings.load(store)
        vip = [lst for lst in store_lists(store) if lst.name == "VIP"][0]
    finally:
        store.close()
    assert (chosen.door_list, chosen.door_direction) == (vip.id, "exit")


def store_lists(store: Store) -> list[CheckinList]:
    return list(read_lists(store).values())
