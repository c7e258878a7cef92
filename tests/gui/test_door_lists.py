"""The door's check-in list and direction on the Scan view, and "inside now" (issue 14 step 5).
A real station on a real data directory and its real window, offscreen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from station.app import Station, build_core
from station.domain.checkin_list import CheckinList
from station.domain.door import Door
from station.domain.models import Reason
from station.net.sync.hub import HubServer
from station.store.db import Store
from station.store.lists import read_lists
from station.ui import pin as pins
from station.ui import settings as ui_settings
from station.ui.main_window import MainWindow
from station.ui.settings import UiSettings
from station.ui.verdicts import Kind
from tests.conftest import StationCLI
from tests.gui.conftest import PIN, merged, scan
from tests.gui.test_sync_section import hub, other_door  # noqa: F401  (fixtures)

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


def inside_shown(qtbot: Any, window: MainWindow, value: str, caption: str) -> None:
    panel = window.scan_view.door_panel
    qtbot.waitUntil(lambda: (panel.inside.text(), panel.caption.text()) == (value, caption),
                    timeout=WAIT_MS)


def test_inside_now_follows_the_doors_scans_and_other_doors_facts(
        qtbot: Any, make_window: Callable[..., MainWindow], hub: HubServer,
        other_door: Station, monkeypatch: pytest.MonkeyPatch) -> None:
    window = make_window(sync_url=hub.target.full_url(), sweep_interval_s=3600)
    hall = window.core.lists.create({"name": "Hall", "capacity": 500, "reentry": True}, by="test")
    lists_shown(qtbot, window, 1)
    pick(window, hall)
    inside_shown(qtbot, window, "0 / 500", "INSIDE NOW · HALL · VENUE 0")
    guest = window.core.passes.create(window.core.passes.validate("Gina Guest"))
    assert scan(qtbot, window, guest.code).kind is Kind.ACCEPTED
    inside_shown(qtbot, window, "1 / 500", "INSIDE NOW · HALL · VENUE 1")

    # Another door admits someone to the same list: the count follows once the fact syncs here.
    door_b = other_door.core
    qtbot.waitUntil(lambda: door_b.lists.find(hall.id) is not None, timeout=WAIT_MS)
    other = door_b.passes.create(door_b.passes.validate("Bob from B"), by="test")
    assert door_b.scans.submit(other.code, door=Door(door_b.lists.get(hall.id))).accepted
    inside_shown(qtbot, window, "2 / 500", "INSIDE NOW · HALL · VENUE 2")
    # connected: no marker (the status is read every 2 s; the first read was before connecting)
    window.refresh_network_status()
    qtbot.waitUntil(lambda: not window.scan_view.door_panel.offline_marker.isVisible(), timeout=WAIT_MS)

    window.scan_view.door_panel.exit_button.click()
    assert scan(qtbot, window, guest.code).kind is Kind.ACCEPTED
    inside_shown(qtbot, window, "1 / 500", "INSIDE NOW · HALL · VENUE 1")

    # The hub goes away: the count is this door's own view, and the door says so.
    hub.stop()

    def marked() -> bool:
        window.refresh_network_status()
        return window.scan_view.door_panel.offline_marker.isVisible()

    qtbot.waitUntil(marked, timeout=WAIT_MS)


def scan_event(window: MainWindow, pass_id: str, scan_id: str) -> dict[str, Any]:
    for event in window.core.store.events_for_pass(pass_id):
        if (event.data.get("scan") or {}).get("id") == scan_id:
            return dict(event.data["scan"])
    raise AssertionError(f"{scan_id} is not in the log")


def answer(qtbot: Any, window: MainWindow, button: Any) -> Any:
    """Click one of the door's answers; the verdict the scan lane decides with it."""
    with qtbot.waitSignal(window.scan_view.verdict_shown, timeout=WAIT_MS) as blocker:
        button.click()
    merged(qtbot, window)
    return blocker.args[0]


def test_a_manager_admits_over_capacity_with_the_pin(
        qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    lounge = window.core.lists.create({"name": "Lounge", "capacity": 1}, by="test")
    lists_shown(qtbot, window, 1)
    pick(window, lounge)
    first, second = (window.core.passes.create(window.core.passes.validate(n)) for n in ("Ada", "Bo"))
    assert scan(qtbot, window, first.code).kind is Kind.ACCEPTED
    full = scan(qtbot, window, second.code)
    assert full.kind is Kind.REFUSED and window.scan_view.results[-1].reason == Reason.CAPACITY_REACHED
    actions = window.scan_view.door_actions
    assert actions.override_button.isVisible() and not actions.confirm_button.isVisible()

    pins.set_pin(window.core.store, PIN)
    monkeypatch.setattr(window, "ask_pin", lambda choosing, note="": None)  # cancelled
    actions.override_button.click()
    assert actions.override_button.isVisible()  # nothing recorded, still offered
    monkeypatch.setattr(window, "ask_pin", lambda choosing, note="": PIN)
    admitted = answer(qtbot, window, actions.override_button)
    result = window.scan_view.results[-1]
    assert admitted.kind is Kind.WARNING and result.accepted
    assert result.warning == "Admitted over capacity on manager's override."
    assert scan_event(window, second.id, result.scan.id)["override"] == {"by": "manager"}
    assert not actions.isVisible()
    inside_shown(qtbot, window, "2 / 1", "INSIDE NOW · LOUNGE · VENUE 2")


def test_a_note_is_shown_big_and_a_confirm_list_waits_for_the_door(
        qtbot: Any, window: MainWindow) -> None:
    vip = window.core.lists.create({"name": "VIP", "confirmAttention": True}, by="test")
    note = "Check ID — under 18"
    kid = window.core.passes.create(window.core.passes.validate("Kim", "multi", attention=note))

    # No list: accepted at once, in the attention colour and sound, the note as the headline.
    shown = scan(qtbot, window, kid.code)
    assert (shown.kind, shown.title) == (Kind.ATTENTION, note)
    assert window.scan_view.card.title.text() == note and window.sounds.last_played is Kind.ATTENTION

    lists_shown(qtbot, window, 1)
    pick(window, vip)
    before = len(window.core.store.list_scans(pass_id=kid.id).items)
    waiting = scan(qtbot, window, kid.code)
    assert (waiting.kind, waiting.title) == (Kind.AWAITING, note)
    actions = window.scan_view.door_actions
    assert actions.confirm_button.isVisible() and actions.turn_away_button.isVisible()
    assert len(window.core.store.list_scans(pass_id=kid.id).items) == before  # nothing yet

    turned = answer(qtbot, window, actions.turn_away_button)
    assert turned.kind is Kind.REFUSED and window.scan_view.results[-1].reason == Reason.TURNED_AWAY
    assert not actions.isVisible()

    assert scan(qtbot, window, kid.code).kind is Kind.AWAITING
    confirmed = answer(qtbot, window, actions.confirm_button)
    result = window.scan_view.results[-1]
    assert confirmed.kind is Kind.ATTENTION and result.accepted
    assert confirmed.repeat == 3  # three scans of the code; waiting for the door is not one
    assert scan_event(window, kid.id, result.scan.id)["attention"] == {"note": note, "confirmedBy": "door"}
    reasons = [s.reason for s in window.core.store.list_scans(pass_id=kid.id).items]
    assert len(reasons) == before + 2 and Reason.TURNED_AWAY in reasons


def test_stats_show_inside_now_per_list_over_the_evening(qtbot: Any, window: MainWindow) -> None:
    hall = window.core.lists.create({"name": "Hall", "reentry": True}, by="test")
    lists_shown(qtbot, window, 1)
    pick(window, hall)
    guests = [window.core.passes.create(window.core.passes.validate(f"Guest {i}")) for i in range(3)]
    for g in guests:
        assert scan(qtbot, window, g.code).kind is Kind.ACCEPTED
    window.scan_view.door_panel.exit_button.click()
    assert scan(qtbot, window, guests[0].code).kind is Kind.ACCEPTED
    pick(window, None)
    window.scan_view.door_panel.entry_button.click()
    walk_in = window.core.passes.create(window.core.passes.validate("Walk-in"))
    assert scan(qtbot, window, walk_in.code).kind is Kind.ACCEPTED

    window.tabs.setCurrentWidget(window.stats_view)  # read on the reads lane when shown
    chart = window.stats_view.occupancy

    def last_values() -> dict[str, int]:
        return {line.name: line.values[-1] for line in chart.lines if line.values}

    qtbot.waitUntil(lambda: last_values() == {"Hall": 2, "No list": 1}, timeout=WAIT_MS)
    assert len(chart.slots) == len(chart.lines[0].values) >= 2
    image = chart.grab().toImage()
    hall_blue = {image.pixelColor(x, y).name() for x in range(0, image.width(), 3)
                 for y in range(0, image.height(), 3)}
    assert "#1d4ed8" in hall_blue  # the first list's line is drawn

    window.core.lists.checkout(by="test")  # everyone out: the lines drop to 0
    window.stats_view.refresh()
    qtbot.waitUntil(lambda: last_values() == {"Hall": 0, "No list": 0}, timeout=WAIT_MS)
