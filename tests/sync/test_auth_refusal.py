"""A hub refusing the credentials is recognised by the error nats-py raises (its type and the
server's -ERR line), not by looking for a word in any error's text: real nats-server."""

from __future__ import annotations

import asyncio

import nats
import nats.errors
import pytest

from station.net.sync.auth import is_auth_refusal
from station.net.sync.hub import HubServer
from station.net.sync.hub_tls import connect_hub
from station.net.sync.url import SyncTarget


async def _connect_error(target: SyncTarget) -> BaseException:
    seen: list[BaseException] = []

    async def on_error(exc: Exception) -> None:
        seen.append(exc)

    with pytest.raises(Exception) as raised:
        await connect_hub(target, allow_reconnect=False, connect_timeout=10, error_cb=on_error)
    # What the sync client's error callback is given is what nats-py raises here.
    assert seen and seen[0] is raised.value
    return raised.value


def test_a_wrong_password_is_a_refusal(hub: HubServer) -> None:
    exc = asyncio.run(_connect_error(hub.target.with_password("not-the-password")))
    assert is_auth_refusal(exc), repr(exc)


def test_other_errors_are_not_a_refusal() -> None:
    assert not is_auth_refusal(ConnectionRefusedError(111, "Connect call failed"))
    assert not is_auth_refusal(nats.errors.NoServersError())
    # Text that merely mentions authorization is not the server refusing us.
    assert not is_auth_refusal(OSError("proxy authorization required"))
    assert not is_auth_refusal(nats.errors.Error("nats: 'Permissions Violation for Publish'"))
    assert is_auth_refusal(nats.errors.AuthorizationError())
