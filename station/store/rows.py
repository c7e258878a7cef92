"""Conversions between SQLite rows and domain values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from station.domain.events import Event
from station.domain.models import Client, Pass, PassStatus, PassType, Scan, Verdict


def pass_from_row(row: dict[str, Any]) -> Pass:
    return Pass(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        type=PassType(row["type"]),
        status=PassStatus(row["status"]),
        uses=row["uses"],
        max_uses=row["max_uses"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        client_id=row["client_id"],
        fields=json.loads(row["fields"] or "{}"),
        public_url=row["public_url"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        provisional=bool(row["provisional"]),
        conflicts=row["conflicts"],
        attention=row.get("attention"),
    )


PASS_COLUMNS: tuple[str, ...] = (
    "id", "code", "name", "type", "status", "uses", "max_uses", "valid_from", "valid_until",
    "client_id", "email", "fields", "public_url", "created_at", "updated_at", "provisional",
    "conflicts", "attention",
)
PASS_EMAIL = PASS_COLUMNS.index("email")
PASS_CLIENT = PASS_COLUMNS.index("client_id")


def pass_values(p: Pass, email: str | None) -> tuple[Any, ...]:
    """A pass as the values of a `passes` row, in PASS_COLUMNS order."""
    return (
        p.id, p.code, p.name, str(p.type), str(p.status), p.uses, p.max_uses, p.valid_from,
        p.valid_until, p.client_id, email, json.dumps(p.fields, sort_keys=True), p.public_url,
        p.created_at, p.updated_at, int(p.provisional), p.conflicts, p.attention,
    )


def scan_movement(scan: Mapping[str, Any]) -> tuple[str, str | None, int]:
    """The scans row's (direction, list_id, reentry) from the `scan` keys of its event (a door
    with no list writes none of them: an entry, as every scan before exits existed)."""
    return (str(scan.get("direction") or "entry"), scan.get("list") or None,
            int(bool(scan.get("reentry"))))


def client_from_row(row: dict[str, Any]) -> Client:
    return Client(
        id=row["id"], name=row["name"], email=row["email"], phone=row["phone"],
        created_at=row["created_at"],
    )


def scan_from_row(row: dict[str, Any]) -> Scan:
    return Scan(
        id=row["id"],
        pass_id=row["pass_id"],
        station_id=row["station_id"],
        scanned_at=row["scanned_at"],
        verdict=Verdict(row["verdict"]),
        reason=row["reason"],
        source=row["source"],
        operator=row["operator"],
        payload=row["payload"],
    )


def event_from_row(row: dict[str, Any]) -> Event:
    return Event(
        id=row["id"],
        type=row["type"],
        timestamp=row["timestamp"],
        data=json.loads(row["data"]),
        origin=row["origin"],
        origin_seq=row["origin_seq"],
        hlc=row["hlc"],
        pass_id=row["pass_id"],
    )
