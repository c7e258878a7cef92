"""Webhook signatures: the vendor's header and the Standard Webhooks headers.

- `X-PassEngine-Signature`: hex HMAC-SHA256 of the exact body bytes, keyed with the
  subscription secret as shown to the user (its UTF-8 bytes), as the vendor documents.
- `webhook-id`, `webhook-timestamp`, `webhook-signature` (Standard Webhooks v1): base64
  HMAC-SHA256 of `"{id}.{timestamp}.{body}"`, keyed with the base64-decoded part of the
  `whsec_…` secret. The id is the event id, the same on every retry, so receivers can drop
  duplicates; the timestamp lets them refuse replays.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def passengine_signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    to_sign = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, to_sign, hashlib.sha256).digest()).decode("ascii")


def headers(secret: str, *, event_id: str, event_type: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": "Station-Webhooks/1",
        "x-passengine-signature": passengine_signature(secret, body),
        "x-2pass-event": event_type,
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(secret, event_id, timestamp, body),
    }
