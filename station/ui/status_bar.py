"""The status bar: camera state and fps, role, sound; room for the API address and sync state
(filled by the network parts through set_api / set_sync)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget


class StationStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.camera = QLabel("Camera: –")
        self.api = QLabel("API: off")
        self.sync = QLabel("Sync: off")
        self.webhooks = QLabel("")
        self.webhooks.setStyleSheet("color: #b91c1c; font-weight: 600")
        self.webhooks.setVisible(False)
        self.role = QLabel("Door mode")
        self.sound = QLabel("")
        for label in (self.camera, self.api, self.sync, self.webhooks, self.sound, self.role):
            self.addPermanentWidget(label)

    def set_camera(self, state: str, fps: float = 0.0, error: str | None = None) -> None:
        if state == "running":
            text = f"● Camera: {fps:.0f} fps" if fps >= 1 else "● Camera: on"
            colour = "#15803d"
        elif state == "lost":
            text = "● Camera lost — reconnecting" + (f" ({error})" if error else "")
            colour = "#b91c1c"
        elif state == "off":
            text = "○ No camera: manual entry and handheld scanner"
            colour = "#4b5563"
        else:
            text = f"○ Camera: {state}"
            colour = "#4b5563"
        self.camera.setText(text)
        self.camera.setStyleSheet(f"color: {colour}; font-weight: 600")

    def set_api(self, text: str) -> None:
        self.api.setText(text)

    def set_sync(self, text: str, alarm: bool = False) -> None:
        """"Sync: synced N s ago · M pending · hub host:port"; red once the hub has been
        unreachable for more than a minute."""
        self.sync.setText(text)
        self.sync.setProperty("alarm", alarm)
        self.sync.setStyleSheet("color: #b91c1c; font-weight: 600" if alarm else "")

    def set_webhook_warning(self, text: str) -> None:
        """Shown while a webhook subscription is disabled (410, or 5 failed deliveries)."""
        self.webhooks.setText("⚠ Webhook disabled: see Integrations" if text else "")
        self.webhooks.setToolTip(text)  # the full sentence (which target, why)
        self.webhooks.setVisible(bool(text))

    def set_role(self, manager: bool) -> None:
        self.role.setText("Manager mode" if manager else "Door mode")
        self.role.setStyleSheet("color: #b45309; font-weight: 600" if manager else "")

    def set_sound(self, muted: bool, backend: str) -> None:
        self.sound.setText("Sound: muted" if muted else f"Sound: on ({backend})")
