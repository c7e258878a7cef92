"""Timestamps: ISO 8601 in UTC with milliseconds and a Z, as in the vendor's payloads."""

from __future__ import annotations

from datetime import UTC, datetime

from station.domain.errors import InvalidInput


def to_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def from_ms(ms: int) -> str:
    return to_iso(datetime.fromtimestamp(ms / 1000, UTC))


def parse_iso(text: str) -> datetime:
    """Parse a user- or peer-supplied time; naive times are taken as UTC."""
    raw = text.strip()
    if not raw or len(raw) > 40:
        raise InvalidInput(f"{text[:40]!r} is not a time; use ISO 8601 like 2026-06-01T18:00:00Z.")
    try:
        parsed = datetime.fromisoformat(raw.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{raw!r} is not a time; use ISO 8601 like 2026-06-01T18:00:00Z.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def normalize_iso(text: str | None) -> str | None:
    return None if text is None else to_iso(parse_iso(text))
