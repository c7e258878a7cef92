"""Webhook subscriptions on the Integrations page: their state and counts, add / delete /
re-enable, the delivery log of the selected one (attempts, Resend), and the networks that
private or loopback targets may be in."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMessageBox, QPushButton,
    QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from station.domain.errors import StationError
from station.store.webhooks import KEEP_DELETED
from station.ui.rich_text import set_rich
from station.ui.secret_dialog import SecretDialog
from station.ui.webhook_dialogs import AddWebhookDialog
from station.ui.workers import TaskRunner

log = logging.getLogger(__name__)

HOOK_COLUMNS = ("Event", "Target URL", "State", "Pending", "Succeeded", "Failed")
DELIVERY_COLUMNS = ("Event", "Created", "State", "Attempts", "Last status", "Last error")
ATTEMPT_COLUMNS = ("When", "Status", "Duration", "Response")
RED = QColor("#b91c1c")
AMBER = QColor("#b45309")


def when(iso: str | None) -> str:
    return iso[:19].replace("T", " ") if iso else ""


def table(columns: tuple[str, ...], stretch: int) -> QTableWidget:
    view = QTableWidget(0, len(columns))
    view.setHorizontalHeaderLabels(columns)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    # A few dozen rows at most: sizing to the contents is cheap and nothing is cut short.
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view


def fill_row(view: QTableWidget, row: int, values: tuple[str, ...], colour: QColor | None = None) -> None:
    for col, value in enumerate(values):
        item = QTableWidgetItem(value)
        item.setToolTip(value)
        if colour is not None:
            item.setForeground(colour)
        view.setItem(row, col, item)


def selected_row(view: QTableWidget) -> int | None:
    rows = view.selectionModel().selectedRows()
    return rows[0].row() if rows else None


class WebhooksView(QWidget):
    message = Signal(str)
    refreshed = Signal()  # the subscriptions table was reloaded
    log_refreshed = Signal()  # the delivery log (and the attempts) of the selection reloaded

    def __init__(self, integrations: Any, reads: TaskRunner, writes: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._integrations = integrations
        self._reads = reads
        self._writes = writes
        self.states: list[Any] = []
        self.deliveries: list[Any] = []
        self.attempts: list[Any] = []
        self.secret_dialog: SecretDialog | None = None
        self.add_dialog: AddWebhookDialog | None = None

        self.hooks = table(HOOK_COLUMNS, 1)
        self.add = QPushButton("Add subscription…")
        self.add.setObjectName("primary")
        self.delete = QPushButton("Delete…")
        self.delete.setObjectName("danger")
        self.enable = QPushButton("Re-enable")
        self.error = QLabel("")
        self.error.setStyleSheet("color: #b91c1c")
        self.error.setWordWrap(True)
        top = QHBoxLayout()
        for button in (self.add, self.delete, self.enable):
            top.addWidget(button)
        top.addStretch()

        self.log_title = QLabel("Delivery log: select a subscription")
        self.log_title.setObjectName("sectionTitle")
        self.deliveries_table = table(DELIVERY_COLUMNS, 5)
        self.attempts_table = table(ATTEMPT_COLUMNS, 3)
        self.resend = QPushButton("Resend")
        log_buttons = QHBoxLayout()
        log_buttons.addWidget(self.log_title, 1)
        log_buttons.addWidget(self.resend)
        logs = QSplitter(Qt.Orientation.Horizontal)
        logs.addWidget(self.deliveries_table)
        logs.addWidget(self.attempts_table)
        logs.setSizes([600, 400])

        self.networks = QLineEdit()
        self.networks.setPlaceholderText("e.g. 192.168.1.0/24, 127.0.0.0/8")
        self.save_networks = QPushButton("Save networks")
        self.networks_note = QLabel("")
        self.networks_note.setObjectName("muted")
        self.networks_note.setWordWrap(True)
        nets = QHBoxLayout()
        nets.addWidget(QLabel("Allowed webhook networks"))
        nets.addWidget(self.networks, 1)
        nets.addWidget(self.save_networks)

        upper = QWidget()
        upper_column = QVBoxLayout(upper)
        upper_column.setContentsMargins(0, 0, 0, 0)
        upper_column.addLayout(top)
        upper_column.addWidget(self.error)
        upper_column.addWidget(self.hooks, 1)
        lower = QWidget()
        lower_column = QVBoxLayout(lower)
        lower_column.setContentsMargins(0, 0, 0, 0)
        lower_column.addLayout(log_buttons)
        lower_column.addWidget(logs, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(upper)
        split.addWidget(lower)
        column = QVBoxLayout(self)
        column.addWidget(split, 1)
        column.addLayout(nets)
        column.addWidget(self.networks_note)

        self.add.clicked.connect(self.add_subscription)
        self.delete.clicked.connect(self.delete_selected)
        self.enable.clicked.connect(self.enable_selected)
        self.resend.clicked.connect(self.resend_selected)
        self.save_networks.clicked.connect(self.save_network_setting)
        self.hooks.itemSelectionChanged.connect(self._hook_selected)
        self.deliveries_table.itemSelectionChanged.connect(self._delivery_selected)
        self._update_actions()

    # --- reading ----------------------------------------------------------------------------
    def refresh(self) -> None:
        integrations = self._integrations

        def work() -> tuple[list[Any], list[str], list[str]]:
            return (integrations.webhook_states(), integrations.saved_networks(),
                    integrations.allowed_networks())

        self._reads.run(work, self._show, self._error)

    def _show(self, result: tuple[list[Any], list[str], list[str]]) -> None:
        states, saved, allowed = result
        chosen = self.selected_hook()
        self.states = states
        self.hooks.setRowCount(len(states))
        for row, state in enumerate(states):
            hook = state.webhook
            colour = RED if not hook.enabled else AMBER if hook.consecutive_failures else None
            fill_row(self.hooks, row, (hook.event, hook.target_url, state.status_text,
                                       str(state.pending), str(state.succeeded), str(state.failed)),
                     colour)
            if chosen is not None and hook.id == chosen.id:
                self.hooks.selectRow(row)
        if not self.networks.hasFocus():
            self.networks.setText(", ".join(saved))
        extra = [n for n in allowed if n not in saved]
        self.networks_note.setText(
            "Public addresses are always allowed; private, loopback and link-local ones only inside "
            "these networks." + (f" Also allowed from the command line: {', '.join(extra)}." if extra else ""))
        self._update_actions()
        self.refreshed.emit()
        if self.selected_hook() is not None:
            self.load_log()

    def selected_hook(self) -> Any | None:
        row = selected_row(self.hooks)
        return self.states[row].webhook if row is not None and row < len(self.states) else None

    def selected_delivery(self) -> Any | None:
        row = selected_row(self.deliveries_table)
        return self.deliveries[row] if row is not None and row < len(self.deliveries) else None

    def _hook_selected(self) -> None:
        self._update_actions()
        self.load_log()

    def load_log(self) -> None:
        hook = self.selected_hook()
        if hook is None:
            self.deliveries, self.attempts = [], []
            self.deliveries_table.setRowCount(0)
            self.attempts_table.setRowCount(0)
            self.log_title.setText("Delivery log: select a subscription")
            return
        integrations = self._integrations
        chosen = self.selected_delivery()
        chosen_id = chosen.id if chosen is not None else None

        def work() -> tuple[str, list[Any], list[Any]]:
            deliveries = integrations.deliveries(hook.id)
            delivery_id = chosen_id if any(d.id == chosen_id for d in deliveries) else None
            return hook.id, deliveries, integrations.attempts(delivery_id) if delivery_id else []

        self._reads.run(work, lambda r: self._show_log(r, chosen_id), self._error)

    def _show_log(self, result: tuple[str, list[Any], list[Any]], chosen_id: str | None) -> None:
        hook_id, deliveries, attempts = result
        hook = self.selected_hook()
        if hook is None or hook.id != hook_id:
            return  # the selection moved on meanwhile
        self.log_title.setText(f"Delivery log: {hook.event} → {hook.target_url}")
        self.deliveries = deliveries
        table_ = self.deliveries_table
        table_.blockSignals(True)
        table_.setRowCount(len(deliveries))
        for row, d in enumerate(deliveries):
            colour = RED if d.state == "failed" else AMBER if d.state == "pending" and d.attempts else None
            fill_row(table_, row, (d.event_type, when(d.created_at), d.state, str(d.attempts),
                                   "" if d.last_status is None else str(d.last_status), d.last_error or ""),
                     colour)
            if d.id == chosen_id:
                table_.selectRow(row)
        table_.blockSignals(False)
        self._show_attempts(attempts)
        self._update_actions()
        self.log_refreshed.emit()

    def _delivery_selected(self) -> None:
        self._update_actions()
        delivery = self.selected_delivery()
        if delivery is None:
            self._show_attempts([])
            return
        integrations = self._integrations
        self._reads.run(lambda: integrations.attempts(delivery.id),
                        lambda a: self._attempts_for(delivery.id, a), self._error)

    def _attempts_for(self, delivery_id: str, attempts: list[Any]) -> None:
        current = self.selected_delivery()
        if current is not None and current.id == delivery_id:
            self._show_attempts(attempts)
            self.log_refreshed.emit()

    def _show_attempts(self, attempts: list[Any]) -> None:
        self.attempts = attempts
        self.attempts_table.setRowCount(len(attempts))
        for row, a in enumerate(attempts):
            status = str(a.status) if a.status is not None else "no answer"
            body = (a.response or "").strip() or (a.error or "")
            ok = a.status is not None and 200 <= a.status < 300
            fill_row(self.attempts_table, row, (when(a.attempted_at), status, f"{a.duration_ms:.0f} ms",
                                                body[:200]), None if ok else RED)

    def _update_actions(self) -> None:
        hook = self.selected_hook()
        self.delete.setEnabled(hook is not None)
        self.enable.setEnabled(hook is not None and not hook.enabled)
        self.resend.setEnabled(self.selected_delivery() is not None)

    # --- actions ----------------------------------------------------------------------------
    def confirm_delete(self, hook: Any) -> bool:
        answer = QMessageBox.question(
            self, "Delete webhook subscription",
            f"Stop sending {hook.event} to {hook.target_url}? Its delivery log stays readable "
            f"through the API for {KEEP_DELETED.days} days.")
        return answer == QMessageBox.StandardButton.Yes

    def add_subscription(self) -> None:
        """Open the dialog (open(), not exec(): the window keeps running, tests fill it in).
        It stays open until the subscription is added, with any refusal shown inside it."""
        if self.add_dialog is not None:
            self.add_dialog.raise_()
            return
        dialog = AddWebhookDialog(self)
        self.add_dialog = dialog
        dialog.submitted.connect(lambda event, url: self._subscribe(dialog, event, url))
        dialog.finished.connect(lambda _r: self._forget_add_dialog(dialog))
        dialog.open()

    def _subscribe(self, dialog: AddWebhookDialog, event: str, url: str) -> None:
        integrations = self._integrations

        def added(created: Any) -> None:
            if self.add_dialog is dialog:
                dialog.added()
            self._subscribed(created)  # the secret is shown once, even if the dialog was closed

        def refused(exc: BaseException) -> None:
            if self.add_dialog is not dialog:
                self._refused(exc)  # closed meanwhile: say it on the page
                return
            if not isinstance(exc, StationError):
                log.error("webhooks: %s", exc, exc_info=exc)
            dialog.refused(str(exc) if isinstance(exc, StationError) else f"Not added: {exc}")

        self._writes.run(lambda: integrations.subscribe(event, url), added, refused)

    def _forget_add_dialog(self, dialog: AddWebhookDialog) -> None:
        dialog.deleteLater()
        if self.add_dialog is dialog:
            self.add_dialog = None

    def _subscribed(self, created: Any) -> None:
        hook = created.webhook
        dialog = SecretDialog("Webhook subscription added",
                              f"Signing secret for {hook.event} → {hook.target_url}. Check the "
                              "X-PassEngine-Signature header (HMAC-SHA256 of the body) with it:",
                              created.secret, self)
        self.secret_dialog = dialog
        dialog.finished.connect(lambda _r: self._forget_dialog(dialog))
        dialog.open()
        self.message.emit(f"Subscribed {hook.target_url} to {hook.event}.")
        self.refresh()

    def _forget_dialog(self, dialog: SecretDialog) -> None:
        dialog.secret.clear()
        dialog.deleteLater()
        if self.secret_dialog is dialog:
            self.secret_dialog = None

    def _refused(self, exc: BaseException) -> None:
        set_rich(self.error, str(exc) if isinstance(exc, StationError) else f"Not saved: {exc}")
        self._error(exc)

    def delete_selected(self) -> None:
        hook = self.selected_hook()
        if hook is None or not self.confirm_delete(hook):
            return
        integrations = self._integrations
        self._writes.run(lambda: integrations.delete_webhook(hook.id),
                         lambda _r: self._done(f"Deleted the subscription to {hook.target_url}."),
                         self._error)

    def enable_selected(self) -> None:
        hook = self.selected_hook()
        if hook is None or hook.enabled:
            return
        integrations = self._integrations
        self._writes.run(lambda: integrations.enable_webhook(hook.id),
                         lambda h: self._done(f"Re-enabled the subscription to {h.target_url}."),
                         self._error)

    def resend_selected(self) -> None:
        delivery = self.selected_delivery()
        if delivery is None:
            return
        integrations = self._integrations
        self._writes.run(lambda: integrations.resend(delivery.id),
                         lambda _d: self._done("Sending that delivery again now."), self._error)

    def save_network_setting(self) -> None:
        text = self.networks.text()
        entries = [part.strip() for part in text.replace(";", ",").replace("\n", ",").split(",")]
        integrations = self._integrations

        def saved(clean: list[str]) -> None:
            self.networks.setText(", ".join(clean))
            self.networks.clearFocus()
            self.error.setText("")
            self._done("Allowed webhook networks saved.")

        self._writes.run(lambda: integrations.set_saved_networks([e for e in entries if e]), saved,
                         self._refused)

    def _done(self, text: str) -> None:
        self.message.emit(text)
        self.refresh()

    def _error(self, exc: BaseException) -> None:
        if not isinstance(exc, StationError):
            log.error("webhooks: %s", exc, exc_info=exc)
        self.message.emit(str(exc) if isinstance(exc, StationError) else f"That did not work: {exc}")
