"""What the verdict card shows for a scan result: a word, an icon, a colour and two lines.

Pure Python (no Qt) so the wording is tested without a window. Never colour alone: every kind
has its own word and icon shape (a tick, a cross, an exclamation mark)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from station.domain.errors import InvalidInput
from station.domain.models import REASON_TEXT, PassType
from station.domain.times import parse_iso


class Kind(StrEnum):
    IDLE = "idle"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    WARNING = "warning"
    UNDONE = "undone"
    ERROR = "error"
    NOT_RECORDED = "not_recorded"  # the scan could not be written (disk full): no verdict
    ATTENTION = "attention"  # accepted, and the pass has a note for the door: the note is big
    AWAITING = "awaiting"  # the list asks the door to confirm the note: nothing recorded yet


# Background colours chosen for white text at WCAG AA (>= 4.5:1) and for telling apart with
# the commonest colour blindness; the icon and the word carry the meaning anyway.
COLOURS: dict[Kind, str] = {
    Kind.IDLE: "#374151",
    Kind.ACCEPTED: "#15803d",
    Kind.REFUSED: "#b91c1c",
    Kind.WARNING: "#b45309",
    Kind.UNDONE: "#4b5563",
    Kind.ERROR: "#6b21a8",
    Kind.NOT_RECORDED: "#b91c1c",
    Kind.ATTENTION: "#1d4ed8",
    Kind.AWAITING: "#0e7490",
}

WORDS: dict[Kind, str] = {
    Kind.IDLE: "READY",
    Kind.ACCEPTED: "ACCEPTED",
    Kind.REFUSED: "REFUSED",
    Kind.WARNING: "ACCEPTED",
    Kind.UNDONE: "UNDONE",
    Kind.ERROR: "NOT A PASS",
    Kind.NOT_RECORDED: "NOT RECORDED",
    Kind.ATTENTION: "ATTENTION",
    Kind.AWAITING: "CONFIRM?",
}


@dataclass(frozen=True, slots=True)
class VerdictView:
    kind: Kind
    title: str  # the guest's name, or the refusal in words
    detail: str  # "Single entry", "Already used at Door 2 at 19:03"
    note: str = ""  # warnings: "That was the last use of this pass."
    scan_id: str | None = None
    scanned_at: str = ""  # ISO time of the scan; shown in local time so each verdict is visibly new
    repeat: int = 1  # scans in a row of the same code, this one included
    code: str = ""  # what identifies "the same code" for the repeat counter

    @property
    def stamp(self) -> str:
        """"19:03:12 · 2nd scan in a row": when, and whether the same pass came again."""
        parts = [local_time(self.scanned_at)] if self.scanned_at else []
        if self.repeat > 1:
            parts.append(f"{ordinal(self.repeat)} scan in a row")
        return " · ".join(p for p in parts if p)

    @property
    def word(self) -> str:
        return WORDS[self.kind]

    @property
    def colour(self) -> str:
        return COLOURS[self.kind]


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def local_time(iso: str) -> str:
    try:
        return parse_iso(iso).astimezone().strftime("%H:%M:%S")
    except InvalidInput:
        return ""


MAX_CODE_SHOWN = 40


def _shown_code(payload: str) -> str:
    """The scanned text as the card shows it for a code that names no pass: two different unknown
    codes in a row must not look alike."""
    text = payload.strip()
    return text if len(text) <= MAX_CODE_SHOWN else text[:MAX_CODE_SHOWN - 1] + "…"


IDLE = VerdictView(Kind.IDLE, "Show a pass to the camera", "or scan it with the handheld scanner")


def _pass_line(p: object) -> str:
    kind = getattr(p, "type", None)
    if kind is PassType.SINGLE:
        return "Single entry"
    left = p.uses_left() if hasattr(p, "uses_left") else None
    if left is None:
        return f"Multi-use · {getattr(p, 'uses', 0)} used"
    return f"Multi-use · {left} use{'s' if left != 1 else ''} left"


def from_result(result: object) -> VerdictView:
    """A ScanResult (station.services.scans) as the card shows it."""
    scan = getattr(result, "scan")
    p = getattr(result, "pass_")
    warning = getattr(result, "warning")
    attention = getattr(result, "attention", None)
    if getattr(result, "awaiting", False):
        name = (p.name if p and p.name else "Guest")
        return VerdictView(Kind.AWAITING, attention or "", f"{name}: Confirm to admit, or Turn away",
                           code=p.id if p else "")
    if getattr(result, "accepted"):
        name = (p.name if p and p.name else "Guest")
        detail = _pass_line(p) if p else ""
        fields = getattr(p, "fields", {}) or {}
        if fields.get("ticket"):
            detail = f"{fields['ticket']} · {detail}"
        note = warning or ("Conflict: admitted elsewhere while offline." if p and p.conflicts else "")
        if attention:  # the note is what the door must read: the headline, the name under it
            return VerdictView(Kind.ATTENTION, attention, f"Admitted: {name} · {detail}", note,
                               scan.id, scan.scanned_at, code=p.id if p else "")
        kind = Kind.WARNING if warning or (p and p.conflicts) else Kind.ACCEPTED
        return VerdictView(kind, name, detail, note, scan.id, scan.scanned_at, code=p.id if p else "")
    reason = getattr(result, "reason")
    # The sentence is the headline ("Already used at Door 2 at 19:03"); the name comes second.
    title = getattr(result, "message") or (REASON_TEXT.get(reason, "Refused") if reason else "Refused")
    payload = str(getattr(scan, "payload", "") or "")
    if p is not None:
        detail = p.name or ""
    else:
        detail = f"Scanned: {_shown_code(payload)}" if payload.strip() else ""
    return VerdictView(Kind.REFUSED, title, detail, "", scan.id, scan.scanned_at,
                       code=p.id if p else payload)


def undone(name: str) -> VerdictView:
    return VerdictView(Kind.UNDONE, "Admission taken back", f"{name}: the pass can be used again")


def not_a_pass(message: str) -> VerdictView:
    return VerdictView(Kind.ERROR, "Not a pass", message)


def not_recorded(message: str) -> VerdictView:
    """The scan was not written, so there is no verdict: red, and the sentence says nobody was
    admitted and what to do."""
    return VerdictView(Kind.NOT_RECORDED, message, "")
