"""Messages written for a terminal put commands and headers between backticks; a QLabel shows
those as literal backticks. `rich()` turns them into <code> spans (and escapes the rest), so the
same sentence reads well on the command line and in the window."""

from __future__ import annotations

import html
import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

_CODE = re.compile(r"`([^`\n]+)`")


def rich(text: str) -> str:
    """Rich text for `text`: `x` becomes <code>x</code>; a stray backtick is dropped."""
    marked = _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", html.escape(text, quote=False))
    return marked.replace("`", "")


def set_rich(label: QLabel, text: str) -> None:
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setText(rich(text) if text else "")
