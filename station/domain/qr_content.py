"""How a pass's text is split into QR segments, so each part uses the densest mode it can.

segno encodes a plain string in one mode (a format-2 URL would be all alphanumeric: version 9
instead of 7 at level M; docs/measured-facts.md), so the station hands it the segments: the URL prefix
in upper case and alphanumeric mode (byte mode if it has other characters) and the token's
digits in numeric mode.
"""

from __future__ import annotations

import segno
from segno import consts

from station.domain import token_v2
from station.domain.payload import ALPHANUMERIC

Segment = tuple[str, int | None]  # (text, segno mode; None lets segno choose)

# Level M (15 % of the code may be lost): the goal's level. Q would cost two versions for the
# same pass (smaller modules, shorter reading range); the renderer still raises the level when
# the version has room for it (segno's boost_error).
ERROR_LEVEL = "m"


def segments(text: str) -> list[Segment]:
    if token_v2.looks_like(text):
        return [(text, consts.MODE_NUMERIC)]
    prefix, _, tail = text.rpartition("/")
    if prefix and token_v2.looks_like(tail):
        head = prefix + "/"
        if set(head.upper()) <= ALPHANUMERIC:
            # Upper case puts the prefix in alphanumeric mode (5.5 bits a character, not 8).
            return [(head.upper(), consts.MODE_ALPHANUMERIC), (tail, consts.MODE_NUMERIC)]
        return [(head, consts.MODE_BYTE), (tail, consts.MODE_NUMERIC)]
    return [(text, None)]


def make_qr(text: str, error: str = ERROR_LEVEL) -> segno.QRCode:
    """The pass's QR code, never a Micro QR (zbar and OpenCV cannot read those)."""
    # segno takes a sequence of (content, mode) too; its annotations name only a single value.
    return segno.make_qr(segments(text), error=error)  # type: ignore[arg-type]
