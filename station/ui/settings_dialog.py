"""Settings (manager only): station name, camera, resolution, decoder, cooldowns, sound, PIN,
auto-lock, how long a verdict stays, kiosk mode, data directory."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout,
    QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget,
)

from station.ui.settings import DECODERS, RESOLUTIONS, UiSettings


NO_CAMERA = "No camera — keyboard and handheld scanner only"


class SettingsDialog(QDialog):
    def __init__(self, station_name: str, settings: UiSettings, data_dir: Path,
                 cameras: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(460)
        self.name = QLineEdit(station_name)
        self.camera = QComboBox()
        self.camera.setEditable(True)  # a device path the list does not know can be typed
        self.camera.addItem(NO_CAMERA, "none")
        for device, label in cameras:  # capture_worker.camera_choices: names, never a bare "0"
            self.camera.addItem(label, device)
        index = self.camera.findData(settings.camera)
        if index < 0:
            self.camera.addItem(settings.camera, settings.camera)
            index = self.camera.count() - 1
        self.camera.setCurrentIndex(index)
        self.resolution = QComboBox()
        self.resolution.addItems(RESOLUTIONS)
        self.resolution.setCurrentText(settings.resolution)
        self.decoder = QComboBox()
        self.decoder.addItems(DECODERS)
        self.decoder.setCurrentText(settings.decoder)
        self.camera_cooldown = self._seconds(settings.camera_cooldown_s, 0, 60)
        self.hid_cooldown = self._seconds(settings.hid_cooldown_s, 0, 60)
        self.muted = QCheckBox("Mute verdict sounds")
        self.muted.setChecked(settings.muted)
        self.auto_lock = QDoubleSpinBox()
        self.auto_lock.setRange(0.1, 240)
        self.auto_lock.setDecimals(1)
        self.auto_lock.setSuffix(" min")
        self.auto_lock.setValue(settings.auto_lock_min)
        self.verdict_reset = self._seconds(settings.verdict_reset_s, 0, 600)
        self.verdict_reset.setSpecialValueText("Never")  # 0: the verdict stays until the next scan
        self.kiosk = QCheckBox("Open fullscreen on the Scan view; leaving needs the PIN")
        self.kiosk.setChecked(settings.kiosk)
        self.change_pin = QPushButton("Change manager PIN…")
        self.data_dir = QLineEdit(str(data_dir))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.data_dir, 1)
        row.addWidget(browse)
        note = QLabel("Camera, resolution, decoder and cooldowns apply at once; "
                      "a new data directory on the next start.")
        note.setObjectName("muted")
        note.setWordWrap(True)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b91c1c")
        form = QFormLayout(self)
        form.addRow("Station name", self.name)
        form.addRow("Camera", self.camera)
        form.addRow("Resolution", self.resolution)
        form.addRow("Decoder", self.decoder)
        form.addRow("Camera cooldown", self.camera_cooldown)
        form.addRow("Scanner cooldown", self.hid_cooldown)
        form.addRow("Sound", self.muted)
        form.addRow("Lock manager mode after", self.auto_lock)
        form.addRow("Back to READY after", self.verdict_reset)
        form.addRow("Kiosk mode", self.kiosk)
        form.addRow("PIN", self.change_pin)
        form.addRow("Data directory", row)
        form.addRow(note)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    @staticmethod
    def _seconds(value: float, low: float, high: float) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(low, high)
        box.setDecimals(1)
        box.setSuffix(" s")
        box.setValue(value)
        return box

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Data directory", self.data_dir.text())
        if chosen:
            self.data_dir.setText(chosen)

    def result_settings(self) -> UiSettings:
        camera = self.camera.currentData()
        if camera is None or self.camera.currentText() != self.camera.itemText(self.camera.currentIndex()):
            camera = self.camera.currentText().strip()
        return UiSettings(
            camera=str(camera), resolution=self.resolution.currentText(),
            decoder=self.decoder.currentText(), camera_cooldown_s=self.camera_cooldown.value(),
            hid_cooldown_s=self.hid_cooldown.value(), muted=self.muted.isChecked(),
            auto_lock_min=self.auto_lock.value(), verdict_reset_s=self.verdict_reset.value(),
            kiosk=self.kiosk.isChecked(),
        )

    def station_name(self) -> str:
        return self.name.text().strip()

    def chosen_data_dir(self) -> Path:
        return Path(self.data_dir.text().strip()).expanduser()
