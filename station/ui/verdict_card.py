"""The big verdict card: icon + word + colour, readable from two metres.

Each verdict is visibly new: the card flashes briefly and shows the scan's time and how many
times in a row the same code came. The icon and word sit at the top and the lines under them,
so the word never jumps between ACCEPTED and REFUSED whatever the lines hold."""

from __future__ import annotations

from PySide6.QtCore import QEasingCurve, QPointF, QRectF, Qt, QVariantAnimation
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from station.ui.verdicts import IDLE, WORDS, Kind, VerdictView

# The word is sized for the longest one, so every verdict shows at the same size in one line.
LONGEST_WORDS = tuple(sorted(set(WORDS.values()), key=len, reverse=True))
MARGIN, NARROW_MARGIN = 36, 16  # the card's side margins; narrow cards (< 520 px) use the smaller
ICON_GAP = 24


class VerdictIcon(QWidget):
    """A white disc with a tick, a cross, an exclamation mark or a dash, drawn so it scales."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = Kind.IDLE
        self.setMinimumSize(48, 48)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_kind(self, kind: Kind, size: int) -> None:
        self.kind = kind
        self.setFixedSize(size, size)
        self.update()

    def paintEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        side = min(self.width(), self.height())
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(255, 255, 255, 235))
        p.drawEllipse(QRectF(2, 2, side - 4, side - 4))
        from station.ui.verdicts import COLOURS

        pen = QPen(QColor(COLOURS[self.kind]), side * 0.12, Qt.PenStyle.SolidLine,
                   Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        s = side
        path = QPainterPath()
        if self.kind is Kind.ACCEPTED:
            path.moveTo(QPointF(s * 0.28, s * 0.52))
            path.lineTo(QPointF(s * 0.44, s * 0.68))
            path.lineTo(QPointF(s * 0.73, s * 0.35))
        elif self.kind in (Kind.REFUSED, Kind.ERROR, Kind.NOT_RECORDED):
            path.moveTo(QPointF(s * 0.32, s * 0.32))
            path.lineTo(QPointF(s * 0.68, s * 0.68))
            path.moveTo(QPointF(s * 0.68, s * 0.32))
            path.lineTo(QPointF(s * 0.32, s * 0.68))
        elif self.kind is Kind.WARNING:
            path.moveTo(QPointF(s * 0.5, s * 0.24))
            path.lineTo(QPointF(s * 0.5, s * 0.58))
            path.moveTo(QPointF(s * 0.5, s * 0.76))
            path.lineTo(QPointF(s * 0.5, s * 0.765))
        elif self.kind is Kind.ATTENTION:  # an "i": read the note
            path.moveTo(QPointF(s * 0.5, s * 0.26))
            path.lineTo(QPointF(s * 0.5, s * 0.265))
            path.moveTo(QPointF(s * 0.5, s * 0.42))
            path.lineTo(QPointF(s * 0.5, s * 0.74))
        elif self.kind is Kind.AWAITING:  # a "?": the door answers
            path.moveTo(QPointF(s * 0.36, s * 0.36))
            path.arcTo(QRectF(s * 0.36, s * 0.22, s * 0.28, s * 0.28), 180, -270)
            path.lineTo(QPointF(s * 0.5, s * 0.6))
            path.moveTo(QPointF(s * 0.5, s * 0.76))
            path.lineTo(QPointF(s * 0.5, s * 0.765))
        elif self.kind is Kind.UNDONE:
            path.moveTo(QPointF(s * 0.3, s * 0.5))
            path.lineTo(QPointF(s * 0.7, s * 0.5))
        else:  # idle: a small viewfinder
            for x, y, dx, dy in ((0.3, 0.3, 1, 1), (0.7, 0.3, -1, 1), (0.3, 0.7, 1, -1), (0.7, 0.7, -1, -1)):
                path.moveTo(QPointF(s * x, s * (y + 0.12 * dy)))
                path.lineTo(QPointF(s * x, s * y))
                path.lineTo(QPointF(s * (x + 0.12 * dx), s * y))
        p.drawPath(path)
        p.end()


FLASH_MS = 300  # long enough to catch the eye, short enough to be over before the next scan


class VerdictCard(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("verdictCard")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.icon = VerdictIcon()
        self.word = QLabel()
        self.title = QLabel()
        self.detail = QLabel()
        self.note = QLabel()
        self.stamp = QLabel()  # "19:03:12 · 2nd scan in a row"
        for label, name in ((self.word, "verdictWord"), (self.title, "verdictTitle"),
                            (self.detail, "verdictDetail"), (self.note, "verdictNote"),
                            (self.stamp, "verdictStamp")):
            label.setObjectName(name)
            label.setWordWrap(label not in (self.word, self.stamp))
        self.flashes = 0  # verdicts flashed so far (each new verdict flashes once)
        self._flash = 0.0  # 1 at the start of a flash, 0 when over: painted, never restyled
        self._flash_anim = QVariantAnimation(self)
        self._flash_anim.setStartValue(1.0)
        self._flash_anim.setEndValue(0.0)
        self._flash_anim.setDuration(FLASH_MS)
        self._flash_anim.setEasingCurve(QEasingCurve.Type.OutCubic)
        self._flash_anim.valueChanged.connect(self._set_flash)
        top = QHBoxLayout()
        top.setSpacing(ICON_GAP)
        top.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(self.word, 1, Qt.AlignmentFlag.AlignVCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(36, 32, 36, 32)
        layout.setSpacing(14)
        # Anchored at the top, not centred: a line more or less below the word (a wrapped
        # reason, a warning note) then never moves the word. Reserving rows instead would tie
        # the card's minimum height to its font sizes, which follow its height.
        layout.addLayout(top)
        layout.addSpacing(8)
        layout.addWidget(self.title)
        layout.addWidget(self.detail)
        layout.addWidget(self.note)
        layout.addStretch(1)
        layout.addWidget(self.stamp)  # the time at the foot of the card
        self.view = IDLE
        self.show_view(IDLE)
        self.icon.set_kind(IDLE.kind, self._icon_size())
        self._size_policies()
        self._style()
        self._style_stamp()

    @property
    def kind(self) -> Kind:
        return self.view.kind

    def background(self) -> QColor:
        return QColor(self.view.colour)

    @property
    def flashing(self) -> bool:
        return self._flash_anim.state() is QVariantAnimation.State.Running

    def show_view(self, view: VerdictView, *, flash: bool = True) -> None:
        kind_changed = view.kind is not self.view.kind
        self.view = view
        self.word.setText(view.word)
        self.title.setText(view.title)
        self.detail.setText(view.detail)
        self.note.setText(view.note)
        self.note.setVisible(bool(view.note))
        self.stamp.setText(view.stamp)
        if kind_changed:
            self.icon.set_kind(view.kind, self._icon_size())
        if flash and view.kind is not Kind.IDLE:
            self.flashes += 1
            self._flash_anim.stop()
            self._flash_anim.start()
        self.update()  # the background is painted, not styled: no restyle per scan

    def _set_flash(self, value: object) -> None:
        self._flash = float(value)  # type: ignore[arg-type]
        self.update()

    def _style_stamp(self) -> None:
        # The detail's size, a little dimmer: secondary to the verdict, still readable.
        self.detail.ensurePolished()
        self.stamp.setStyleSheet(f"font-size: {self.detail.font().pixelSize() or 14}px;"
                                 " color: rgba(255,255,255,0.85);")

    def _icon_size(self) -> int:
        # From the height, and from the width too so a narrow card keeps room for the word.
        return max(48, min(200, self.height() // 4, self.width() // 6))

    def _size_policies(self) -> None:
        # The word's own width must not set the card's minimum: its font follows the card's
        # width (word_px), so a label that insisted on its text would keep a window from
        # shrinking below the width it was sized for. Title and detail wrap instead.
        self.word.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # A name or a reason without spaces (a long hyphenated name, a path) cannot wrap; it is
        # cut at the card's edge rather than widening the window (it was 1,209 px). The
        # height-for-width flag of the wrapping labels is kept, so their lines still count.
        for label in (self.title, self.detail, self.note):
            policy = label.sizePolicy()
            policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
            label.setSizePolicy(policy)

    def _margin(self) -> int:
        return NARROW_MARGIN if self.width() < 520 else MARGIN

    def word_px(self) -> int:
        """The word's pixel size: ~13 % of the card's height, but never more than lets the
        longest word ("NOT RECORDED") fit in one line beside the icon."""
        h = max(self.height(), 360)
        room = self.width() - 2 * self._margin() - self._icon_size() - ICON_GAP - 4
        font = QFont(self.word.font())
        font.setWeight(QFont.Weight.Black)
        px = max(12, int(h * 0.13))

        def advance(size: int) -> int:
            font.setPixelSize(size)
            metrics = QFontMetrics(font)
            return max(metrics.horizontalAdvance(w) for w in LONGEST_WORDS)

        if advance(px) > room:  # scale once by the ratio, then step down to be exact
            px = max(12, int(px * room / advance(px)))
            while px > 12 and advance(px) > room:
                px -= 1
        return px

    def _style(self) -> None:
        # Sizes follow the card's height, so a laptop window and a 24" screen at the door both
        # fill the card: the word is ~90 px on a 700 px card, legible well beyond 2 m; and its
        # width, so "NOT RECORDED" stays whole on a 1024 or 800 px window. Set in the stylesheet
        # because the application stylesheet's font-size would override setFont; only on
        # resize, since restyling costs milliseconds.
        h = max(self.height(), 360)
        margin = self._margin()
        layout = self.layout()
        if layout is not None:
            layout.setContentsMargins(margin, 32 if margin == MARGIN else 20, margin,
                                      32 if margin == MARGIN else 20)
        self.setStyleSheet(
            "QFrame#verdictCard QLabel { color: white; background: transparent; }"
            f"QLabel#verdictWord {{ font-size: {self.word_px()}px; font-weight: 900; }}"
            f"QLabel#verdictTitle {{ font-size: {int(h * 0.06)}px; font-weight: 700; }}"
            f"QLabel#verdictDetail {{ font-size: {int(h * 0.042)}px; }}"
            f"QLabel#verdictNote {{ font-size: {int(h * 0.04)}px; font-weight: 600;"
            " background: rgba(0,0,0,0.18); border-radius: 8px; padding: 6px 12px; }"
        )

    def paintEvent(self, event: object) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(self.view.colour))
        p.drawRoundedRect(QRectF(self.rect()), 18, 18)
        if self._flash > 0:
            # A new verdict: the card lights up and fades back, with a white rim.
            p.setBrush(QColor(255, 255, 255, int(110 * self._flash)))
            p.drawRoundedRect(QRectF(self.rect()), 18, 18)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(QColor(255, 255, 255, int(255 * self._flash)), 8))
            p.drawRoundedRect(QRectF(self.rect()).adjusted(4, 4, -4, -4), 16, 16)
        p.end()

    def resizeEvent(self, event: object) -> None:  # noqa: N802
        super().resizeEvent(event)  # type: ignore[arg-type]
        self.icon.set_kind(self.view.kind, self._icon_size())
        self._style()
        self._style_stamp()
