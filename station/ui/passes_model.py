"""The passes table model: keyset-paged from SQLite in a worker, never everything at once.

Rows arrive a page at a time as the view scrolls (canFetchMore/fetchMore); the total comes from
one count query. Every query runs on the read lane; results that arrive for an older query
(the user typed another letter meanwhile) are dropped by generation number.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor

from station.domain.events import Event, EventType
from station.domain.models import Pass, PassStatus
from station.services.passes import PassService
from station.store.db import Page
from station.ui.workers import TaskRunner

log = logging.getLogger(__name__)

PAGE = 200
COLUMNS = ("Name", "Code", "Type", "Status", "Uses", "Valid until", "Created")
STATUS_COLOURS = {PassStatus.ACTIVE: "#15803d", PassStatus.USED: "#1d4ed8",
                  PassStatus.EXPIRED: "#6b7280", PassStatus.REVOKED: "#b91c1c"}

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class Query:
    search: str | None = None
    status: str | None = None
    type_: str | None = None

    @property
    def filtered(self) -> bool:
        return bool(self.search or self.status or self.type_)


def _short_time(iso: str | None) -> str:
    return iso[:16].replace("T", " ") if iso else ""


class PassesModel(QAbstractTableModel):
    total_changed = Signal(int)
    loading_changed = Signal(bool)
    failed = Signal(str)

    def __init__(self, passes: PassService, reads: TaskRunner, parent: Any = None) -> None:
        super().__init__(parent)
        self._passes = passes
        self._reads = reads
        self._rows: list[Pass] = []
        self._row_of: dict[str, int] = {}
        self._cursor: str | None = None
        self._generation = 0
        self._loading = False
        self.query = Query()
        self.total = 0
        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(800)  # bulk creations (imports) reload at most this often
        self._reload_timer.timeout.connect(self.reload)

    # --- Qt model interface -----------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        p = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return p.name
            if col == 1:
                return p.code
            if col == 2:
                return str(p.type)
            if col == 3:
                return str(p.status) + (" ⚠ conflict" if p.conflicts else "")
            if col == 4:
                return f"{p.uses}/{p.max_uses}" if p.max_uses else str(p.uses)
            if col == 5:
                return _short_time(p.valid_until)
            if col == 6:
                return _short_time(p.created_at)
        if role == Qt.ItemDataRole.ForegroundRole and col == 3:
            return QColor(STATUS_COLOURS.get(p.status, "#111827"))
        if role == Qt.ItemDataRole.UserRole:
            return p
        return None

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: N802, B008
        return not parent.isValid() and self._cursor is not None and not self._loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: N802, B008
        if self.canFetchMore(parent):
            self._load_page(self._cursor)

    # --- queries ----------------------------------------------------------------------------
    def pass_at(self, row: int) -> Pass | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, pass_id: str) -> int | None:
        return self._row_of.get(pass_id)

    @property
    def loading(self) -> bool:
        return self._loading

    def set_query(self, query: Query) -> None:
        self.query = query
        self.reload()

    def reload(self) -> None:
        self._reload_timer.stop()
        self._generation += 1
        self.beginResetModel()
        self._rows, self._row_of, self._cursor = [], {}, None
        self.endResetModel()
        self._load_page(None)
        gen, q, passes = self._generation, self.query, self._passes
        self._reads.run(lambda: passes.store.count_passes(status=q.status, type_=q.type_, search=q.search),
                        lambda n: self._got_total(gen, n), self._fail)

    def _load_page(self, cursor: str | None) -> None:
        gen, q, passes = self._generation, self.query, self._passes
        self._set_loading(True)
        self._reads.run(
            lambda: passes.list(status=q.status, type_=q.type_, search=q.search, limit=PAGE, cursor=cursor),
            lambda page: self._got_page(gen, page), self._fail,
        )

    def _got_page(self, gen: int, page: Page) -> None:
        if gen != self._generation:
            return
        self._set_loading(False)
        fresh = [p for p in page.items if p.id not in self._row_of]
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            for p in fresh:
                self._row_of[p.id] = len(self._rows)
                self._rows.append(p)
            self.endInsertRows()
        self._cursor = page.next_cursor

    def _got_total(self, gen: int, total: int) -> None:
        if gen == self._generation:
            self.total = total
            self.total_changed.emit(total)

    def _fail(self, exc: BaseException) -> None:
        self._set_loading(False)
        log.error("loading passes failed", exc_info=exc)
        self.failed.emit(str(exc))

    def _set_loading(self, value: bool) -> None:
        if value != self._loading:
            self._loading = value
            self.loading_changed.emit(value)

    # --- live updates -----------------------------------------------------------------------
    def replace(self, p: Pass) -> None:
        row = self._row_of.get(p.id)
        if row is not None:
            self._rows[row] = p
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def on_events(self, events: list[Event]) -> None:
        changed: set[str] = set()
        created = 0
        for event in events:
            if event.type == EventType.PASS_CREATED:
                created += 1
            elif event.pass_id and event.pass_id in self._row_of:
                changed.add(event.pass_id)
        if created:
            self._reload_timer.start()  # coalesces an import's thousands of creations
        if changed:
            passes = self._passes
            ids = sorted(changed)
            self._reads.run(lambda: [p for p in map(passes.store.pass_by_id, ids) if p is not None],
                            self._got_changed, self._fail)

    def _got_changed(self, fresh: list[Pass]) -> None:
        for p in fresh:
            self.replace(p)
