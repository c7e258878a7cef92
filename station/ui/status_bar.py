"""The status bar: camera state and fps, role, sound; room for the API address and sync state
(filled by the network parts through set_api / set_sync).

It never widens the window: every label elides (full text in its tooltip), and when even the
elided labels do not fit, the least useful ones at the door step aside first."""

from __future__ import annotations

from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QStatusBar, QStyle, QStyleOption, QWidget

from station.capture.loop import CaptureState
from station.ui.elided_label import ElidedLabel

READABLE = 180  # px: an elided label narrower than this shows too little to be worth its place
GAP = 8  # px between labels (the bar's spacing and item frames)
CAMERA_SHARE = 0.4


class StationStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)  # the grip takes room from the labels; windows resize anyway
        self.camera = ElidedLabel("Camera: –")
        self.api = ElidedLabel("API: off")
        self.sync = ElidedLabel("Sync: off")
        self.webhooks = ElidedLabel("")
        self.webhooks.setStyleSheet("color: #b91c1c; font-weight: 600")
        self.role = ElidedLabel("Door mode")
        self.sound = ElidedLabel("")
        for label in (self.camera, self.api, self.sync, self.webhooks, self.sound, self.role):
            self.addPermanentWidget(label)
        # Most useful first: what the door needs (camera, role, a broken webhook, sync trouble);
        # the API address and the sound (also on the header button) go first when narrow.
        self._priority: tuple[ElidedLabel, ...] = (
            self.camera, self.role, self.webhooks, self.sync, self.api, self.sound)
        self._wanted: dict[ElidedLabel, bool] = {label: True for label in self._priority}
        self._wanted[self.webhooks] = False
        self._fit()

    def _want(self, label: ElidedLabel, shown: bool) -> None:
        self._wanted[label] = shown
        self._fit()

    def _fit(self) -> None:
        """Show the wanted labels that fit at a readable width, in order of use (an elided label
        still shows its start, but a row of six cut labels helps nobody), and share the width so
        short labels ("Door mode") stay whole while long ones are cut evenly."""
        room = self.width() - 2 * GAP
        shown: list[ElidedLabel] = []
        for label in self._priority:
            need = min(label.sizeHint().width(), READABLE) + GAP
            # the camera line always has a place, cut as much as it must
            fits = self._wanted[label] and (need <= room or label is self.camera)
            label.setVisible(fits)
            if fits:
                shown.append(label)
                room -= need
        # The camera line first (up to CAMERA_SHARE of the bar: "Camera lost" is what the door
        # must see), then water-filling: the largest cap at which every other label fits.
        left = self.width() - 2 * GAP - GAP * len(shown)
        camera = min(self.camera.sizeHint().width(), int(self.width() * CAMERA_SHARE))
        self.camera.setMaximumWidth(max(camera, self.camera.minimumSizeHint().width()))
        left -= camera
        shown.remove(self.camera)
        hints = sorted(label.sizeHint().width() for label in shown)
        cap = max(hints, default=0)
        for i, hint in enumerate(hints):
            if hint * (len(hints) - i) > left:
                cap = max(left // (len(hints) - i), 0)
                break
            left -= hint
        for label in shown:
            label.setMaximumWidth(max(min(label.sizeHint().width(), cap), label.minimumSizeHint().width()))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """QStatusBar's painting minus the temporary message: the window's message banner
        shows that in full, and a second, cut copy here would only confuse."""
        painter = QPainter(self)
        option = QStyleOption()
        option.initFrom(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelStatusBar, option, painter, self)
        for label in self._priority:
            if label.isVisible():
                item = QStyleOption()
                item.rect = label.geometry().adjusted(-2, -1, 2, 1)
                item.palette = self.palette()
                item.state = QStyle.StateFlag.State_None
                self.style().drawPrimitive(QStyle.PrimitiveElement.PE_FrameStatusBarItem, item,
                                           painter, label)
        painter.end()

    def set_camera(self, state: CaptureState, fps: float = 0.0, error: str | None = None) -> None:
        if state is CaptureState.RUNNING:
            text = f"● Camera: {fps:.0f} fps" if fps >= 1 else "● Camera: on"
            colour = "#15803d"
        elif state is CaptureState.LOST:
            text = "● Camera lost — reconnecting" + (f" ({error})" if error else "")
            colour = "#b91c1c"
        elif state is CaptureState.OFF:
            text = "○ No camera: manual entry and handheld scanner"
            colour = "#4b5563"
        else:
            text = f"○ Camera: {state}"
            colour = "#4b5563"
        self.camera.setText(text)
        self.camera.setStyleSheet(f"color: {colour}; font-weight: 600")
        self._fit()

    def set_api(self, text: str) -> None:
        self.api.setText(text)
        self._fit()

    def set_sync(self, text: str, alarm: bool = False) -> None:
        """"Sync: synced N s ago · M pending · hub host:port"; red once the hub has been
        unreachable for more than a minute."""
        self.sync.setText(text)
        self.sync.setProperty("alarm", alarm)
        self.sync.setStyleSheet("color: #b91c1c; font-weight: 600" if alarm else "")
        self._fit()

    def set_webhook_warning(self, text: str) -> None:
        """Shown while a webhook subscription is disabled (410, or 5 failed deliveries)."""
        self.webhooks.setText("⚠ Webhook disabled: see Integrations" if text else "")
        self.webhooks.setToolTip(text)  # the full sentence (which target, why)
        self._want(self.webhooks, bool(text))

    def set_role(self, manager: bool) -> None:
        self.role.setText("Manager mode" if manager else "Door mode")
        self.role.setStyleSheet("color: #b45309; font-weight: 600" if manager else "")
        self._fit()

    def set_sound(self, muted: bool, backend: str) -> None:
        self.sound.setText("Sound: muted" if muted else f"Sound: on ({backend})")
        self._fit()
