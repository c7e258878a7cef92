"""The Integrations page against a real station: its real HTTP API on a free 127.0.0.1 port,
its real webhook sender posting to a real local receiver, PIN-gated like every manager screen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialogButtonBox

from station.net.sender import RetryPolicy, SenderConfig
from station.ui.main_window import MainWindow
from tests.api.receiver import Receiver, start_receiver
from tests.gui.conftest import unlock


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = start_receiver()
    yield rec
    rec.release.set()
    rec.server.shutdown()
    rec.server.server_close()


@pytest.fixture
def manager(qtbot: Any, make_window: Callable[..., MainWindow], monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    window = make_window()
    unlock(qtbot, window, monkeypatch)
    assert window.open_integrations()
    qtbot.waitUntil(lambda: window.station.api.address is not None, timeout=10000)
    return window


def allow_loopback(qtbot: Any, window: MainWindow) -> None:
    hooks = window.integrations_view.webhooks
    hooks.networks.setText("127.0.0.0/8")
    with qtbot.waitSignal(window.status.messageChanged, timeout=10000,
                          check_params_cb=lambda t: t == "Allowed webhook networks saved."):
        hooks.save_network_setting()


def press_ok(dialog: Any) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def fill_webhook_dialog(qtbot: Any, hooks: Any, event: str, url: str) -> Any:
    """Open "Add subscription…", type the values and press OK, as a person does."""
    if hooks.add_dialog is None:
        hooks.add.click()
    dialog = hooks.add_dialog
    assert dialog is not None and dialog.isVisible()
    index = dialog.event_choice.findData(event)
    if index < 0:  # an event the list does not offer (the service refuses it by name)
        dialog.event_choice.addItem(event, event)
        index = dialog.event_choice.count() - 1
    dialog.event_choice.setCurrentIndex(index)
    dialog.url.setText(url)
    press_ok(dialog)
    return dialog


def refused_in_dialog(qtbot: Any, hooks: Any, event: str, url: str) -> str:
    """The refusal shown inside the dialog, which stays open with the typed values."""
    dialog = fill_webhook_dialog(qtbot, hooks, event, url)
    qtbot.waitUntil(lambda: dialog.error.text() != "", timeout=10000)
    assert hooks.add_dialog is dialog and dialog.isVisible()
    assert dialog.values() == (event, url)
    return dialog.error.text()


def add_webhook(qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch, event: str, url: str) -> Any:
    hooks = window.integrations_view.webhooks
    before = len(hooks.states)
    fill_webhook_dialog(qtbot, hooks, event, url)
    qtbot.waitUntil(lambda: len(hooks.states) == before + 1 and hooks.secret_dialog is not None, timeout=10000)
    assert hooks.add_dialog is None  # only success closes the dialog
    return next(s.webhook for s in hooks.states if s.webhook.target_url == url)


def select_hook(qtbot: Any, window: MainWindow, hook_id: str) -> None:
    hooks = window.integrations_view.webhooks
    row = next(i for i, s in enumerate(hooks.states) if s.webhook.id == hook_id)
    hooks.hooks.selectRow(row)
    assert hooks.selected_hook() is not None and hooks.selected_hook().id == hook_id


def test_door_mode_cannot_open_the_page(qtbot: Any, window: MainWindow,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    page = window.integrations_view
    window.tabs.setCurrentWidget(page)
    assert not page.is_open and page.pages.currentWidget() is page.locked
    assert not window.open_integrations()
    assert window.status.currentMessage() == "Unlock manager mode to open Integrations."
    assert page.keys is not None and page.keys.table.rowCount() == 0  # nothing loaded
    unlock(qtbot, window, monkeypatch)
    assert page.is_open and window.open_integrations()
    window.toggle_lock()
    assert not page.is_open


def test_a_created_key_is_shown_once_works_and_revoking_it_gives_401(
        qtbot: Any, manager: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = manager.integrations_view.keys
    assert keys is not None
    assert manager.integrations_view.api_address.text().startswith(f"API: {manager.station.api.address}")
    monkeypatch.setattr(keys, "ask_key_name", lambda: "Zapier")
    with qtbot.waitSignal(keys.created, timeout=10000) as made:
        keys.create_button.click()
    created = made.args[0]
    dialog = keys.secret_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.secret.text() == created.secret and created.secret.startswith("2pk_")
    dialog.copy.click()
    assert QGuiApplication.clipboard().text() == created.secret
    manager.toggle_lock()  # door mode: a secret never stays on screen
    qtbot.waitUntil(lambda: keys.secret_dialog is None, timeout=5000)
    assert not dialog.isVisible() and dialog.secret.text() == ""
    unlock(qtbot, manager, monkeypatch)
    qtbot.waitUntil(lambda: keys.table.rowCount() == 1, timeout=10000)
    row = [keys.table.item(0, c).text() for c in range(keys.table.columnCount())]
    assert row[0] == "Zapier" and row[1] == created.key.prefix + "…" and row[3] == "30/min" and row[4] == "no"
    # the secret is stored nowhere the page can read it back
    assert created.secret not in " ".join(row)

    url = f"{manager.station.api.address}/api/v1/passes"
    auth = {"Authorization": f"Bearer {created.secret}"}
    assert httpx.get(url, headers=auth).status_code == 200

    keys.table.selectRow(0)
    asked: list[str] = []
    monkeypatch.setattr(keys, "confirm_revoke", lambda key: asked.append(key.name) or False)
    keys.revoke.click()  # cancelled: nothing changes
    assert asked == ["Zapier"] and httpx.get(url, headers=auth).status_code == 200
    monkeypatch.setattr(keys, "confirm_revoke", lambda key: True)
    with qtbot.waitSignal(keys.refreshed, timeout=10000):
        keys.revoke.click()
    qtbot.waitUntil(lambda: keys.table.item(0, 4).text() != "no", timeout=10000)
    assert not keys.revoke.isEnabled()
    answer = httpx.get(url, headers=auth)
    assert answer.status_code == 401 and "error" in answer.json()


def test_webhooks_add_refuse_and_delete(qtbot: Any, manager: MainWindow, receiver: Receiver,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    hooks = manager.integrations_view.webhooks
    assert hooks is not None
    # a loopback target is refused until its network is allowed: the API's error, nothing added
    refusal = refused_in_dialog(qtbot, hooks, "pass.created", receiver.url("/in"))
    assert "127.0.0.1" in refusal or "private" in refusal
    assert manager.station.integrations.list_webhooks() == []
    hooks.add_dialog.reject()
    # a bad network is refused by name and saves nothing
    hooks.networks.setText("127.0.0.0/8, not-a-network")
    hooks.save_network_setting()
    qtbot.waitUntil(lambda: "not-a-network" in hooks.error.text(), timeout=10000)
    assert manager.station.integrations.saved_networks() == []
    allow_loopback(qtbot, manager)
    assert manager.station.integrations.saved_networks() == ["127.0.0.0/8"]

    hook = add_webhook(qtbot, manager, monkeypatch, "pass.created", receiver.url("/in"))
    dialog = hooks.secret_dialog
    assert dialog is not None and dialog.isVisible()
    # the signing secret the sender uses, shown once
    from station.net.webhook_secrets import WebhookSecrets
    from station.store.secrets import SecretStore
    store = manager.core.store
    kept = WebhookSecrets(SecretStore(store.data_dir, str(store.setting("org_id"))))
    assert dialog.secret.text() == kept.get(hook.id)
    dialog.copy.click()
    assert QGuiApplication.clipboard().text() == dialog.secret.text()
    dialog.reject()
    assert [hooks.hooks.item(0, c).text() for c in range(3)] == ["pass.created", receiver.url("/in"), "Active"]
    assert hooks.error.text() == ""
    assert refusal  # the refusal was a sentence, shown on the page

    for bad in ("file:///etc/passwd", "http://user:pw@example.com/hook"):
        assert refused_in_dialog(qtbot, hooks, "pass.created", bad)
        assert len(manager.station.integrations.list_webhooks()) == 1
    assert "Unknown event" in refused_in_dialog(qtbot, hooks, "pass.exploded", receiver.url("/x"))
    hooks.add_dialog.reject()
    assert hooks.error.text() == ""  # refusals of the dialog stay in the dialog

    select_hook(qtbot, manager, hook.id)
    monkeypatch.setattr(hooks, "confirm_delete", lambda h: True)
    hooks.delete.click()
    qtbot.waitUntil(lambda: hooks.hooks.rowCount() == 0, timeout=10000)
    assert manager.station.integrations.list_webhooks() == []


def test_the_add_dialog_keeps_the_typed_url_until_it_is_added(
        qtbot: Any, manager: MainWindow, receiver: Receiver) -> None:
    hooks = manager.integrations_view.webhooks
    url = receiver.url("/kept")
    # refused (a loopback address before its network is allowed): still open, URL still there
    refusal = refused_in_dialog(qtbot, hooks, "pass.scanned", url)
    assert "private" in refusal or "127.0.0.1" in refusal
    dialog = hooks.add_dialog
    assert dialog.url.text() == url and dialog.event_choice.currentData() == "pass.scanned"
    assert manager.station.integrations.list_webhooks() == []
    # the manager fixes the cause without losing the dialog, then presses OK again
    manager.station.integrations.set_saved_networks(["127.0.0.0/8"])
    press_ok(dialog)
    qtbot.waitUntil(lambda: hooks.add_dialog is None and hooks.secret_dialog is not None, timeout=10000)
    assert [(h.event, h.target_url) for h in manager.station.integrations.list_webhooks()] == [("pass.scanned", url)]
    hooks.secret_dialog.reject()
    # locking for the door closes a half-typed subscription too
    hooks.add.click()
    assert hooks.add_dialog is not None
    manager.toggle_lock()
    assert hooks.add_dialog is None and not manager.roles.is_manager


@pytest.mark.allow_log("station.net.sender", "was disabled")
def test_auto_disabled_subscription_is_shown_and_re_enabled(
        qtbot: Any, manager: MainWindow, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    page = manager.integrations_view
    hooks = page.webhooks
    assert hooks is not None
    allow_loopback(qtbot, manager)
    # No retries, and one failed delivery disables (the real rule is 5 after 3 retries each).
    manager.station.sender.config = SenderConfig(retry=RetryPolicy(schedule=()), disable_after=1)
    hook = add_webhook(qtbot, manager, monkeypatch, "pass.created", receiver.url("/down", "500", "200"))
    hooks.secret_dialog.reject()
    core = manager.core
    core.passes.create(core.passes.validate("Down Guest", "single"), by="test")  # → a delivery → 500
    receiver.wait_for("/down", 1, timeout=60)
    qtbot.waitUntil(lambda: any(not s.webhook.enabled for s in hooks.states), timeout=60000)
    select_hook(qtbot, manager, hook.id)
    state = hooks.hooks.item(0, 2).text()
    assert state.startswith("Disabled:") and "failed deliveries" in state
    assert page.warning.isVisible() and "failed deliveries" in page.warning.text()
    manager.refresh_network_status()
    qtbot.waitUntil(lambda: manager.status.webhooks.isVisible(), timeout=10000)
    assert "failed deliveries" in manager.status.webhooks.toolTip()
    assert hooks.enable.isEnabled()

    hooks.enable.click()
    qtbot.waitUntil(lambda: hooks.hooks.item(0, 2).text() == "Active", timeout=10000)
    assert manager.station.integrations.webhook(hook.id).enabled
    assert not page.warning.isVisible()
    manager.refresh_network_status()
    qtbot.waitUntil(lambda: not manager.status.webhooks.isVisible(), timeout=10000)


@pytest.mark.allow_log("station.net.sender", "answered 410 Gone")
def test_a_410_removes_the_subscription_from_the_page(
        qtbot: Any, manager: MainWindow, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    hooks = manager.integrations_view.webhooks
    assert hooks is not None
    allow_loopback(qtbot, manager)
    hook = add_webhook(qtbot, manager, monkeypatch, "pass.created", receiver.url("/gone", "410"))
    hooks.secret_dialog.reject()
    select_hook(qtbot, manager, hook.id)  # its log is open when it goes
    errors: list[str] = []
    hooks.message.connect(errors.append)
    core = manager.core
    core.passes.create(core.passes.validate("Gone Guest", "single"), by="test")  # → a delivery → 410
    receiver.wait_for("/gone", 1, timeout=60)
    qtbot.waitUntil(lambda: not hooks.states, timeout=60000)
    assert hooks.selected_hook() is None and errors == []
    assert [d.state for d in manager.station.integrations.deliveries(hook.id)] == ["failed"]


def test_delivery_log_shows_attempts_and_resend_adds_one(
        qtbot: Any, manager: MainWindow, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    hooks = manager.integrations_view.webhooks
    assert hooks is not None
    allow_loopback(qtbot, manager)
    hook = add_webhook(qtbot, manager, monkeypatch, "pass.created", receiver.url("/ok", "200"))
    hooks.secret_dialog.reject()
    core = manager.core
    core.passes.create(core.passes.validate("Logged Guest", "single"), by="test")
    receiver.wait_for("/ok", 1)
    integrations = manager.station.integrations
    qtbot.waitUntil(lambda: integrations.counts(hook.id)["succeeded"] == 1, timeout=15000)
    select_hook(qtbot, manager, hook.id)
    qtbot.waitUntil(lambda: hooks.deliveries_table.rowCount() == 1, timeout=10000)
    hooks.refresh()
    qtbot.waitUntil(lambda: hooks.hooks.item(0, 4).text() == "1", timeout=10000)  # succeeded count
    assert [hooks.deliveries_table.item(0, c).text() for c in (0, 2, 3, 4)] == [
        "pass.created", "succeeded", "1", "200"]
    hooks.deliveries_table.selectRow(0)
    qtbot.waitUntil(lambda: hooks.attempts_table.rowCount() == 1, timeout=10000)
    status, duration, body = (hooks.attempts_table.item(0, c).text() for c in (1, 2, 3))
    assert status == "200" and duration.endswith(" ms") and body.startswith('{"received":true}')

    assert hooks.resend.isEnabled()
    hooks.resend.click()
    receiver.wait_for("/ok", 2)
    assert receiver.at("/ok")[0].json()["id"] == receiver.at("/ok")[1].json()["id"]  # the same event
    delivery_id = hooks.deliveries[0].id
    qtbot.waitUntil(lambda: len(integrations.attempts(delivery_id)) == 2, timeout=15000)
    hooks.refresh()
    qtbot.waitUntil(lambda: hooks.attempts_table.rowCount() == 2, timeout=10000)
    assert all(hooks.attempts_table.item(r, 1).text() == "200" for r in range(2))
