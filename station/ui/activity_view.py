"""The live event log: scans, status changes, created passes and clients; conflicts stand out."""

from __future__ import annotations

from collections import deque
from datetime import date, datetime, timedelta
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QTableView,
    QVBoxLayout, QWidget,
)

from station.domain.events import Event, EventType
from station.domain.errors import InvalidInput
from station.domain.models import REASON_TEXT, Reason
from station.domain.times import parse_iso
from station.ui.scan_export import ScanExporter

KEEP = 2000  # rows kept in memory; the full log stays in the database
COLUMNS = ("Date", "Time", "What", "Pass", "Details")
WHAT = COLUMNS.index("What")
KINDS = {
    "All events": None,
    "Scans": EventType.PASS_SCANNED,
    "Status changes": EventType.PASS_STATUS_CHANGED,
    "New passes": EventType.PASS_CREATED,
    "New clients": EventType.CLIENT_CREATED,
    "Undone admissions": EventType.SCAN_REVERTED,
}


def describe(event: Event) -> tuple[str, str, str, bool]:
    """(what, pass, details, is_conflict) for one event."""
    d = event.data
    name = str(d.get("name") or "")
    if event.type == EventType.PASS_SCANNED:
        scan = d.get("scan", {})
        accepted = scan.get("verdict") == "accepted"
        reason = scan.get("reason")
        conflict = reason == Reason.DUPLICATE_OFFLINE or bool(d.get("conflicts"))
        what = "Admitted" if accepted else "Refused"
        details = "" if accepted else REASON_TEXT.get(reason, str(reason or ""))
        details += f" · {d.get('stationName') or ''} · {scan.get('source', '')}"
        return what, name, details.strip(" ·"), conflict
    if event.type == EventType.PASS_STATUS_CHANGED:
        why = f" ({d['reason']})" if d.get("reason") else ""
        conflict = d.get("reason") == Reason.DUPLICATE_OFFLINE
        return f"{d.get('from')} → {d.get('to')}", name, f"by {d.get('by')}{why}", conflict
    if event.type == EventType.PASS_CREATED:
        return "Pass created", name, f"{d.get('type')} · {d.get('code')}", False
    if event.type == EventType.CLIENT_CREATED:
        return "Client created", name, str(d.get("email") or ""), False
    if event.type == EventType.SCAN_REVERTED:
        return "Admission undone", str(d.get("passId") or ""), f"by {d.get('by')}", False
    return event.type, name, "", False


def local_time(timestamp: str) -> datetime | None:
    """The event's moment in this computer's time zone (events are stamped in UTC)."""
    try:
        return parse_iso(timestamp).astimezone()
    except InvalidInput:
        return None


def day_text(moment: datetime | None, today: date) -> str:
    """"Today", "Yesterday", else the date: synced events and a night shift span days."""
    if moment is None:
        return ""
    day = moment.date()
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    return day.isoformat()


Row = tuple[Event, datetime | None, tuple[str, str, str, bool]]


class ActivityModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: deque[Row] = deque()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        event, moment, (what, name, details, conflict) = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            column = index.column()
            if column == 0:  # worked out when painted: "Today" turns into "Yesterday" at midnight
                return day_text(moment, date.today())
            clock = moment.strftime("%H:%M:%S") if moment else event.timestamp[11:19]
            return (clock, ("⚠ " if conflict else "") + what, name, details)[column - 1]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() in (0, 1) and moment is not None:
            return moment.strftime("%Y-%m-%d %H:%M:%S %Z")
        if role == Qt.ItemDataRole.BackgroundRole and conflict:
            return QColor("#fef3c7")
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == WHAT:
            if what == "Admitted":
                return QColor("#15803d")
            if what == "Refused":
                return QColor("#b91c1c")
        if role == Qt.ItemDataRole.UserRole:
            return event.type
        if role == Qt.ItemDataRole.UserRole + 1:
            return conflict
        return None

    def add(self, events: list[Event]) -> None:
        fresh = [(e, local_time(e.timestamp), describe(e)) for e in reversed(events[-KEEP:])]
        if not fresh:
            return
        self.beginInsertRows(QModelIndex(), 0, len(fresh) - 1)
        self._rows.extendleft(reversed(fresh))  # newest first
        self.endInsertRows()
        extra = len(self._rows) - KEEP
        if extra > 0:
            self.beginRemoveRows(QModelIndex(), KEEP, len(self._rows) - 1)
            for _ in range(extra):
                self._rows.pop()
            self.endRemoveRows()


class ActivityFilter(QSortFilterProxyModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.kind: str | None = None
        self.text = ""
        self.conflicts_only = False

    def set(self, kind: str | None, text: str) -> None:
        self.beginFilterChange()
        self.kind, self.text = kind, text.lower().strip()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        model = self.sourceModel()
        index = model.index(row, 0, parent)
        if self.kind and model.data(index, Qt.ItemDataRole.UserRole) != self.kind:
            return False
        if self.text:
            cells = " ".join(str(model.data(model.index(row, c, parent)) or "") for c in range(len(COLUMNS)))
            return self.text in cells.lower()
        return True


class ActivityView(QWidget):
    def __init__(self, exporter: ScanExporter | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.exporter = exporter
        self.model = ActivityModel(self)
        self.proxy = ActivityFilter(self)
        self.proxy.setSourceModel(self.model)
        self.kind = QComboBox()
        self.kind.addItems(list(KINDS))
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter by name, station, reason…")
        self.search.setClearButtonEnabled(True)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.verticalHeader().setVisible(False)
        self.table.setShowGrid(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 100), (1, 80), (2, 190), (3, 240)):
            self.table.setColumnWidth(column, width)
        note = QLabel("Live: newest first. Rows with ⚠ are offline conflicts.")
        note.setObjectName("muted")
        bar = QHBoxLayout()
        bar.addWidget(self.kind)
        bar.addWidget(self.search, 1)
        bar.addWidget(note)
        self.export = QPushButton("Export scans…")
        self.export.setToolTip("Every scan recorded here to a CSV file (manager only)")
        bar.addWidget(self.export)
        self.export.setVisible(False)
        if exporter is not None:
            self.export.clicked.connect(lambda: exporter.choose_and_export(self))
            exporter.roles.changed.connect(self._role_changed)
            self._role_changed("")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.kind.currentTextChanged.connect(lambda _t: self._apply())
        self.search.textChanged.connect(lambda _t: self._apply())

    def _role_changed(self, _role: str) -> None:
        self.export.setVisible(self.exporter is not None and self.exporter.roles.is_manager)

    def _apply(self) -> None:
        self.proxy.set(KINDS[self.kind.currentText()], self.search.text())

    def on_events(self, events: list[Event]) -> None:
        self.model.add(events)
