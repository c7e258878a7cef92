"""The send-time address check: every address a name resolves to is checked, and the
connection goes to a checked address (so DNS rebinding cannot swap it)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpcore
import pytest

from station.net.targets import AddressPolicy, GuardedBackend, TargetRefused


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Stands in for the socket layer: records where it was asked to connect."""

    def __init__(self) -> None:
        self.connected: list[str] = []

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        self.connected.append(host)
        return httpcore.AsyncMockStream([])

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def resolver(*addresses: str):
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)
    return resolve


@pytest.mark.parametrize("carrier", ["::127.0.0.1", "::ffff:127.0.0.1", "64:ff9b::7f00:1",
                                     "64:ff9b::a9fe:a9fe", "64:ff9b:1::7f00:1", "2002:7f00:1::",
                                     "2001:0:4136:e378:8000:63bf:80ff:fffe"])
def test_a_name_resolving_to_an_ipv6_form_of_a_private_address_is_refused(carrier: str) -> None:
    inner = RecordingBackend()
    backend = GuardedBackend(AddressPolicy(), inner, resolve=resolver("93.184.215.14", carrier))
    with pytest.raises(TargetRefused, match="carries the IPv4 address"):
        asyncio.run(backend.connect_tcp("hooks.example.com", 443))
    assert inner.connected == []  # not even the public address: the name is not trusted


def test_an_ipv6_form_of_a_public_address_is_connected_to_as_checked() -> None:
    inner = RecordingBackend()
    backend = GuardedBackend(AddressPolicy(), inner, resolve=resolver("64:ff9b::5db8:d70e"))
    asyncio.run(backend.connect_tcp("hooks.example.com", 443))
    assert inner.connected == ["64:ff9b::5db8:d70e"]


def test_an_allowed_network_permits_what_its_ipv6_forms_carry() -> None:
    policy = AddressPolicy.of(["127.0.0.0/8"])
    assert policy.permits("64:ff9b::7f00:1") and policy.permits("2002:7f00:1::")
    assert not policy.permits("64:ff9b::a9fe:a9fe")
