"""The two QR engines behind one small interface: zxing-cpp (primary) and zbar (second).

Both are restricted to QR codes: asking zxing-cpp for every format costs ~10x the time
(docs/measured-facts.md) and only adds ways to misread a poster as a 1D barcode. zxing-cpp is
restricted to full-size QR codes (model 2), not Micro QR or rMQR: the station prints neither,
and a Micro QR M1 symbol (its finder pattern plus a few modules, 5 digits with error
detection only) is found inside the finder pattern of a real pass (docs/measured-facts.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import zxingcpp

from station.capture.detection import Detection

log = logging.getLogger(__name__)

QR_FORMAT = "QRCode"

# zxing-cpp 3 made `QRCode` the whole family (model 1 and 2, Micro QR, rMQR); in 2.x it meant
# full-size codes only, and `QRCodeModel2` does not exist there.
_ZXING_QR = getattr(zxingcpp.BarcodeFormat, "QRCodeModel2", zxingcpp.BarcodeFormat.QRCode)


@dataclass(frozen=True, slots=True)
class FailedSymbol:
    """A full-size QR code the engine located and read the format of, but whose Reed-Solomon
    check failed: what erasures.py needs to decode it with its hidden part as erasures."""

    corners: np.ndarray  # 4x2 float32: the symbol's corners, top-left (a finder's) first, clockwise
    version: int
    level: str  # "L", "M", "Q" or "H"
    mask: int


@dataclass(frozen=True, slots=True)
class Attempt:
    """One decoder call: what it read, and where it saw a code it could not read (for retries)."""

    detections: tuple[Detection, ...]
    near_misses: tuple[tuple[Detection, ...], ...] = ()  # corners only; text is empty
    failed: tuple[FailedSymbol, ...] = ()  # the near misses whose format was read (zxing-cpp only)


class Decoder(Protocol):
    name: str
    reads_inverted: bool  # if False the ladder adds an inverted rung
    budget_ms: float  # a sensible per-frame ladder budget for this engine's speed

    def decode(self, gray: np.ndarray) -> Attempt: ...


class ZxingDecoder:
    name = "zxing"
    reads_inverted = True
    # Issue 13's goal is p95 <= 30 ms a 720p frame on one core. With the rungs cheapest-per-read
    # first, 25 ms read as many degraded 720p frames as 40 ms did (256 of 264) and one hard frame
    # of 120 fewer; the frames nothing reads are what sets the p95 (benchmarks/decode_bench.py).
    budget_ms = 25.0

    def __init__(self) -> None:
        self._formats = zxingcpp.BarcodeFormats(_ZXING_QR)

    def decode(self, gray: np.ndarray) -> Attempt:
        found: list[Detection] = []
        misses: list[Detection] = []
        failed: list[FailedSymbol] = []
        # return_errors=True costs nothing extra and tells the ladder where a code sits when
        # error correction failed, so the expensive rungs can work on that region only.
        for b in zxingcpp.read_barcodes(gray, formats=self._formats, return_errors=True):
            p = b.position
            corners = tuple(
                (float(c.x), float(c.y)) for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
            )
            if b.valid and b.text:
                found.append(Detection(b.text, QR_FORMAT, corners))
            else:
                misses.append(Detection("", QR_FORMAT, corners))
                symbol = _failed_symbol(b, corners)
                if symbol is not None:
                    failed.append(symbol)
        return Attempt(tuple(found), (tuple(misses),) if misses else (), tuple(failed))


def _failed_symbol(b: zxingcpp.Barcode, corners: tuple[tuple[float, float], ...]) -> FailedSymbol | None:
    """The symbol's format when its check failed: not when its format or layout did not read."""
    if "Checksum" not in str(b.error):
        return None
    extra = b.extra if isinstance(b.extra, dict) else {}
    version, level, mask = str(extra.get("Version", "")), str(extra.get("ECLevel", "")), extra.get("DataMask")
    if not version.isdigit() or not 1 <= int(version) <= 40 or level not in ("L", "M", "Q", "H") \
            or not isinstance(mask, int) or not 0 <= mask <= 7:
        return None  # a Micro QR or rMQR symbol, or a format zxing-cpp does not report
    return FailedSymbol(np.array(corners, np.float32), int(version), level, mask)


class ZbarDecoder:
    name = "zbar"
    reads_inverted = False  # zbar only reads light-on-dark codes after 255 - img (docs/measured-facts.md)
    budget_ms = 150.0  # ~30 ms per try at 720p: a smaller budget would allow no retry at all

    def __init__(self) -> None:
        # Imported here: libzbar0 is a system library that may be missing; zxing still works.
        from pyzbar import pyzbar

        self._pyzbar = pyzbar
        self._symbols = [pyzbar.ZBarSymbol.QRCODE]

    def decode(self, gray: np.ndarray) -> Attempt:
        found = []
        for s in self._pyzbar.decode(gray, symbols=self._symbols):
            try:
                text = s.data.decode("utf-8")
            except UnicodeDecodeError:
                log.debug("zbar returned %d bytes that are not UTF-8; dropped", len(s.data))
                continue
            if text:
                found.append(Detection(text, QR_FORMAT, tuple((float(x), float(y)) for x, y in s.polygon)))
        return Attempt(tuple(found))


ENGINES = ("zxing", "zbar")


def make_decoder(name: str = "zxing") -> Decoder:
    """The engine by name; raises ValueError for an unknown one, RuntimeError if zbar is missing."""
    if name == "zxing":
        return ZxingDecoder()
    if name == "zbar":
        try:
            return ZbarDecoder()
        except ImportError as exc:
            raise RuntimeError(
                "The zbar decoder needs the system library libzbar0; install it or use zxing."
            ) from exc
    raise ValueError(f"Unknown decoder {name!r}; choose one of {', '.join(ENGINES)}.")


def available_engines() -> list[str]:
    names = []
    for name in ENGINES:
        try:
            make_decoder(name)
        except RuntimeError:
            continue
        names.append(name)
    return names
