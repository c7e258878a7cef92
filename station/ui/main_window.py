"""The main window: tabs for Scan, Passes, Activity, Stats and Integrations (manager only); the lock, mute and settings
buttons; the status bar. It owns the worker lanes and the bus bridge and tears them down."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

from PySide6.QtCore import QByteArray, QCoreApplication, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication, QHBoxLayout, QLabel, QMainWindow, QPushButton, QTabWidget, QVBoxLayout, QWidget,
)

from station.capture.debounce import DebounceConfig, DebouncedSink
from station.capture.loop import CaptureState, CaptureStatus
from station.capture.sources import FrameSource
from station.domain.errors import StationError
from station.domain.events import Event
from station.ui import settings as ui_settings
from station.ui.activity_view import ActivityView
from station.ui.bridge import EventBridge
from station.ui.capture_worker import CaptureController, camera_choices, camera_source, demo_camera
from station.ui.elided_label import ElidedLabel
from station.ui.hid import KeyboardWedge, first_known_pass
from station.ui.integrations_view import IntegrationsView, disabled_warning
from station.ui.kiosk import Kiosk
from station.ui.lists_view import ListsView
from station.ui.manager_pin import ManagerPin
from station.ui.message_banner import SHOWN_MS, MessageBanner
from station.ui.passes_view import PassesView
from station.ui.pin_dialog import PinDialog
from station.ui.ports import RunningStation
from station.ui.resources import resource
from station.ui.roles import Roles
from station.ui.scan_export import ScanExporter
from station.ui.scan_view import ScanView
from station.ui.settings_dialog import SettingsDialog
from station.ui.sounds import Sounds
from station.ui.stats_view import StatsView
from station.ui.status_bar import StationStatusBar
from station.ui.sync_format import SyncLine, status_line
from station.ui.verdict_overlay import VerdictOverlay
from station.ui.verdicts import VerdictView
from station.ui.workers import TaskRunner

log = logging.getLogger(__name__)

DEMO_CAMERA = "Demo camera (shows the demo passes)"


def _application() -> QCoreApplication:
    app = QApplication.instance()
    assert app is not None  # the window exists only inside a running application
    return app


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(self, station: RunningStation, qsettings: QSettings,
                 settings: ui_settings.UiSettings | None = None, *, demo: bool = False) -> None:
        super().__init__()
        self.station = station
        self.demo = demo
        self.core = station.core
        self.qsettings = qsettings
        self.settings = settings or ui_settings.UiSettings()
        self.setWindowTitle(f"Station — {self.core.ctx.station_name}")
        try:
            self.setWindowIcon(QIcon(str(resource("icons", "station.svg"))))
        except FileNotFoundError:
            log.warning("the window icon is missing from resources/")

        # Three lanes: scans one at a time in order; other writes (revoke, import) beside them
        # so a 100k import never delays a door; reads (tables, counters, details) in parallel.
        self.scan_lane = TaskRunner("scans", threads=1, parent=self)
        self.writes = TaskRunner("writes", threads=1, parent=self)
        self.reads = TaskRunner("reads", threads=2, parent=self)
        self.roles = Roles(self.settings.auto_lock_min * 60, self)
        _application().installEventFilter(self.roles)  # any input keeps manager mode
        self.sounds = Sounds(lambda fn: self.reads.run(fn), QApplication.beep, self.settings.muted)

        self.scan_view = ScanView(self.core, self.roles, self.sounds, self.scan_lane, self.reads,
                                  self.writes)
        self.passes_view = PassesView(self.core, self.roles, self.reads, self.writes)
        self.scan_export = ScanExporter(self.core.store, self.roles, self.reads, self)
        self.activity_view = ActivityView(self.scan_export)
        self.stats_view = StatsView(self.core, self.reads)
        self.integrations_view = IntegrationsView(
            station.integrations, station.sync, self.core.store,
            self.roles, self.reads, self.writes)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.scan_view, "Scan")
        self.tabs.addTab(self.passes_view, "Passes")
        self.tabs.addTab(self.activity_view, "Activity")
        self.tabs.addTab(self.stats_view, "Stats")
        self.tabs.addTab(self.integrations_view, "Integrations")
        self.lists_view = ListsView(self.core, self.roles, self.reads, self.writes)
        self.tabs.addTab(self.lists_view, "Lists")

        self.station_label = ElidedLabel(self.core.ctx.station_name)  # a long name never widens
        self.station_label.setObjectName("sectionTitle")
        self.mute_button = QPushButton()
        self.mute_button.setCheckable(True)
        self.lock_button = QPushButton()
        self.settings_button = QPushButton("Settings…")
        header = QHBoxLayout()
        header.setContentsMargins(16, 10, 16, 0)
        header.addWidget(self.station_label, 1)
        header.addWidget(self.mute_button)
        header.addWidget(self.settings_button)
        header.addWidget(self.lock_button)
        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(header)
        column.addWidget(self.tabs, 1)
        self.message_banner = MessageBanner()
        column.addWidget(self.message_banner)
        self.setCentralWidget(body)
        self.status = StationStatusBar()
        self.setStatusBar(self.status)
        self.status.messageChanged.connect(self.message_banner.show_text)
        self.message_banner.dismissed.connect(self.status.clearMessage)

        self.bridge = EventBridge(self.core.bus.subscribe, self)
        self.bridge.events.connect(self._on_events)
        # Every scan reaches the person at the door, whatever view is open (see _show_at_door).
        self.overlay = VerdictOverlay(self)
        self.scan_view.set_reset_after(self.settings.verdict_reset_s)
        self.scan_view.door_panel.start(self.settings.door_list, self.settings.door_direction)
        self.scan_view.door_panel.changed.connect(self._door_changed)
        self.scan_view.pin_needed.connect(
            lambda note: self.ask_manager_pin(note, self.scan_view.admit_over_capacity))
        self.scan_view.verdict_shown.connect(self._show_at_door)
        self.roles.changed.connect(self._locked_to_door)
        self.kiosk = Kiosk(self)
        self.manager_pin = ManagerPin(self)
        self.kiosk.changed.connect(self._kiosk_changed)
        self.overlay.dismissed.connect(lambda: self._esc.setEnabled(self.kiosk.active))
        for view in (self.scan_view, self.passes_view, self.integrations_view, self.lists_view):
            view.message.connect(self.show_message)
        self.integrations_view.unlock_requested.connect(self.toggle_lock)
        self.scan_export.message.connect(self.show_message)
        self.roles.changed.connect(self._role_changed)
        self.mute_button.toggled.connect(self.set_muted)
        self.lock_button.clicked.connect(self.toggle_lock)
        self.settings_button.clicked.connect(self.open_settings)
        self._shortcut(QKeySequence("Ctrl+L"), self.toggle_lock)
        self._shortcut(QKeySequence("Ctrl+F"), self._focus_search)
        self._door_shortcuts()

        # Camera and handheld scanner share one debouncer, so a pass shown to both is one scan.
        self.capture = CaptureController(
            DebounceConfig(camera_cooldown_s=self.settings.camera_cooldown_s,
                           hid_cooldown_s=self.settings.hid_cooldown_s),
            decoder=self.settings.decoder, parent=self)
        self.capture.payload.connect(self.scan_view.submit)
        self.capture.frame.connect(self.scan_view.preview.set_frame)
        self.capture.status.connect(self._capture_status)
        self.wedge = KeyboardWedge(
            self, DebouncedSink(self.capture.debouncer, self.scan_view.submit), code_box=self.scan_view.entry,
            type_into={self.passes_view: self.passes_view.search, self.scan_view: self.scan_view.entry},
            pick=first_known_pass(self.reads, self.core.passes))
        _application().installEventFilter(self.wedge)
        self.camera_state: CaptureState = CaptureState.OFF

        self._closing = False
        self.mute_button.setChecked(self.settings.muted)
        self._sync_mute_text()
        self._role_changed(str(self.roles.role))
        self.status.set_camera(CaptureState.OFF)
        self._restore_geometry()
        # The API address and the sync state (parts of the station, when it runs them).
        self._net_timer = QTimer(self)
        self._net_timer.setInterval(2000)
        self._net_timer.timeout.connect(self.refresh_network_status)
        self._net_timer.start()
        self.refresh_network_status()

    # --- events -------------------------------------------------------------------------------
    def _on_events(self, events: list[Event]) -> None:
        self.activity_view.on_events(events)
        self.passes_view.on_events(events)
        self.scan_view.on_events(events)
        self.stats_view.on_events(events)
        self.lists_view.on_events(events)

    def show_message(self, text: str) -> None:
        """A view's message: kept by the status bar, shown in full by the banner above it."""
        self.status.showMessage(text, SHOWN_MS)

    def _focus_search(self) -> None:
        if self.kiosk.active:
            return
        self.tabs.setCurrentWidget(self.passes_view)
        self.passes_view.search.setFocus()

    # --- the door sees every scan -------------------------------------------------------------
    def _show_at_door(self, view: VerdictView) -> None:
        """In door mode the Scan view comes to the front; a manager busy elsewhere (another view,
        a dialog) gets the verdict as a large overlay for the card's display time."""
        if not self.roles.is_manager:
            self.tabs.setCurrentWidget(self.scan_view)
            if QApplication.activeModalWidget() is None:
                return
        elif self.tabs.currentWidget() is self.scan_view and QApplication.activeModalWidget() is None:
            return
        self.overlay.present(view, self.scan_view.reset_after_s)
        self._esc.setEnabled(True)

    def _locked_to_door(self, role: str) -> None:
        if not self.roles.is_manager:  # locked by hand or by the auto-lock: back to the door
            self.tabs.setCurrentWidget(self.scan_view)
            self.overlay.dismiss()

    def _shortcut(self, keys: QKeySequence, slot: Callable[[], object]) -> QShortcut:
        shortcut = QShortcut(keys, self)
        shortcut.activated.connect(slot)
        return shortcut

    def _door_shortcuts(self) -> None:
        self._shortcut(QKeySequence("Ctrl+Z"), self.undo_shortcut)
        for number in range(1, self.tabs.count() + 1):
            self._shortcut(QKeySequence(f"Ctrl+{number}"), partial(self.show_view, number - 1))
        self._shortcut(QKeySequence("F11"), self.toggle_fullscreen)
        # Esc is taken only while there is something to dismiss or leave: elsewhere it is the
        # widgets' own key.
        self._esc = self._shortcut(QKeySequence(Qt.Key.Key_Escape), self._escape)
        self._esc.setEnabled(False)

    def undo_shortcut(self) -> None:
        if self.scan_view.can_undo:
            self.scan_view.undo_last()
        else:
            self.show_message("Nothing to undo: no admission in the last two minutes.")

    def show_view(self, index: int) -> None:
        """Ctrl+1..5: the view at `index`; Integrations asks for manager mode as its tab does."""
        widget = self.tabs.widget(index)
        if widget is None or self.kiosk.active:  # kiosk: the Scan view only
            return
        if widget is self.integrations_view:
            self.open_integrations()
            return
        self.tabs.setCurrentWidget(widget)

    def toggle_fullscreen(self) -> None:
        if self.kiosk.active:
            self.kiosk.request_exit()
            return
        self.setWindowState(self.windowState() ^ Qt.WindowState.WindowFullScreen)

    def _escape(self) -> None:
        if self.overlay.isVisible():
            self.overlay.dismiss()
        elif self.kiosk.active:
            self.kiosk.request_exit()

    def _kiosk_changed(self, active: bool) -> None:
        self._esc.setEnabled(active)

    # --- API and sync -----------------------------------------------------------------------
    def open_integrations(self) -> bool:
        """Show the Integrations page; in door mode only a message (the page needs the PIN)."""
        if not self.roles.is_manager:
            self.show_message("Unlock manager mode to open Integrations.")
            return False
        self.tabs.setCurrentWidget(self.integrations_view)
        return True

    def refresh_network_status(self) -> None:
        api, sync, integrations = self.station.api, self.station.sync, self.station.integrations

        def work() -> tuple[str, SyncLine, str, bool]:
            if api is None:
                api_text = "API: off"
            elif api.address:
                api_text = f"API: {api.address}"
            else:
                api_text = f"API: not running ({api.error})" if api.error else "API: starting"
            # issue 5: "the GUI says so" when the sender disabled a subscription
            warning = disabled_warning(integrations.webhook_states()) if integrations is not None else ""
            state = sync.status() if sync is not None else None
            # Offline: syncing is on and the hub is out of reach (the counts are this door's).
            offline = state is not None and state.enabled and not state.connected
            return api_text, status_line(state), warning, offline

        self.reads.run(work, self._show_network_status, lambda exc: log.debug("network status: %s", exc))

    def _show_network_status(self, texts: tuple[str, SyncLine, str, bool]) -> None:
        api_text, sync_line, warning, offline = texts
        self.scan_view.door_panel.set_offline(offline)
        self.status.set_api(api_text)
        self.status.set_sync(sync_line.text, sync_line.alarm)
        self.status.set_webhook_warning(warning)

    # --- camera -------------------------------------------------------------------------------
    def start_capture(self, source: FrameSource | None) -> None:
        """Run the capture loop on `source` (None: no camera; scanner and keyboard only)."""
        if source is None:
            self.capture.stop()
            self._capture_status(CaptureStatus(state=CaptureState.OFF))
            return
        self.capture.start(source)

    def _capture_status(self, status: CaptureStatus) -> None:
        self.camera_state = status.state
        self.status.set_camera(status.state, status.fps, status.last_error)
        self.scan_view.preview.show_capture_state(status.state)

    # --- sound --------------------------------------------------------------------------------
    def set_muted(self, muted: bool) -> None:
        if self.sounds.muted == muted and self.settings.muted == muted:
            self._sync_mute_text()
            return
        self.sounds.muted = muted
        self.settings = replace(self.settings, muted=muted)
        self._save_settings(self.settings)
        self._sync_mute_text()

    def _sync_mute_text(self) -> None:
        self.mute_button.setText("Sound: off" if self.sounds.muted else "Sound: on")
        self.status.set_sound(self.sounds.muted, self.sounds.backend)

    # --- roles --------------------------------------------------------------------------------
    def _role_changed(self, role: str) -> None:
        manager = self.roles.is_manager
        self.lock_button.setText("Lock" if manager else "Manager…")
        self.lock_button.setToolTip("Back to door mode (Ctrl+L)" if manager
                                    else "Unlock manager actions with the PIN (Ctrl+L)")
        self.settings_button.setEnabled(manager)
        self.status.set_role(manager)

    def ask_pin(self, choosing: bool, note: str = "") -> str | None:
        """The PIN typed by the person, or None when cancelled (tests replace this)."""
        dialog = PinDialog(choosing, self, note)
        return dialog.value() if dialog.exec() == PinDialog.DialogCode.Accepted else None

    def toggle_lock(self) -> None:
        if self.kiosk.active:
            self.kiosk.request_exit()
        elif self.roles.is_manager:
            self.roles.lock()
            self.show_message("Locked: door mode.")
        else:
            self.manager_pin.unlock()

    def ask_manager_pin(self, note: str, on_ok: Callable[[], None]) -> None:
        """Ask for the existing PIN (see ManagerPin.confirm); run `on_ok` once it is verified."""
        self.manager_pin.confirm(note, on_ok)

    # --- settings -----------------------------------------------------------------------------
    def cameras(self) -> list[tuple[str, str]]:
        """The Settings camera list (runs on the reads lane: listing may open devices)."""
        if self.demo:  # the demo camera stands in for any camera (see _apply_camera)
            current = self.settings.camera if self.settings.camera != "none" else "0"
            return [(current, DEMO_CAMERA)]
        try:
            return camera_choices(self.settings.camera)
        except Exception:  # listing cameras must never keep the settings from opening
            log.warning("listing cameras failed", exc_info=True)
            return camera_choices(self.settings.camera, [])

    def ask_settings(self, dialog: SettingsDialog) -> bool:
        return dialog.exec() == SettingsDialog.DialogCode.Accepted

    def open_settings(self) -> None:
        if not self.roles.is_manager:
            self.show_message("Unlock manager mode to change the settings.")
            return
        self.reads.run(self.cameras, self._settings_with)

    def _settings_with(self, cameras: list[tuple[str, str]]) -> None:
        if not self.roles.is_manager:
            return  # locked while the cameras were listed
        dialog = SettingsDialog(self.core.ctx.station_name, self.settings, self.core.store.data_dir,
                                cameras, self)
        dialog.change_pin.clicked.connect(self.change_pin)
        if not self.ask_settings(dialog):
            return
        try:
            chosen = dialog.result_settings().checked()
        except StationError as exc:
            self.show_message(str(exc))
            return
        name = dialog.station_name() or self.core.ctx.station_name
        self.apply_settings(chosen, name, dialog.chosen_data_dir())

    def apply_settings(self, chosen: ui_settings.UiSettings, name: str, data_dir: Path | None = None) -> None:
        previous = self.settings
        self.settings = chosen
        self.roles.set_auto_lock(chosen.auto_lock_min * 60)
        self.scan_view.set_reset_after(chosen.verdict_reset_s)
        if chosen.kiosk and not previous.kiosk:
            self.kiosk.start()
        self.mute_button.setChecked(chosen.muted)
        self.sounds.muted = chosen.muted
        self._sync_mute_text()
        store = self.core.store

        def work() -> None:
            ui_settings.save(store, chosen)
            if name != self.core.ctx.station_name:
                store.set_setting("station_name", name[:80])

        def done(_r: object) -> None:
            self.station_label.setText(name)
            self.setWindowTitle(f"Station — {name}")
            self.show_message("Settings saved.")
            camera_changed = (previous.camera, previous.resolution, previous.decoder,
                              previous.camera_cooldown_s, previous.hid_cooldown_s) != (
                chosen.camera, chosen.resolution, chosen.decoder, chosen.camera_cooldown_s,
                chosen.hid_cooldown_s)
            if camera_changed:
                self._apply_camera(chosen)

        self.writes.run(work, done, self.manager_pin.error)
        if data_dir is not None and data_dir != self.core.store.data_dir:
            self.qsettings.setValue("data_dir", str(data_dir))
            self.show_message(f"The station will use {data_dir} from the next start.")

    def _apply_camera(self, chosen: ui_settings.UiSettings) -> None:
        """Restart capture with the chosen camera. In the demo the demo camera stands in for
        any camera (the demo passes exist only on its screen): "No camera" stops it, choosing
        a camera again brings it back."""
        if not self.demo:
            self.capture.apply(chosen, camera_source)
        elif chosen.camera == "none":
            self.capture.apply(chosen, lambda _s: None)
        else:
            passes = self.core.passes
            self.reads.run(lambda: demo_camera(passes),
                           lambda source: self.capture.apply(chosen, lambda _s: source),
                           lambda exc: self.show_message(f"The demo camera did not start: {exc}"))

    def _door_changed(self, list_id: str, direction: str) -> None:
        """This door's list and direction, kept with the station's settings."""
        self.settings = replace(self.settings, door_list=list_id, door_direction=direction)
        self._save_settings(self.settings)

    def _save_settings(self, chosen: ui_settings.UiSettings) -> None:
        store = self.core.store
        self.writes.run(lambda: ui_settings.save(store, chosen), None, self.manager_pin.error)

    def change_pin(self) -> None:
        self.manager_pin.change()

    # --- geometry and shutdown ----------------------------------------------------------------
    def _restore_geometry(self) -> None:
        geometry = self.qsettings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        tab = self.qsettings.value("window/tab")
        if tab is not None:
            try:
                self.tabs.setCurrentIndex(int(tab))
            except (TypeError, ValueError):
                pass

    def shutdown(self) -> None:
        """Stop everything this window started; safe to call twice."""
        if self._closing:
            return
        self._closing = True
        self.qsettings.setValue("window/geometry", self.saveGeometry())
        self.qsettings.setValue("window/tab", self.tabs.currentIndex())
        self.qsettings.sync()
        self._net_timer.stop()
        self.integrations_view.stop()
        self.capture.stop()
        self.wedge.stop()
        _application().removeEventFilter(self.wedge)
        self.bridge.close()
        self.scan_view.stop()
        self.roles.lock()
        _application().removeEventFilter(self.roles)
        for runner in (self.scan_lane, self.writes, self.reads):
            runner.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.kiosk.active and not self._closing:
            event.ignore()  # Alt+F4 or the close button: only the manager PIN ends kiosk mode
            self.kiosk.request_exit(self.close)
            return
        self.shutdown()
        super().closeEvent(event)
        self.closed.emit()


