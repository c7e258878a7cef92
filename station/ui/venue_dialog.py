"""The venue's time zone and daily check-out of everyone (manager only), as `station venue set`
sets them. OK checks both with the service's own checks (no disk) and shows the one sentence;
nothing is saved until they pass. Empty fields mean this machine's zone and no check-out."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLineEdit, QWidget

from station.services.venue import Venue, check_checkout_at, check_timezone
from station.ui.checked_dialog import CheckedFormDialog


class VenueDialog(CheckedFormDialog):
    def __init__(self, current: Venue, parent: QWidget | None = None) -> None:
        super().__init__("Venue", parent)
        self.current = current
        self.timezone = QLineEdit(current.timezone or "")
        self.timezone.setPlaceholderText("e.g. Europe/Berlin (empty: this computer's zone)")
        self.checkout_at = QLineEdit(current.checkout_at or "")
        self.checkout_at.setPlaceholderText("HH:MM, everyone out daily (empty: never)")
        self.form.addRow("Time zone", self.timezone)
        self.form.addRow("Everyone out at", self.checkout_at)
        self.add_buttons()

    def changes(self) -> dict[str, Any]:
        """The settings changed, checked; raises InvalidInput with the one sentence."""
        zone = check_timezone(self.timezone.text().strip() or None, "Time zone")
        at = check_checkout_at(self.checkout_at.text().strip() or None, "Everyone out at")
        return {k: v for k, v, was in (("timezone", zone, self.current.timezone),
                                       ("checkoutAt", at, self.current.checkout_at)) if v != was}

    def check(self) -> None:
        self.changes()
