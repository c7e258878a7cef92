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
from collections.abc import Awaitable, Callable, Iterable
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


# IPv6 ranges whose addresses carry an IPv4 address that a packet to them ends up at.
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # ::a.b.c.d (deprecated, still routed by some stacks)
NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215


def _bits(value: int, start: int, length: int) -> int:
    """`length` bits of a 128-bit address, counted from the most significant bit `start`."""
    return (value >> (128 - start - length)) & ((1 << length) - 1)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address carries: IPv4-mapped and -compatible, NAT64, 6to4
    and Teredo (its server and its de-obfuscated client). Empty for a plain IPv6 address."""
    value = int(ip)
    found: list[int | ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    elif ip in IPV4_COMPATIBLE and value > 1:  # :: and ::1 are IPv6's own unspecified/loopback
        found.append(value & 0xFFFFFFFF)
    elif ip in NAT64_WELL_KNOWN:
        found.append(_bits(value, 96, 32))
    elif ip in NAT64_LOCAL_USE:
        # The network's own prefix length (/48 to /96) decides where the IPv4 address sits
        # (RFC 6052 §2.2) and cannot be known from here, so every possible place is checked.
        found += [_bits(value, 96, 32), _bits(value, 72, 32),
                  (_bits(value, 56, 8) << 24) | _bits(value, 72, 24),
                  (_bits(value, 48, 16) << 16) | _bits(value, 72, 16)]
    elif ip.sixtofour is not None:
        found.append(ip.sixtofour)
    elif ip.teredo is not None:
        found += ip.teredo
    return tuple(dict.fromkeys(ipaddress.IPv4Address(v) for v in found))


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses are allowed; others only inside an allowed network. An IPv6 address
    that carries an IPv4 address is judged by the IPv4 address (Python's `is_global` calls
    64:ff9b::7f00:1 public, yet a NAT64 gateway delivers it to 127.0.0.1)."""

    allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def of(cls, cidrs: Iterable[str]) -> AddressPolicy:
        return cls(parse_networks(cidrs))

    def permits(self, address: str | IPAddress) -> bool:
        return self.refused_part(address) is None

    def refused_part(self, address: str | IPAddress) -> IPAddress | None:
        """The address, or the IPv4 address it carries, that the policy refuses; None if none."""
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        carried = embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else ()
        for part in carried or (ip,):
            if not self._permits_plain(part):
                return part
        return None

    def _permits_plain(self, ip: IPAddress) -> bool:
        if any(ip.version == net.version and ip in net for net in self.allowed):
            return True
        return ip.is_global and not ip.is_multicast

    def refusal(self, address: str) -> str:
        part = self.refused_part(address)
        what = address if part is None or str(part) == address else \
            f"{address} (it carries the IPv4 address {part})"
        return (f"Webhook target address {what} is private, loopback or link-local; allow its "
                f"network with --allow-webhook-network or in Settings to use it.")


def check_target_url(url: Any, policy: AddressPolicy, *, resolve: bool = True) -> str:
    """Return the URL if it may be a webhook target; raise InvalidInput saying why not."""
    checked, host, port = check_url_syntax(url)
    for address in _addresses(host, port, resolve):
        if not policy.permits(address):
            raise InvalidInput(policy.refusal(address))
    return checked


def check_url_syntax(url: Any) -> tuple[str, str, int]:
    """The URL (stripped), its host and port, if it is an http(s) URL a webhook can go to;
    raise InvalidInput saying why not. The addresses are not looked at here."""
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
    return url, host, port or (443 if parts.scheme.lower() == "https" else 80)


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


Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve_tcp(host: str, port: int) -> list[str]:
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself, checks every address, and connects to a checked one."""

    def __init__(self, policy: AddressPolicy, inner: httpcore.AsyncNetworkBackend | None = None,
                 resolve: Resolver = resolve_tcp) -> None:
        self._policy = policy
        self._inner = inner or httpcore.AnyIOBackend()
        self._resolve = resolve

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await self._resolve(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
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


