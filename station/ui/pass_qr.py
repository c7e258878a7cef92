"""Pass QR images: the bare code for the detail panel, and the PNG a manager saves to print or
send, with the guest's name and the pass code under the QR (a printed pass says whose it is, and
the code can be typed when a camera cannot read the QR)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import segno
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetrics, QImage, QPainter

BORDER_MODULES = 4  # the quiet zone scanners need around a QR; the text goes below it


def qr_png(text: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    # make_qr, never make: a short payload would become a Micro QR that scanners cannot read.
    segno.make_qr(text, error="q").save(out, kind="png", scale=scale, border=BORDER_MODULES)
    return out.getvalue()


def labelled_qr_png(text: str, name: str, code: str, scale: int = 10) -> bytes:
    """The QR of `text` with `name` and `code` printed under it, as PNG bytes. Paints on a
    QImage only, so it can run in a worker thread."""
    qr = QImage.fromData(qr_png(text, scale))
    name_font = QFont()
    name_font.setPixelSize(3 * scale)
    name_font.setBold(True)
    code_font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    code_font.setPixelSize(3 * scale)
    name_metrics, code_metrics = QFontMetrics(name_font), QFontMetrics(code_font)
    width = max(qr.width(), code_metrics.horizontalAdvance(code) + 2 * BORDER_MODULES * scale)
    margin = BORDER_MODULES * scale
    text_height = name_metrics.height() + code_metrics.height() + scale + margin
    image = QImage(width, qr.height() + text_height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    try:
        painter.drawImage((width - qr.width()) // 2, 0, qr)
        painter.setPen(QColor("black"))
        top = qr.height()
        painter.setFont(name_font)
        shown = name_metrics.elidedText(name, Qt.TextElideMode.ElideRight, width - 2 * margin)
        painter.drawText(QRect(margin, top, width - 2 * margin, name_metrics.height()),
                         Qt.AlignmentFlag.AlignCenter, shown)
        painter.setFont(code_font)
        painter.drawText(QRect(0, top + name_metrics.height() + scale, width, code_metrics.height()),
                         Qt.AlignmentFlag.AlignCenter, code)
    finally:
        painter.end()
    # The name and code also as PNG text chunks, for whoever files or searches the images.
    image.setText("Title", name)
    image.setText("Description", f"Pass {code}")
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # The stubs say the format is bytes; the binding takes only str (PySide6 6.11).
    image.save(buffer, "PNG")  # type: ignore[call-overload]
    buffer.close()
    return bytes(data.data())


def save_labelled_qr(target: Path, text: str, name: str, code: str) -> None:
    """Write the labelled QR to `target` whole or not at all: a half-written PNG is worse than
    none (it prints as a broken pass, and whoever watches the folder sees it early)."""
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_bytes(labelled_qr_png(text, name, code))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
