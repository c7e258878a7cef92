"""The Sync section and the status bar's sync text against a real nats-server hub and a real
second station; the words themselves from status dicts."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from dataclasses import replace
from typing import Any

import pytest

from station.app import Station, StationOptions, build_station
from station.domain.sync_status import CatchUp, PeerStatus, SyncStatus
from station.net.sync import client as sync_client
from station.net.sync.hub import HubServer, new_password
from station.net.sync.hosting import HubPart
from station.net.sync.setup import SYNC_SECRET, saved_hosting
from station.store.secrets import SecretStore
from station.ui.main_window import MainWindow
from station.ui.sync_format import ago, status_line
from tests.gui.conftest import unlock
from tests.sync.conftest import free_port


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubServer]:
    server = HubServer(tmp_path / "hub", new_password(), port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def other_door(tmp_path: Path, hub: HubServer) -> Iterator[Station]:
    station = build_station(StationOptions(data_dir=tmp_path / "door-b", sync_url=hub.target.full_url(),
                                           api_enabled=False, sweep_interval_s=3600))
    station.core.store.set_setting("station_name", "Door B")
    station.start()
    yield station
    station.stop()


def state(**over: Any) -> SyncStatus:
    base = SyncStatus(hub="10.0.0.2:4222", url="nats://10.0.0.2:4222", organisation="org_a",
                      connected=True, in_sync=True, pending=0, last_sync_at="2025-06-01T19:00:00Z",
                      last_sync_ago_s=3.2, unreachable_for_s=None, alarm=False, error=None,
                      refused=False, catch_up=CatchUp(0, 0))
    return replace(base, **over)


def test_status_bar_words_follow_issue_6() -> None:
    assert status_line(None).text == "Sync: off"
    line = status_line(state(pending=4))
    assert line.text == "Sync: synced 3 s ago · 4 pending · hub 10.0.0.2:4222" and not line.alarm
    line = status_line(state(connected=False, last_sync_ago_s=75.0, unreachable_for_s=75.0, alarm=True,
                             pending=2))
    assert line.text == "Sync: synced 75 s ago · 2 pending · hub 10.0.0.2:4222 · unreachable" and line.alarm
    # unreachable for less than a minute: said, but not red yet
    assert not status_line(state(connected=False, alarm=False)).alarm
    assert status_line(state(last_sync_ago_s=None)).text.startswith("Sync: not synced yet · ")
    assert "downloading 40/100" in status_line(state(catch_up=CatchUp(40, 60))).text
    assert (ago(59.6), ago(600), ago(10800)) == ("60 s ago", "10 min ago", "3 h ago")
    # A hub of another organisation: red at once, not "unreachable" (it is not an outage).
    line = status_line(state(connected=False, refused=True, pending=3, alarm=False))
    assert line.text == ("Sync: refused · hub 10.0.0.2:4222 belongs to another organisation · "
                         "3 pending") and line.alarm
    # --sync auto before a hub is chosen: no "hub None"
    line = status_line(state(hub=None, connected=False, pending=3, alarm=True))
    assert line.text == "Sync: looking for the venue hub on the LAN · 3 pending" and line.alarm


def test_sync_section_shows_the_hub_a_peer_and_its_lag(
        qtbot: Any, make_window: Callable[..., MainWindow], hub: HubServer, other_door: Station,
        monkeypatch: pytest.MonkeyPatch) -> None:
    window = make_window(sync_url=hub.target.full_url(), sweep_interval_s=3600)
    unlock(qtbot, window, monkeypatch)
    window.open_integrations()
    page = window.integrations_view
    page.sections.setCurrentWidget(page.sync)
    door_b = other_door.core
    door_b.passes.create(door_b.passes.validate("Guest from B", "single"), by="test")
    sync = page.sync

    def peer_shown() -> bool:
        sync.refresh()
        rows = [sync.peers.item(r, 0).text() for r in range(sync.peers.rowCount())]
        return "Door B" in rows and sync.in_sync.text() == "yes"

    qtbot.waitUntil(peer_shown, timeout=30000)
    row = next(r for r in range(sync.peers.rowCount()) if sync.peers.item(r, 0).text() == "Door B")
    assert sync.peers.item(row, 1).text() == door_b.ctx.station_id
    assert sync.peers.item(row, 3).text().isdigit()  # lag in events, from the peer's status
    assert sync.hub.text().startswith(hub.target.hub) and sync.connected.text() == "yes"
    assert "password" not in sync.hub.text() and hub.target.password not in sync.hub.text()
    assert sync.digest.text() == window.station.sync.state_digest()[:12]
    assert not sync.progress.isVisible()
    # This door joined with the hub's own credential (as before enrolment, issue 15): it holds
    # no join URL to hand on, and its lines say it trusts every key on the hub.
    assert not sync.copy_join.isEnabled()
    assert "join again" in sync.error.text()
    assert "not enrolled" not in sync.summary.text()  # one note in the section: the sentence

    window.refresh_network_status()
    pattern = (rf"Sync: synced \d+ s ago · \d+ pending · hub {re.escape(hub.target.hub)}"
               " · not enrolled: trusts every key on the hub")
    qtbot.waitUntil(lambda: re.fullmatch(pattern, window.status.sync.text()) is not None, timeout=10000)
    assert window.status.sync.property("alarm") is False

    # the hub goes away; after the (here shortened) minute the status bar turns red
    monkeypatch.setattr(sync_client, "UNREACHABLE_RED_S", 0.3)
    hub.stop()

    def red() -> bool:
        window.refresh_network_status()
        return bool(window.status.sync.property("alarm"))

    qtbot.waitUntil(red, timeout=30000)
    assert window.status.sync.text().endswith("· unreachable")
    assert "#b91c1c" in window.status.sync.styleSheet()


def save(qtbot: Any, window: MainWindow) -> None:
    window.status.clearMessage()  # the same message twice would not signal
    with qtbot.waitSignal(window.status.messageChanged, timeout=10000,
                          check_params_cb=lambda t: "restart" in t):
        window.integrations_view.sync.save_settings()
    assert window.integrations_view.sync.settings_error.text() == ""


def test_sync_settings_are_checked_and_saved_for_the_next_start(
        qtbot: Any, make_window: Callable[..., MainWindow], monkeypatch: pytest.MonkeyPatch,
        data_dir: Path) -> None:
    window = make_window()
    sync = window.integrations_view.sync
    with qtbot.waitSignal(sync.settings_loaded, timeout=10000):  # unlocking loads the saved ones
        unlock(qtbot, window, monkeypatch)
    assert sync.state is None or sync.summary.text() == "Not syncing"
    store = window.core.store
    pin = "#sha256=" + "A" * 43
    for bad in ("http://hub:4222", "tls://hub.example:4222", "tls://u:p@hub:99999",
                "nats://venue:s3cret@10.1.2.3:4333",  # plaintext, from before TLS: refused
                "tls://venue:s3cret@10.1.2.3:4333#sha256=short"):
        sync.url.setText(bad)
        sync.settings_error.setText("")
        sync.save_settings()
        qtbot.waitUntil(lambda: sync.settings_error.text() != "", timeout=10000)
        assert store.setting("sync_url") is None and not saved_hosting(store).enabled
    sync.url.setText("tls://venue:s3cret@10.1.2.3:4333" + pin)
    sync.host_hub.setChecked(True)
    sync.hub_lan.setChecked(True)
    sync.hub_port.setValue(4999)
    save(qtbot, window)
    # the password is not shown again; the fingerprint is kept with the URL
    assert sync.url.text() == "tls://venue@10.1.2.3:4333" + pin
    assert store.setting("sync_url") == "tls://venue@10.1.2.3:4333" + pin
    secrets = SecretStore(store.data_dir, str(store.setting("org_id")))
    assert secrets.get(SYNC_SECRET) == "s3cret"
    hosting = saved_hosting(store)
    assert (hosting.enabled, hosting.lan, hosting.port) == (True, True, 4999)
    # saving again without retyping the password keeps it
    sync.host_hub.setChecked(False)
    save(qtbot, window)
    assert secrets.get(SYNC_SECRET) == "s3cret" and not saved_hosting(store).enabled
    sync.host_hub.setChecked(True)
    save(qtbot, window)
    window.close()
    window.station.stop()

    # the next start uses them (built, not started: no hub is launched here)
    later = build_station(StationOptions(data_dir=data_dir, api_enabled=False))
    try:
        assert later.sync is not None and later.sync.target.hub == "10.1.2.3:4333"
        assert later.sync.target.password == "s3cret"
        hubs = [p for p in later.parts if isinstance(p, HubPart)]
        assert len(hubs) == 1 and hubs[0].server.port == 4999 and hubs[0].server.lan
        # The window hands on the hosted hub's join URL (enrolment only), never a credential.
        join = later.sync.join_url()
        assert join is not None and join.startswith("tls://enrol:")
    finally:
        later.core.close()


def test_history_download_shows_a_progress_bar(qtbot: Any, window: MainWindow,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    unlock(qtbot, window, monkeypatch)
    sync = window.integrations_view.sync
    sync._show(state(in_sync=False, catch_up=CatchUp(400, 600),
                     peers=(PeerStatus("st_b", "Door B", "2025-06-01T19:00:00Z", 7),)), "ab" * 32)
    assert not sync.progress.isHidden()
    assert (sync.progress.value(), sync.progress.maximum()) == (400, 1000)
    assert sync.in_sync.text() == "no" and sync.digest.text() == "ab" * 6
    assert [sync.peers.item(0, c).text() for c in (0, 3)] == ["Door B", "7"]
    sync._show(state(catch_up=CatchUp(1000, 0)))
    assert sync.progress.isHidden()


class SlowDigestSync:
    """A sync part whose digest takes as long as the test says (seconds at 1M passes)."""

    target = None
    hub_admin = None

    def join_url(self) -> str | None:
        return None

    def __init__(self) -> None:
        self.statuses = 0
        self.digests = 0
        self.release = threading.Event()

    def status(self) -> SyncStatus:
        self.statuses += 1
        return state()

    def state_digest(self) -> str:
        self.digests += 1
        self.release.wait(60)
        return "cd" * 32


def test_the_digest_is_read_only_on_screen_and_one_read_at_a_time(
        qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    view = window.integrations_view.sync
    slow = SlowDigestSync()
    view._sync = slow
    slow.release.set()
    assert not view.isVisible()  # door mode: the Integrations page is locked
    with qtbot.waitSignal(view.refreshed, timeout=60000):
        view.refresh()
    assert (slow.statuses, slow.digests) == (1, 0)

    unlock(qtbot, window, monkeypatch)
    window.open_integrations()
    page = window.integrations_view
    page.sections.setCurrentWidget(view)
    qtbot.waitUntil(lambda: not view._reading, timeout=60000)
    slow.release.clear()
    statuses, digests = slow.statuses, slow.digests
    view.refresh()
    for _ in range(5):  # the page's timer ticks while the digest is still being read
        view.refresh()
    qtbot.waitUntil(lambda: slow.digests == digests + 1, timeout=60000)
    with qtbot.waitSignal(view.refreshed, timeout=60000):
        slow.release.set()
    assert (slow.statuses, slow.digests) == (statuses + 1, digests + 1)
    assert view.digest.text() == "cd" * 6
