"""Request and response shapes of the API, with the vendor's camelCase field names.

Responses are declared precisely (nullable fields, enums) because integrations and the
OpenAPI document (checked by schemathesis in the tests) rely on them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from station.domain.events import VENDOR_EVENTS
from station.net.api import inputs as i

EventName = Literal["pass.created", "pass.scanned", "pass.status_changed", "client.created"]
assert set(EventName.__args__) == set(VENDOR_EVENTS)  # type: ignore[attr-defined]

PassStatusName = Literal["active", "used", "expired", "revoked"]
PassTypeName = Literal["single", "multi"]


class Strict(BaseModel):
    """Request bodies: a field this API does not know is an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


# --- requests --------------------------------------------------------------------------------
class PassCreate(Strict):
    # maxUses only with "type": "multi" (the service refuses it on a single-use pass).
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"properties": {"maxUses": {"type": "null"}}},
        {"required": ["type"], "properties": {"type": {"const": "multi"}}}]})

    name: i.RequiredText = Field(min_length=1, max_length=200, examples=["VIP Guest"])
    type: PassTypeName = "single"
    maxUses: i.MaxUses | None = Field(None, description="Multi-use passes only: a whole number.")
    validFrom: i.Time | None = Field(None, examples=["2026-06-01T18:00:00Z"],
                                     description="With a time zone; earlier than validUntil.")
    validUntil: i.Time | None = Field(None, examples=["2026-06-02T04:00:00Z"],
                                      description="With a time zone; later than validFrom.")
    clientId: i.Text | None = Field(None, max_length=64)
    email: i.Email | None = Field(None, description="Guest email, for search.")
    fields: i.Fields | None = None
    attention: i.Text | None = Field(None, max_length=200, examples=["Check ID — under 18"],
                                     description="A note the door shows with an accepted entry.")


class PassChange(Strict):
    attention: i.Text | None = Field(max_length=200, examples=["Check ID — under 18"],
                                     description="The note the door shows with an accepted "
                                                 "entry; null or empty clears it.")


class RevokeBody(Strict):
    reason: i.Text | None = Field(None, max_length=500)


class ScanCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["payload"], "properties": {"payload": {"type": "string"}}},
        {"required": ["code"], "properties": {"code": {"type": "string"}}}]})

    # A scanned text is at most payload.MAX_PAYLOAD_BYTES (4096) bytes of UTF-8: 1024
    # characters always fit.
    payload: i.RequiredText | None = Field(None, max_length=1024,
                                           description="The QR text (pass URL) or a pass code.")
    code: i.RequiredText | None = Field(None, max_length=1024, description="Alias of payload.")
    operator: i.Text | None = Field(None, max_length=100)
    list: i.RequiredText | None = Field(None, max_length=100,
                                        description="The door's check-in list (id or name).")
    direction: Literal["entry", "exit", "in", "out"] | None = Field(
        None, description="entry (default) or exit; in and out mean the same.")


class ClientCreate(Strict):
    name: i.RequiredText = Field(min_length=1, max_length=200)
    email: i.Email | None = None
    phone: i.Phone | None = None


class WebhookCreate(Strict):
    event: EventName
    targetUrl: i.TargetUrl = Field(examples=["https://hooks.zapier.com/hooks/catch/123/abc"],
                                   description="http:// or https://; private, loopback and "
                                               "link-local addresses only if this station allows "
                                               "their network.")


# --- responses -------------------------------------------------------------------------------
class ErrorOut(BaseModel):
    error: str = Field(description="A stable machine code, e.g. not_found, rate_limited.")
    message: str = Field(description="What happened and what to do, in one sentence.")
    details: list[dict[str, Any]] | None = None


class AttentionWhenSet(BaseModel):
    """`attention` is in the JSON only when there is a note: the vendor's shapes are unchanged
    for every pass and scan without one."""

    # No return annotation: pydantic would take it as the documented response shape.
    @model_serializer(mode="wrap")
    def _without_empty_attention(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        out: dict[str, Any] = handler(self)
        if out.get("attention", 0) is None:
            out.pop("attention")
        return out


class PassOut(AttentionWhenSet):
    id: str
    code: str
    name: str
    type: PassTypeName
    status: PassStatusName
    uses: int
    maxUses: int | None
    validFrom: str | None
    validUntil: str | None
    clientId: str | None
    fields: dict[str, str]
    publicUrl: str
    createdAt: str
    updatedAt: str
    provisional: bool
    conflicts: int
    attention: str | None = Field(None, description="The pass's note for the door; absent "
                                                    "when it has none.")


class PassPage(BaseModel):
    items: list[PassOut]
    nextCursor: str | None


class ScanOut(BaseModel):
    id: str
    passId: str | None
    stationId: str
    scannedAt: str
    verdict: Literal["accepted", "rejected"]
    reason: str | None
    source: str
    operator: str | None


class ScanPage(BaseModel):
    items: list[ScanOut]
    nextCursor: str | None


class VerdictOut(AttentionWhenSet):
    """The same shape as `station scan --json`."""

    verdict: Literal["accepted", "rejected"]
    reason: str | None
    message: str
    warning: str | None
    pass_: PassOut | None = Field(alias="pass")
    scan: ScanOut
    attention: str | None = Field(None, description="The pass's note for the door, on an "
                                                    "accepted entry; absent otherwise.")

    model_config = ConfigDict(populate_by_name=True)


class ClientOut(BaseModel):
    id: str
    name: str
    email: str | None
    phone: str | None
    createdAt: str


class ClientPage(BaseModel):
    items: list[ClientOut]
    nextCursor: str | None


class WebhookOut(BaseModel):
    id: str
    event: EventName
    targetUrl: str
    createdAt: str
    enabled: bool
    disabledReason: str | None
    disabledAt: str | None
    consecutiveFailures: int
    pending: int = 0
    succeeded: int = 0
    failed: int = 0


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret; shown only in this response.")


class WebhookList(BaseModel):
    items: list[WebhookOut]


class AttemptOut(BaseModel):
    deliveryId: str
    attemptedAt: str
    status: int | None
    durationMs: float
    response: str | None
    error: str | None


class DeliveryOut(BaseModel):
    id: str
    webhookId: str
    eventId: str
    event: str
    state: Literal["pending", "succeeded", "failed", "cancelled"] = Field(
        description="`cancelled`: its subscription was deleted before it was sent.")
    attempts: int
    createdAt: str
    lastStatus: int | None
    lastError: str | None
    log: list[AttemptOut] = []


class DeliveryList(BaseModel):
    items: list[DeliveryOut]


class TriggerItem(BaseModel):
    """The webhook payload shape; `id` is unique, for de-duplication (Zapier does)."""

    id: str
    event: EventName
    timestamp: str
    data: dict[str, Any]


class SyncPeerOut(BaseModel):
    stationId: str
    name: str | None
    seenAt: str | None
    lag: int = Field(description="Events of that station not yet applied here.")


class SyncStatusOut(BaseModel):
    enabled: bool = Field(description="False when this station syncs with no hub.")
    hub: str | None = Field(None, description="host:port of the hub (never its password); null "
                                            "while `--sync auto` is still looking for it.")
    connected: bool = False
    inSync: bool = False
    pending: int = Field(0, description="Events recorded here and not yet acknowledged by the hub.")
    lastSyncAt: str | None = None
    lastSyncAgoS: float | None = None
    unreachableForS: float | None = None
    alarm: bool = Field(False, description="True when the hub has been unreachable for over a minute.")
    refused: bool = Field(False, description="True when this station will not sync with the hub "
                                             "because it serves another organisation (see error).")
    error: str | None = Field(None, description="What went wrong and what to do, in words.")
    peers: list[SyncPeerOut] = []
    stateDigest: str = Field(description="Hash of the folded pass state; equal on stations holding "
                                         "the same events.")


class Health(BaseModel):
    status: Literal["ok"]
    stationId: str
    version: str


class MeKey(BaseModel):
    id: str
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it.")


class MeStation(BaseModel):
    id: str
    name: str


class MeOrganisation(BaseModel):
    id: str
    name: str | None = Field(description="Organisations have no name yet: always null for now.")


class MeOut(BaseModel):
    key: MeKey
    station: MeStation
    organisation: MeOrganisation
