"""Create or edit a check-in list (manager only): name, pass types, one field value, re-entry,
capacity, the daily check-out time, confirming notes, and the entry rules as JSON (the API's
format, docs/checkin-lists.md). OK checks the whole list with the domain's own validation
(pure, no disk) and shows its one sentence; nothing is saved until it passes."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLineEdit, QPlainTextEdit, QWidget

from station.domain.checkin_list import CheckinList, parse_checkin_list, with_changes
from station.domain.errors import InvalidInput
from station.ui.checked_dialog import CheckedFormDialog

RULES_HINT = '[{"rule": "entriesPerDay", "max": 1}]'


def _whole_or_text(text: str) -> Any:
    """An int when the text is one, else the text itself (the domain says what is wrong)."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


class ListDialog(CheckedFormDialog):
    def __init__(self, current: CheckinList | None = None, parent: QWidget | None = None) -> None:
        super().__init__("Edit list" if current else "New list", parent)
        self.current = current
        self.name = QLineEdit()
        self.single = QCheckBox("Single entry")
        self.multi = QCheckBox("Multi-use")
        self.field = QLineEdit()
        self.field.setPlaceholderText("e.g. tier=vip (empty: any)")
        self.reentry = QCheckBox("Guests may leave and come back")
        self.capacity = QLineEdit()
        self.capacity.setPlaceholderText("empty: no limit")
        self.checkout_at = QLineEdit()
        self.checkout_at.setPlaceholderText("HH:MM, everyone out daily (empty: never)")
        self.confirm_attention = QCheckBox("The door confirms a pass's note before it counts")
        self.rules = QPlainTextEdit()
        self.rules.setPlaceholderText(f"Entry rules as JSON, e.g. {RULES_HINT}")
        self.rules.setFixedHeight(90)
        types = QHBoxLayout()
        types.addWidget(self.single)
        types.addWidget(self.multi)
        types.addStretch()
        form = self.form
        form.addRow("Name", self.name)
        form.addRow("Pass types", types)
        form.addRow("Field value", self.field)
        form.addRow("Re-entry", self.reentry)
        form.addRow("Capacity", self.capacity)
        form.addRow("Check-out at", self.checkout_at)
        form.addRow("Notes", self.confirm_attention)
        form.addRow("Rules", self.rules)
        self.add_buttons()
        if current is not None:
            self._fill(current)

    def _fill(self, lst: CheckinList) -> None:
        self.name.setText(lst.name)
        self.single.setChecked("single" in lst.types)
        self.multi.setChecked("multi" in lst.types)
        self.field.setText(", ".join(f"{k}={v}" for k, v in lst.fields.items()))
        self.reentry.setChecked(lst.reentry)
        self.capacity.setText("" if lst.capacity is None else str(lst.capacity))
        self.checkout_at.setText(lst.checkout_at or "")
        self.confirm_attention.setChecked(lst.confirm_attention)
        data = self.current.to_json()["rules"] if self.current else []
        self.rules.setPlainText(json.dumps(data) if data else "")

    def body(self) -> dict[str, Any]:
        """The list as the API's JSON; raises InvalidInput for what is not even JSON."""
        fields: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in self.field.text().split(","))):
            key, sep, value = part.partition("=")
            if not sep:
                raise InvalidInput(f"Field value {part!r} needs the form key=value, e.g. tier=vip.")
            fields[key.strip()] = value.strip()
        text = self.rules.toPlainText().strip()
        try:
            rules = json.loads(text) if text else []
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"Rules are not valid JSON ({exc.msg} at line {exc.lineno}, column "
                               f"{exc.colno}); write a list like {RULES_HINT}.") from None
        return {
            "name": self.name.text().strip(),
            "types": [t for t, box in (("single", self.single), ("multi", self.multi))
                      if box.isChecked()],
            "fields": fields,
            "reentry": self.reentry.isChecked(),
            "capacity": _whole_or_text(self.capacity.text()),
            "checkoutAt": self.checkout_at.text().strip() or None,
            "confirmAttention": self.confirm_attention.isChecked(),
            "rules": rules,
        }

    def changes(self) -> dict[str, Any]:
        """A new list's whole body; an edit's changed keys only (an edit made at another door
        to another key stays)."""
        body = self.body()
        if self.current is None:
            return body
        before = self.current.to_json()
        return {k: v for k, v in body.items() if before.get(k) != v}

    def check(self) -> None:
        changes = self.changes()
        if self.current is None:
            parse_checkin_list(changes, default_id="lst_check")
        else:
            with_changes(self.current, changes)
