"""Passes: search, filters, a lazily paged table, a detail panel with the QR and the history,
and the manager actions (revoke, activate, create, import CSV, export the QR)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QItemSelection, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QFileDialog, QFrame, QHBoxLayout, QHeaderView, QLabel,
    QLineEdit, QListWidget, QMessageBox, QPushButton, QSplitter, QTableView,
    QVBoxLayout, QWidget,
)

from station.ui.ports import CoreParts as Core
from station.domain.errors import StationError
from station.domain.events import Event, EventType
from station.domain.models import Pass, PassStatus, PassType
from station.services.imports import ImportReport
from station.ui.import_dialog import ImportDialog
from station.ui.pass_dialogs import CreatePassDialog, RevokeDialog
from station.ui.pass_qr import qr_png, save_labelled_qr
from station.ui.passes_model import PassesModel, Query
from station.ui.roles import Roles
from station.ui.scrollable import scrollable
from station.ui.workers import TaskRunner

log = logging.getLogger(__name__)

# Column widths after Name (which stretches); see passes_model.COLUMNS.
COLUMN_WIDTHS = {1: 130, 2: 70, 3: 90, 4: 60, 5: 140, 6: 140}
HIDE_FIRST = (6, 5, 2, 4)  # Created, Valid until, Type, Uses; Code and Status always stay
NAME_MIN_WIDTH = 180


def history_line(event: Event) -> str:
    when = event.timestamp[:19].replace("T", " ")
    d = event.data
    if event.type == EventType.PASS_CREATED:
        return f"{when}  created by {d.get('createdBy') or 'someone'}"
    if event.type == EventType.PASS_SCANNED:
        scan = d.get("scan", {})
        what = "admitted" if scan.get("verdict") == "accepted" else f"refused ({scan.get('reason')})"
        return f"{when}  {what} at {d.get('stationName') or scan.get('stationId', '?')} via {scan.get('source')}"
    if event.type == EventType.PASS_STATUS_CHANGED:
        why = f": {d['reason']}" if d.get("reason") else ""
        return f"{when}  {d.get('from')} → {d.get('to')} by {d.get('by')}{why}"
    if event.type == EventType.SCAN_REVERTED:
        return f"{when}  admission undone by {d.get('by')}"
    return f"{when}  {event.type}"


class PassDetail(QFrame):
    """The selected pass: its QR, its facts and its history."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.setMinimumWidth(300)
        self.title = QLabel("Select a pass")
        self.title.setObjectName("sectionTitle")
        self.title.setWordWrap(True)
        self.facts = QLabel()
        self.facts.setObjectName("muted")
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.qr = QLabel()
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr.setMinimumHeight(200)
        self.history = QListWidget()
        self.history.setWordWrap(True)
        self.revoke = QPushButton("Revoke…")
        self.revoke.setObjectName("danger")
        self.activate = QPushButton("Activate")
        self.export = QPushButton("Save QR as PNG…")
        buttons = QHBoxLayout()
        buttons.addWidget(self.revoke)
        buttons.addWidget(self.activate)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.facts)
        layout.addWidget(self.qr)
        layout.addLayout(buttons)
        layout.addWidget(self.export)
        history_title = QLabel("History")
        history_title.setObjectName("sectionTitle")
        layout.addWidget(history_title)
        layout.addWidget(self.history, 1)
        self.show_pass(None, [], None)

    def show_pass(self, p: Pass | None, events: list[Event], qr: bytes | None) -> None:
        self.pass_ = p
        self.history.clear()
        if p is None:
            self.title.setText("Select a pass")
            self.facts.setText("Search by name, code or email; pick a row to see its QR and history.")
            self.qr.clear()
            return
        self.title.setText(p.name)
        uses = f"{p.uses}/{p.max_uses}" if p.max_uses else str(p.uses)
        lines = [f"Code <b>{p.code}</b> · {p.type} · <b>{p.status}</b> · uses {uses}"]
        if p.valid_from or p.valid_until:
            lines.append(f"Valid {(p.valid_from or '…')[:16]} → {(p.valid_until or '…')[:16]}")
        if p.conflicts:
            lines.append(f"<span style='color:#b45309'>⚠ {p.conflicts} offline conflict(s)</span>")
        self.facts.setText("<br>".join(lines))
        if qr:
            # The stubs say the format is bytes; the binding takes only str (PySide6 6.11).
            image = QImage.fromData(qr, "PNG")  # type: ignore[arg-type]
            self.qr.setPixmap(QPixmap.fromImage(image).scaled(
                200, 200, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation))
        self.history.addItems([history_line(e) for e in reversed(events)])


class PassesView(QWidget):
    message = Signal(str)

    def __init__(self, core: Core, roles: Roles, reads: TaskRunner, writes: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._core = core
        self._roles = roles
        self._reads = reads
        self._writes = writes
        self.model = PassesModel(core.passes, reads, self)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search name, email or exact code…")
        self.search.setClearButtonEnabled(True)
        self.status = QComboBox()
        self.status.addItem("All statuses", None)
        for s in PassStatus:
            self.status.addItem(s.value.capitalize(), s.value)
        self.kind = QComboBox()
        self.kind.addItem("All types", None)
        for t in PassType:
            self.kind.addItem(t.value.capitalize(), t.value)
        self.total = QLabel()
        self.total.setObjectName("muted")
        self.create_button = QPushButton("Create pass…")
        self.create_button.setObjectName("primary")
        self.import_ = QPushButton("Import CSV…")
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.table.setAlternatingRowColors(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # Fixed widths, not ResizeToContents: that would measure every loaded row on each page.
        for column, width in COLUMN_WIDTHS.items():
            self.table.setColumnWidth(column, width)
        self.table.setShowGrid(False)
        self.table.viewport().installEventFilter(self)  # columns step aside so Name stays readable
        self.detail = PassDetail()
        bar = QHBoxLayout()
        bar.addWidget(self.search, 3)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.kind, 1)
        bar.addWidget(self.total)
        bar.addStretch()
        bar.addWidget(self.import_)
        bar.addWidget(self.create_button)
        split = QSplitter()
        split.setChildrenCollapsible(False)
        split.addWidget(self.table)
        split.addWidget(scrollable(self.detail))  # its QR and history never set the window's height
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addLayout(bar)
        layout.addWidget(split, 1)

        # Typing fires one query after a short pause, not one per key.
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)
        self._search_timer.timeout.connect(self.apply_filters)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.status.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.kind.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.model.total_changed.connect(self._show_total)
        self.model.failed.connect(self.message)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.detail.revoke.clicked.connect(self.revoke_selected)
        self.detail.activate.clicked.connect(self.activate_selected)
        self.detail.export.clicked.connect(self.export_selected_qr)
        self.create_button.clicked.connect(self.create_pass)
        self.import_.clicked.connect(self.import_csv)
        roles.changed.connect(lambda _r: self._update_actions())
        self._update_actions()
        self.model.reload()

    # --- sizing -----------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return super().eventFilter(watched, event)

    def _fit_columns(self) -> None:
        """Hide the least needed columns (their facts are in the detail panel) while Name would
        get less than NAME_MIN_WIDTH: on a 1024 px window Name had collapsed to "…"."""
        room = self.table.viewport().width()
        shown = set(COLUMN_WIDTHS)
        for column in HIDE_FIRST:
            if room - sum(COLUMN_WIDTHS[c] for c in shown) >= NAME_MIN_WIDTH:
                break
            shown.discard(column)
        for column in COLUMN_WIDTHS:
            self.table.setColumnHidden(column, column not in shown)

    # --- filters ----------------------------------------------------------------------------
    def apply_filters(self) -> None:
        self._search_timer.stop()
        text = self.search.text().strip()
        self.model.set_query(Query(text or None, self.status.currentData(), self.kind.currentData()))
        self.detail.show_pass(None, [], None)
        self._update_actions()

    def _show_total(self, total: int) -> None:
        self.total.setText(f"{total:,} pass{'es' if total != 1 else ''}")

    # --- selection and detail ---------------------------------------------------------------
    def selected(self) -> Pass | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.pass_at(rows[0].row()) if rows else None

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)

    def _selection_changed(self, _new: QItemSelection, _old: QItemSelection) -> None:
        p = self.selected()
        self._update_actions()
        if p is None:
            self.detail.show_pass(None, [], None)
            return
        self.load_detail(p.id)

    def load_detail(self, pass_id: str) -> None:
        store = self._core.store

        def work() -> tuple[Pass | None, list[Event], bytes | None]:
            p = store.pass_by_id(pass_id)
            if p is None:
                return None, [], None
            return p, store.events_for_pass(pass_id), qr_png(p.public_url)

        def done(result: tuple[Pass | None, list[Event], bytes | None]) -> None:
            current = self.selected()
            if current is not None and current.id == pass_id:
                self.detail.show_pass(*result)
                self._update_actions()

        self._reads.run(work, done, self._error)

    def _update_actions(self) -> None:
        manager = self._roles.is_manager
        p = self.detail.pass_ if self.detail.pass_ is not None else self.selected()
        self.create_button.setEnabled(manager)
        self.import_.setEnabled(manager)
        self.detail.revoke.setEnabled(manager and p is not None and p.status is not PassStatus.REVOKED)
        self.detail.activate.setEnabled(manager and p is not None and p.status is PassStatus.REVOKED)
        self.detail.export.setEnabled(p is not None)
        tip = "" if manager else "Unlock manager mode (padlock, top right) to change passes."
        for button in (self.create_button, self.import_, self.detail.revoke, self.detail.activate):
            button.setToolTip(tip)

    def on_events(self, events: list[Event]) -> None:
        self.model.on_events(events)
        current = self.detail.pass_
        if current is not None and any(e.pass_id == current.id for e in events):
            self.load_detail(current.id)

    # --- actions (manager) ------------------------------------------------------------------
    def ask_revoke_reason(self, p: Pass) -> str | None:
        """The reason typed in the confirmation dialog, or None when cancelled."""
        dialog = RevokeDialog(p, self)
        return dialog.reason_text() if dialog.exec() == RevokeDialog.DialogCode.Accepted else None

    def revoke_selected(self) -> None:
        p = self.selected()
        if p is None or not self._roles.is_manager:
            return
        reason = self.ask_revoke_reason(p)
        if reason is None:
            return
        passes = self._core.passes
        self._write(lambda: passes.revoke(p.id, reason=reason or None, by="manager"),
                    lambda after: self._changed(after, f"Revoked {after.name}."))

    def activate_selected(self) -> None:
        p = self.selected()
        if p is None or not self._roles.is_manager:
            return
        passes = self._core.passes
        self._write(lambda: passes.activate(p.id, by="manager"),
                    lambda after: self._changed(after, f"Activated {after.name}."))

    def _changed(self, after: Pass, text: str) -> None:
        self.model.replace(after)
        self.load_detail(after.id)
        self.message.emit(text)

    def ask_new_pass(self) -> dict[str, Any] | None:
        dialog = CreatePassDialog(self)
        return dialog.values() if dialog.exec() == CreatePassDialog.DialogCode.Accepted else None

    def create_pass(self) -> None:
        if not self._roles.is_manager:
            return
        values = self.ask_new_pass()
        if values is None:
            return
        core = self._core

        def work() -> Pass:
            new = core.passes.validate(values["name"], values["type"], values.get("max_uses"),
                                       None, values.get("valid_until"))
            if values.get("email"):
                client = core.clients.create(new.name, values["email"])
                new = core.passes.validate(new.name, new.type, new.max_uses, None, new.valid_until,
                                           client.id)
            return core.passes.create(new, by="manager")

        self._write(work, lambda p: self.message.emit(f"Created {p.name} ({p.code})."))

    def ask_import_file(self) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(self, "Import passes", "", "CSV files (*.csv)")
        return Path(name) if name else None

    def import_csv(self, path: Path | None = None) -> None:
        if not self._roles.is_manager:
            return
        path = path or self.ask_import_file()
        if path is None:
            return
        previous: ImportDialog | None = getattr(self, "import_dialog", None)
        if previous is not None and not previous.running:
            previous.deleteLater()  # its report was read; each import has its own dialog
        dialog = ImportDialog(self._core, path, self._writes, self._reads, self)
        self.import_dialog = dialog  # one at a time (the dialog is window-modal); tests read it

        def finished(report: ImportReport | None) -> None:
            if report is None:
                return  # the dialog says why nothing was imported
            text = f"Imported {report.imported:,} passes from {path.name}."
            if report.already_imported:
                text += f" {report.already_imported:,} rows were already imported."
            if report.errors:
                text += f" {len(report.errors):,} rows skipped: see the import report."
            self.message.emit(text)
            self.model.reload()

        dialog.imported.connect(finished)
        dialog.show()
        dialog.start()

    def ask_export_file(self, p: Pass) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(self, "Save pass QR", f"{p.code}.png",
                                              "PNG images (*.png);;SVG images (*.svg)")
        return Path(name) if name else None

    def export_selected_qr(self) -> None:
        p = self.detail.pass_ or self.selected()
        if p is None:
            return
        target = self.ask_export_file(p)
        if target is None:
            return

        def work() -> Path:
            save_labelled_qr(target, p.public_url, p.name, p.code)
            return target

        self._reads.run(work, lambda t: self.message.emit(f"Saved the QR of {p.name} to {t}."), self._error)

    # --- helpers ----------------------------------------------------------------------------
    def _write(self, fn: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self._roles.touch()
        self._writes.run(fn, done, self._error)

    def _error(self, exc: BaseException) -> None:
        if isinstance(exc, StationError):
            self.message.emit(str(exc))
            if self.isVisible():
                box = QMessageBox(QMessageBox.Icon.Warning, "Station", str(exc), parent=self)
                box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
                box.open()  # not exec(): nothing waits on the person reading it
        else:
            log.error("passes view task failed", exc_info=exc)
            self.message.emit(f"Something went wrong: {exc}. The details are in the log.")
