"""Admissions per 15 minutes, by pass type, against refusals, and inside now per list over the
same hours: drawn with QPainter (QtCharts would need the 400 MB PySide6-Addons for one chart)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from PySide6.QtCore import QRectF, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from station.ui.ports import CoreParts as Core
from station.domain.times import parse_iso, to_iso
from station.domain.occupancy_series import occupancy_series
from station.store import stats
from station.store.door_reads import inside_counts
from station.store.occupancy_history import checkouts_since, movements_per_quarter
from station.ui import chart_frame
from station.ui.occupancy_chart import Line, OccupancyChart
from station.ui.workers import TaskRunner

SERIES = (("Single-entry admitted", "#15803d"), ("Multi-use admitted", "#0e7490"), ("Refused", "#b91c1c"))
HOURS = 8


class AdmissionsChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(480, 150)  # above the occupancy chart: both fit 800x600
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.buckets: list[stats.Bucket] = []

    def set_buckets(self, buckets: list[stats.Bucket]) -> None:
        self.buckets = buckets
        self.update()

    def paintEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        p, plot = chart_frame.begin(self, bottom=44)
        chart_frame.legend(p, SERIES, QRectF(chart_frame.LEFT, 12, 14, 14))
        if not self.buckets:
            chart_frame.empty(p, plot, "No scans in the last hours yet.")
            return
        ceiling = chart_frame.y_grid(p, plot, max(max(b.accepted, b.refused) for b in self.buckets))
        n = len(self.buckets)
        slot = plot.width() / n
        bar = min(28.0, max(2.0, slot * 0.36))
        label_every = max(1, int(60 / max(slot, 1)))
        for i, b in enumerate(self.buckets):
            x0 = plot.left() + i * slot + slot * 0.12
            # accepted: single stacked under multi
            h_single = plot.height() * b.accepted_single / ceiling
            h_multi = plot.height() * b.accepted_multi / ceiling
            p.fillRect(QRectF(x0, plot.bottom() - h_single, bar, h_single), QColor(SERIES[0][1]))
            p.fillRect(QRectF(x0, plot.bottom() - h_single - h_multi, bar, h_multi), QColor(SERIES[1][1]))
            h_ref = plot.height() * b.refused / ceiling
            p.fillRect(QRectF(x0 + bar + 2, plot.bottom() - h_ref, bar, h_ref), QColor(SERIES[2][1]))
            if i % label_every == 0:
                chart_frame.x_label(p, x0 - 10, plot, parse_iso(b.start).astimezone().strftime("%H:%M"))
        chart_frame.finish(p, plot)


def fill_gaps(buckets: list[stats.Bucket], start: datetime, end: datetime) -> list[stats.Bucket]:
    """Every 15-minute slot from start to end, empty ones included, so time reads left to right."""
    by_start = {b.start: b for b in buckets}
    slot = start.replace(minute=start.minute // 15 * 15, second=0, microsecond=0)
    out = []
    while slot <= end:
        key = to_iso(slot)[:16] + ":00Z"
        out.append(by_start.get(key, stats.Bucket(key)))
        slot += timedelta(minutes=15)
    return out


class StatsView(QWidget):
    def __init__(self, core: Core, reads: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._core = core
        self._reads = reads
        self.chart = AdmissionsChart()
        self.summary = QLabel()
        self.summary.setObjectName("sectionTitle")
        title = QLabel(f"Admissions per 15 minutes, last {HOURS} hours")
        title.setObjectName("sectionTitle")
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch()
        head.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addLayout(head)
        layout.addWidget(self.chart, 1)
        inside_title = QLabel(f"Inside now per list, last {HOURS} hours")
        inside_title.setObjectName("sectionTitle")
        self.occupancy = OccupancyChart()
        layout.addWidget(inside_title)
        layout.addWidget(self.occupancy, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(2000)
        self._timer.timeout.connect(self.refresh)
        self._busy = False

    def refresh(self) -> None:
        if self._busy:
            return
        self._busy = True
        store, now = self._core.store, self._core.ctx.now()
        start = now - timedelta(hours=HOURS)

        lists = self._core.lists

        def work() -> tuple[list[stats.Bucket], list[Line]]:
            since = to_iso(start)
            buckets = fill_gaps(stats.admissions_per_quarter(store, since), start, now)
            names = {lst.id: lst.name for lst in lists.all()}
            now_counts = {k or "": v for k, v in inside_counts(store).items()}
            series = occupancy_series(now_counts, movements_per_quarter(store, since),
                                      checkouts_since(store, since), [b.start for b in buckets])
            return buckets, [Line(names.get(list_id, "No list" if not list_id else list_id), values)
                             for list_id, values in series.items()]

        self._reads.run(work, self._show, self._failed)

    def _show(self, got: tuple[list[stats.Bucket], list[Line]]) -> None:
        self._busy = False
        buckets, lines = got
        # Trim the empty hours before the first scan so a fresh day is not a flat line.
        first = next((i for i, b in enumerate(buckets) if b.accepted or b.refused), len(buckets))
        shown = buckets[max(0, min(first, len(buckets) - 16)):]  # at least four hours
        self.chart.set_buckets(shown if first < len(buckets) else [])
        cut = len(buckets) - len(shown)
        self.occupancy.set_lines([b.start for b in shown],
                                 [Line(line.name, line.values[cut:]) for line in lines])
        accepted = sum(b.accepted for b in buckets)
        refused = sum(b.refused for b in buckets)
        self.summary.setText(f"{accepted:,} admitted · {refused:,} refused")

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        self.summary.setText(f"Statistics unavailable: {exc}")

    def on_events(self, events: Sequence[object]) -> None:
        if self.isVisible():
            self._timer.start()

    def showEvent(self, event: object) -> None:  # noqa: N802
        super().showEvent(event)  # type: ignore[arg-type]
        self.refresh()
