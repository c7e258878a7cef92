"""The Sync section of the Integrations page (issue 6): the hub, whether this station is
connected and in sync, what is pending, the history download, the other stations with their
lag, the state digest; and the settings to join a hub or host the venue hub (applied at the
next start)."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox, QFormLayout, QFrame, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
    QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from station.domain.errors import StationError
from station.domain.sync_status import SyncStatus
from station.net.sync.setup import SYNC_URL_SETTING, Hosting, save_choice, saved_hosting
from station.store.db import Store
from station.store.secrets import SecretStore
from station.ui.hub_stations_view import HubStationsView
from station.ui.rich_text import rich, set_rich
from station.ui.ports import SyncPart
from station.ui.sync_format import ago, short_digest, status_line
from station.ui.webhooks_view import fill_row, table
from station.ui.workers import TaskRunner

log = logging.getLogger(__name__)

PEER_COLUMNS = ("Station", "Station id", "Last seen", "Lag (events)")
ALONE = ("This station works alone; to share scans with another door, join a hub or host one "
         "with the settings on the right, then restart the station.")


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


class SyncView(QWidget):
    message = Signal(str)
    refreshed = Signal()  # the status was shown
    settings_loaded = Signal()

    def __init__(self, sync: SyncPart | None, store: Store, reads: TaskRunner, writes: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._sync = sync
        self._store = store
        self._reads = reads
        self._writes = writes
        self.state: SyncStatus | None = None
        self._reading = False  # a status read is running on the reads lane

        self.summary = QLabel("")
        self.summary.setObjectName("sectionTitle")
        self.hub = QLabel("–")
        self.connected = QLabel("–")
        self.in_sync = QLabel("–")
        self.pending = QLabel("–")
        self.last_sync = QLabel("–")
        self.digest = QLabel("–")
        self.error = QLabel("")
        self.error.setStyleSheet("color: #b91c1c")
        self.error.setWordWrap(True)
        # A station that is not set up for sync is not at fault: a plain note, never red.
        self.alone = QLabel("")
        self.alone.setObjectName("muted")
        self.alone.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setFormat("Downloading the history: %v of %m events")
        self.progress.setVisible(False)
        facts = QFormLayout()
        facts.addRow("Hub", self.hub)
        facts.addRow("Connected", self.connected)
        facts.addRow("In sync", self.in_sync)
        facts.addRow("Pending (to send)", self.pending)
        facts.addRow("Last sync", self.last_sync)
        facts.addRow("State digest", self.digest)
        self.peers = table(PEER_COLUMNS, 0)
        # Another door joins with the hub URL including its password; only a manager sees this
        # page, and the URL goes to the clipboard rather than onto the screen.
        self.copy_join = QPushButton("Copy the join URL for another door")
        self.copy_join.setToolTip(rich("tls://enrol:secret@host:port#sha256=… — paste it into the "
                                       "other door's Sync settings, or pass it to `station gui "
                                       "--sync`. The part after # is the hub certificate's "
                                       "fingerprint: the door talks to no other server."))
        # Only the hub's join URL: an enrolled door's own credential never leaves it.
        self.copy_join.setEnabled(sync is not None and sync.join_url() is not None)
        self.copy_join.clicked.connect(self.copy_join_url)

        # Settings, applied at the next start.
        self.url = QLineEdit()
        self.url.setPlaceholderText("the hub's join URL, tls://user:password@hub-host:4222#sha256=… "
                                    "(empty: do not join a hub)")
        self.host_hub = QCheckBox("This station hosts the venue hub")
        # Short enough to sit beside the status panel on an 800 px window (a checkbox's text
        # never wraps); the whole sentence is its tooltip.
        self.hub_lan = QCheckBox("Open the hub to the local network")
        self.hub_lan.setToolTip("Let other computers on the local network reach the hub")
        self.hub_port = QSpinBox()
        self.hub_port.setRange(1, 65535)
        self.hub_port.setValue(4222)
        self.save = QPushButton("Save sync settings")
        self.save.setObjectName("primary")
        self.settings_error = QLabel("")
        self.settings_error.setStyleSheet("color: #b91c1c")
        self.settings_error.setWordWrap(True)
        restart = QLabel("Sync settings apply when the station starts next: restart it after saving. "
                         "The password is kept in the system keyring, never in the database.")
        restart.setObjectName("muted")
        restart.setWordWrap(True)
        box = QGroupBox("Sync settings")
        form = QFormLayout(box)
        form.addRow("Join the hub at", self.url)
        form.addRow(self.host_hub)
        form.addRow(self.hub_lan)
        form.addRow("Hub port", self.hub_port)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save)
        buttons.addStretch()
        form.addRow(buttons)
        form.addRow(restart)
        form.addRow(self.settings_error)

        status = QFrame()
        status.setObjectName("panel")
        status_column = QVBoxLayout(status)
        status_column.addWidget(self.summary)
        status_column.addLayout(facts)
        status_column.addWidget(self.progress)
        status_column.addWidget(self.error)
        status_column.addWidget(self.alone)
        status_column.addWidget(self.copy_join)
        status_column.addWidget(QLabel("Connected stations"))
        status_column.addWidget(self.peers, 1)
        right = QVBoxLayout()
        right.addWidget(box)
        # On the door that hosts the hub: its enrolled doors, removal, a new join URL.
        admin = sync.hub_admin if sync is not None else None
        self.stations = HubStationsView(admin, writes) if admin is not None else None
        if self.stations is not None:
            self.stations.message.connect(self.message)
            right.addWidget(self.stations, 1)
        row = QHBoxLayout(self)
        row.addWidget(status, 3)
        row.addLayout(right, 2)
        self.host_hub.toggled.connect(self._hosting_toggled)
        self.save.clicked.connect(self.save_settings)
        self._hosting_toggled(False)

    def copy_join_url(self) -> None:
        url = self._sync.join_url() if self._sync is not None else None
        if url is not None:
            QGuiApplication.clipboard().setText(url)

    # --- status -----------------------------------------------------------------------------
    def refresh(self) -> None:
        sync = self._sync
        if sync is None:
            self._show(None)
            return
        if self._reading:
            return  # the last read is still running (a digest takes seconds at 1M passes)
        self._reading = True
        # The digest reads every pass row: asked for only while this section is on screen, one
        # read at a time, off the GUI thread; the status bar's status() never computes it.
        with_digest = self.isVisible()

        def read() -> tuple[SyncStatus, str | None]:
            return sync.status(), sync.state_digest() if with_digest else None

        self._reads.run(read, self._read_done, self._read_failed)

    def _read_done(self, shown: tuple[SyncStatus, str | None]) -> None:
        self._reading = False
        self._show(*shown)

    def _read_failed(self, exc: BaseException) -> None:
        self._reading = False
        log.warning("sync status: %s", exc)

    def _show(self, state: SyncStatus | None, digest: str | None = None) -> None:
        self.state = state
        if state is None:
            self.summary.setText("Works alone")
            self.summary.setStyleSheet("")
            for label in (self.hub, self.connected, self.in_sync, self.pending, self.last_sync, self.digest):
                label.setText("–")
            self.error.setText("")
            self.alone.setText(ALONE)
            self.progress.setVisible(False)
            self.peers.setRowCount(0)
            self.refreshed.emit()
            return
        self.alone.setText("")
        # The migration note once: its sentence below when nothing else is said there.
        sentence = state.error or state.trust_note or ""
        line = status_line(state, with_note=not (state.trust_note and not state.error))
        self.summary.setText(line.text.removeprefix("Sync: "))
        self.summary.setStyleSheet("color: #b91c1c" if line.alarm else "")
        self.hub.setText(f"{state.hub}  ({state.url})" if state.hub
                         else "looking on the LAN (--sync auto)")
        self.connected.setText(yes_no(state.connected))
        self.in_sync.setText(yes_no(state.in_sync))
        self.pending.setText(str(state.pending))
        last = state.last_sync_at
        self.last_sync.setText(f"{last[:19].replace('T', ' ')} ({ago(state.last_sync_ago_s)})"
                               if last else "never")
        if digest is not None:  # None: not read this time (the section was hidden)
            self.digest.setText(short_digest(digest))
            self.digest.setToolTip(digest)
        set_rich(self.error, sentence)
        catch = state.catch_up
        self.progress.setVisible(catch.remaining > 0)
        if catch.remaining > 0:
            self.progress.setRange(0, max(catch.total, 1))
            self.progress.setValue(catch.done)
        self.peers.setRowCount(len(state.peers))
        for r, peer in enumerate(state.peers):
            fill_row(self.peers, r, (peer.name or "?", peer.station_id,
                                     (peer.seen_at or "")[:19].replace("T", " "), str(peer.lag)))
        self.refreshed.emit()

    # --- settings ---------------------------------------------------------------------------
    def _hosting_toggled(self, on: bool) -> None:
        self.hub_lan.setEnabled(on)
        self.hub_port.setEnabled(on)

    def load_settings(self) -> None:
        store = self._store
        self._reads.run(lambda: (store.setting(SYNC_URL_SETTING), saved_hosting(store)),
                        self._show_settings, lambda exc: log.warning("sync settings: %s", exc))

    def _show_settings(self, result: tuple[str | None, Hosting]) -> None:
        url, hosting = result
        self.url.setText(url or "")
        self.host_hub.setChecked(hosting.enabled)
        self.hub_lan.setChecked(hosting.lan)
        self.hub_port.setValue(hosting.port)
        self.settings_error.setText("")
        self.settings_loaded.emit()

    def chosen(self) -> tuple[str, Hosting]:
        return self.url.text().strip(), Hosting(self.host_hub.isChecked(), self.hub_lan.isChecked(),
                                                self.hub_port.value())

    def save_settings(self) -> None:
        url, hosting = self.chosen()
        store = self._store

        def work() -> Any:
            secrets = SecretStore(store.data_dir, str(store.setting("org_id")))
            return save_choice(store, secrets, url, hosting)

        def saved(target: Any) -> None:
            self.settings_error.setText("")
            # Only the public form is shown again: the password went to the keyring.
            self.url.setText(target.public_url() if target is not None else "")
            self.message.emit("Sync settings saved; restart the station to apply them.")

        def refused(exc: BaseException) -> None:
            set_rich(self.settings_error, str(exc) if isinstance(exc, StationError) else f"Not saved: {exc}")
            if not isinstance(exc, StationError):
                log.error("saving sync settings failed", exc_info=exc)

        self._writes.run(work, saved, refused)
