"""Telling a hub's refusal of this station's credentials from other connection errors."""

from __future__ import annotations

import nats.errors
from nats.protocol.parser import AUTHORIZATION_VIOLATION


def is_auth_refusal(exc: BaseException) -> bool:
    """True when the hub refused the user or password (not an outage: retrying will not help).

    On an established connection nats-py raises `AuthorizationError` for the server's
    `-ERR 'Authorization Violation'`. While connecting it does not (nats-py 2.x, see the FIXME in
    `Client._process_connect_init`): it raises the base `nats.errors.Error` carrying the
    server's -ERR line, so that one type is recognised by nats-py's own protocol constant."""
    if isinstance(exc, nats.errors.AuthorizationError):
        return True
    return type(exc) is nats.errors.Error and AUTHORIZATION_VIOLATION in str(exc).lower()
