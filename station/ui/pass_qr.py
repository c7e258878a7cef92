"""Pass QR images: the bare code for the detail panel, and the PNG a manager saves to print or
send, with the guest's name and the pass code under the QR (a printed pass says whose it is, and
the code can be typed when a camera cannot read the QR)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from xml.sax.saxutils import escape

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, Qt
from PySide6.QtGui import (QColor, QFont, QFontDatabase, QFontMetrics, QGuiApplication, QImage,
                           QPainter)

from station.domain.qr_content import make_qr

BORDER_MODULES = 4  # the quiet zone scanners need around a QR; the text goes below it
_headless: list[QGuiApplication] = []  # the offscreen application of a command-line run


def qr_png(text: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    # The station's segments (a format-2 URL in v7 rather than v11) at its error level.
    make_qr(text).save(out, kind="png", scale=scale, border=BORDER_MODULES)
    return out.getvalue()


def labelled_qr_svg(text: str, name: str, code: str, scale: int = 10) -> bytes:
    """The same labelled QR as SVG (scales to any print size): the QR's modules as one path,
    then the name and the code as text under it."""
    qr = make_qr(text)
    size = (qr.symbol_size(scale=1, border=BORDER_MODULES)[0]) * scale
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=scale, border=BORDER_MODULES, xmldecl=False, svgns=True,
            nl=False)
    inner = out.getvalue().decode()
    font = 3 * scale
    height = size + 2 * font + 5 * scale
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{height}" '
        f'viewBox="0 0 {size} {height}"><title>{escape(name)}</title>'
        f'<desc>Pass {escape(code)}</desc><rect width="100%" height="100%" fill="#fff"/>{inner}'
        f'<text x="{size // 2}" y="{size + font}" font-size="{font}" font-weight="bold" '
        f'font-family="sans-serif" text-anchor="middle">{escape(name)}</text>'
        f'<text x="{size // 2}" y="{size + 2 * font + scale}" font-size="{font}" '
        f'font-family="monospace" text-anchor="middle">{escape(code)}</text></svg>\n'
    ).encode()


def labelled_qr_png(text: str, name: str, code: str, scale: int = 10) -> bytes:
    """The QR of `text` with `name` and `code` printed under it, as PNG bytes. Paints on a
    QImage only, so it can run in a worker thread."""
    if QGuiApplication.instance() is None:
        # Fonts need a QGuiApplication; a command-line run (`station passes qr`) has none, so
        # it gets an offscreen one: no display needed, no window opened.
        _headless.append(QGuiApplication(["station", "-platform", "offscreen"]))
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
    """Write the labelled QR to `target` (SVG for a .svg name, PNG otherwise) whole or not at
    all: a half-written image is worse than none (it prints as a broken pass, and whoever
    watches the folder sees it early)."""
    partial = target.with_name(f".{target.name}.partial")
    render = labelled_qr_svg if target.suffix.lower() == ".svg" else labelled_qr_png
    try:
        partial.write_bytes(render(text, name, code))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
