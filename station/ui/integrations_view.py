"""The Integrations page (manager only): the API address, API keys, webhook subscriptions with
their delivery logs, and the Sync section. In door mode it shows only how to unlock, and loads
nothing."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QLabel, QPushButton, QStackedWidget, QTabWidget, QVBoxLayout, QWidget,
)

from station.net.integrations import Integrations
from station.store.db import Store
from station.ui.api_keys_view import ApiKeysView
from station.ui.ports import SyncPart
from station.ui.roles import Roles
from station.ui.scrollable import scrollable
from station.ui.sync_view import SyncView
from station.ui.webhooks_view import WebhooksView
from station.ui.workers import TaskRunner

log = logging.getLogger(__name__)

REFRESH_MS = 3000


def disabled_warning(states: list[Any]) -> str:
    """The warning for subscriptions the sender disabled (5 failed deliveries in a row)."""
    off = [s.webhook for s in states if not s.webhook.enabled]
    if not off:
        return ""
    if len(off) == 1:
        return f"⚠ Webhook to {off[0].target_url} is disabled: {off[0].disabled_reason or 'by a person'}"
    return f"⚠ {len(off)} webhook subscriptions are disabled; see Integrations → Webhooks."


class IntegrationsView(QWidget):
    message = Signal(str)
    unlock_requested = Signal()

    def __init__(self, integrations: Integrations | None, sync: SyncPart | None, store: Store,
                 roles: Roles, reads: TaskRunner, writes: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._integrations = integrations
        self._roles = roles
        self.pages = QStackedWidget()

        locked = QWidget()
        lock_column = QVBoxLayout(locked)
        text = QLabel("Integrations are for managers: API keys, webhooks and sync.\n"
                      "Unlock manager mode with the PIN to see and change them.")
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setObjectName("muted")
        self.unlock = QPushButton("Unlock manager mode…")
        self.unlock.clicked.connect(self.unlock_requested)
        lock_column.addStretch()
        lock_column.addWidget(text)
        lock_column.addWidget(self.unlock, 0, Qt.AlignmentFlag.AlignCenter)
        lock_column.addStretch()
        self.locked = locked

        content = QWidget()
        self.api_address = QLabel("API: –")
        self.api_address.setObjectName("sectionTitle")
        self.api_address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.api_address.setWordWrap(True)  # a long error must not widen the window
        self.warning = QLabel("")
        self.warning.setStyleSheet("color: white; background: #b91c1c; padding: 6px 10px; "
                                   "border-radius: 6px; font-weight: 600")
        self.warning.setWordWrap(True)
        self.warning.setVisible(False)
        self.sections = QTabWidget()
        column = QVBoxLayout(content)
        column.addWidget(self.api_address)
        column.addWidget(self.warning)
        column.addWidget(self.sections, 1)
        self.content = content
        self.keys: ApiKeysView | None = None
        self.webhooks: WebhooksView | None = None
        if integrations is not None:
            self.keys = ApiKeysView(integrations, reads, writes)
            self.webhooks = WebhooksView(integrations, reads, writes)
            self.sections.addTab(self.keys, "API keys")
            self.sections.addTab(self.webhooks, "Webhooks")
            self.keys.message.connect(self.message)
            self.webhooks.message.connect(self.message)
            self.webhooks.refreshed.connect(self._show_warning)
        self.sync = SyncView(sync, store, reads, writes)
        self.sync.message.connect(self.message)
        self.sections.addTab(self.sync, "Sync")

        self.pages.addWidget(self.locked)
        # Scrolls rather than making the window taller than an 800×600 screen.
        self.content_area = scrollable(self.content)
        self.pages.addWidget(self.content_area)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.pages)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._tick)
        roles.changed.connect(self._role_changed)
        self._role_changed(str(roles.role))

    @property
    def is_open(self) -> bool:
        return self.pages.currentWidget() is self.content_area

    def _role_changed(self, _role: str) -> None:
        if self._roles.is_manager:
            self.pages.setCurrentWidget(self.content_area)
            self.sync.load_settings()
            self.refresh()
            self._timer.start()
        else:
            self._timer.stop()
            self.pages.setCurrentWidget(self.locked)
            for view in (self.keys, self.webhooks):
                if view is not None and view.secret_dialog is not None:
                    view.secret_dialog.reject()  # a secret never stays on screen in door mode
            if self.webhooks is not None and self.webhooks.add_dialog is not None:
                self.webhooks.add_dialog.reject()  # nor a manager's half-typed subscription

    def refresh(self) -> None:
        """Reload what the page shows (only in manager mode, and only while it is shown)."""
        if not self._roles.is_manager:
            return
        api = self._integrations
        if api is None:
            self.api_address.setText("API: off")
        elif api.api_address:
            self.api_address.setText(f"API: {api.api_address}   (docs at {api.api_address}/docs)")
        elif api.api_error:
            self.api_address.setText(f"API: not running — {api.api_error}")
        else:
            self.api_address.setText("API: starting…")
        for view in (self.keys, self.webhooks, self.sync):
            if view is not None:
                view.refresh()

    def _tick(self) -> None:
        # Counts and delivery states change in the sender without bus events: poll, but only
        # while somebody looks at the page.
        if self.isVisible():
            self.refresh()

    def _show_warning(self) -> None:
        assert self.webhooks is not None
        text = disabled_warning(self.webhooks.states)
        self.warning.setText(text)
        self.warning.setVisible(bool(text))

    def stop(self) -> None:
        self._timer.stop()
