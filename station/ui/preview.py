"""The camera preview: the newest frame, scaled to fit, with the outline of what was read."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from station.capture.loop import CaptureState

Outline = Sequence[tuple[float, float]]
NO_CAMERA_TEXT = "No camera: type a code or use the handheld scanner"


class PreviewWidget(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._image: QImage | None = None
        self._outlines: list[Outline] = []
        self.message = NO_CAMERA_TEXT
        self.frames_shown = 0

    def set_frame(self, image: QImage, outlines: Sequence[Outline] = ()) -> None:
        self._image = image
        self._outlines = list(outlines)
        self.frames_shown += 1
        self.update()

    def set_message(self, text: str) -> None:
        """Shown over the picture (camera lost) or instead of it (no camera)."""
        self.message = text
        self.update()

    def show_capture_state(self, state: CaptureState) -> None:
        """What the person at the door reads over the preview for each camera state."""
        if state is CaptureState.RUNNING:
            self.set_message("")
        elif state is CaptureState.LOST:
            self.set_message("Camera lost — reconnecting…\n"
                             "Manual entry and the handheld scanner still work.")
        elif state is CaptureState.ENDED:
            self.set_message("The video ended.")
        elif state is CaptureState.STARTING:
            self.set_message("Starting the camera…")
        elif state in (CaptureState.OFF, CaptureState.STOPPED):
            self.clear_frame()
            self.set_message(NO_CAMERA_TEXT)

    def clear_frame(self) -> None:
        self._image = None
        self._outlines = []
        self.update()

    def paintEvent(self, event: object) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#111827"))
        target = QRectF(self.rect())
        if self._image is not None and not self._image.isNull():
            iw, ih = self._image.width(), self._image.height()
            scale = min(self.width() / iw, self.height() / ih)
            w, h = iw * scale, ih * scale
            target = QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)
            p.drawImage(target, self._image)
            pen = QPen(QColor("#22c55e"), 4)
            p.setPen(pen)
            for outline in self._outlines:
                poly = QPolygonF([QPointF(target.x() + x * scale, target.y() + y * scale) for x, y in outline])
                p.drawPolygon(poly)
        if self.message:
            font = QFont()
            font.setPixelSize(max(14, self.height() // 18))
            font.setBold(True)
            p.setFont(font)
            band = QRectF(0, self.height() - self.height() / 6, self.width(), self.height() / 6)
            if self._image is None:
                band = QRectF(self.rect())
            else:
                p.fillRect(band, QColor(0, 0, 0, 170))
            p.setPen(QColor("#f9fafb"))
            p.drawText(band, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self.message)
        p.end()
