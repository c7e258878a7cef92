"""Where webhooks may go: URL checks at subscribe time, address checks at connect time.

A station usually talks to public services (Zapier, Slack). Private, loopback and link-local
targets could reach the venue's router or this machine's own services (SSRF), so they are
refused unless the user allowed that network (`--allow-webhook-network CIDR`, or the GUI
setting). Names are checked again when a request connects, against every address the name
resolves to, and the connection goes to the address that was checked (no DNS rebinding).
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx

from station.domain.errors import InvalidInput

MAX_URL_LENGTH = 2048

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(cidrs: Iterable[str]) -> tuple[IPNetwork, ...]:
    networks: list[IPNetwork] = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(str(cidr).strip(), strict=False))
        except ValueError:
            raise InvalidInput(f"{str(cidr)[:60]!r} is not a network; write it like 192.168.1.0/24.") from None
    return tuple(networks)


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses are allowed; others only inside an allowed network."""

    allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def of(cls, cidrs: Iterable[str]) -> AddressPolicy:
        return cls(parse_networks(cidrs))

    def permits(self, address: str | IPAddress) -> bool:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if any(ip.version == net.version and ip in net for net in self.allowed):
            return True
        return ip.is_global and not ip.is_multicast

    def refusal(self, address: str) -> str:
        return (f"Webhook target address {address} is private, loopback or link-local; allow its "
                f"network with --allow-webhook-network or in Settings to use it.")


def check_target_url(url: Any, policy: AddressPolicy, *, resolve: bool = True) -> str:
    """Return the URL if it may be a webhook target; raise InvalidInput saying why not."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput("targetUrl is required: the https:// address that receives the events.")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"targetUrl is {len(url)} characters long; at most {MAX_URL_LENGTH} are allowed.")
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise InvalidInput("targetUrl contains spaces or control characters; remove them.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput("targetUrl is not a valid URL (check the host and port).") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidInput("targetUrl must start with https:// (or http://).")
    if "@" in parts.netloc:
        raise InvalidInput("targetUrl must not contain a user name or password; "
                           "the signature header authenticates the station.")
    host = parts.hostname
    if not host:
        raise InvalidInput("targetUrl has no host name.")
    if parts.fragment:
        raise InvalidInput("targetUrl must not contain a #fragment.")
    try:
        httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        raise InvalidInput("targetUrl is not a valid URL.") from None
    for address in _addresses(host, port or (443 if parts.scheme.lower() == "https" else 80), resolve):
        if not policy.permits(address):
            raise InvalidInput(policy.refusal(address))
    return url


_resolver = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="webhook-dns")


def _addresses(host: str, port: int, resolve: bool) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return ["127.0.0.1"]
    if not resolve:
        return []
    # A name that does not resolve now (offline station) is accepted: it is checked again,
    # and refused then if need be, each time a delivery connects.
    future = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=2.0)
    except (OSError, UnicodeError, concurrent.futures.TimeoutError):
        return []
    return sorted({str(info[4][0]) for info in infos})


class TargetRefused(httpcore.ConnectError):
    """The target resolved to an address the policy does not permit."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself, checks every address, and connects to a checked one."""

    def __init__(self, policy: AddressPolicy, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._policy = policy
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = [str(info[4][0]) for info in infos]
        for address in addresses:
            if not self._policy.permits(address):
                raise TargetRefused(self._policy.refusal(address))
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout=timeout,
                                                     local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise TargetRefused("Webhooks are never sent to a Unix socket.")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_transport(policy: AddressPolicy, max_connections: int,
                      ssl_context: ssl.SSLContext | None = None) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose connections go through GuardedBackend.

    httpx does not take a network backend, so the transport's pool is replaced by an httpcore
    pool built the same way with ours; httpx's request/response mapping is kept as it is."""
    transport = httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=max_connections), trust_env=False,
    )
    transport._pool = httpcore.AsyncConnectionPool(  # noqa: SLF001 (see docstring)
        ssl_context=ssl_context or httpx.create_ssl_context(),
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=30.0,
        network_backend=GuardedBackend(policy),
    )
    return transport


