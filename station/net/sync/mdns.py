"""Finding the venue hub on the LAN: the hub announces `_station-sync._tcp` over mDNS.

The announcement carries where to connect (address, port) and which organisation the hub
serves, never the password: a station that finds a hub still needs the sync URL's password
(kept in keyring) to join it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from zeroconf import InterfaceChoice, IPVersion, ServiceBrowser, ServiceInfo, ServiceListener, Zeroconf

SERVICE_TYPE = "_station-sync._tcp.local."
MAX_TXT = 64  # longest org id / name kept from a stranger's announcement


@dataclass(frozen=True, slots=True)
class FoundHub:
    name: str
    host: str
    port: int
    org: str

    def url(self, user: str = "station") -> str:
        """Where the hub is, without password or fingerprint: to join it, use its join URL."""
        return f"tls://{user}@{self.host}:{self.port}"


class HubAnnouncer:
    """A Part: announces the hub at `address:port` while it runs."""

    def __init__(self, address: str, port: int, org: str) -> None:
        self.address = address
        self.port = port
        self.org = org
        self._zc: Zeroconf | None = None
        label = f"Station hub {org[:40]} {socket.gethostname()[:20]} {port}"
        self.info = ServiceInfo(
            SERVICE_TYPE, f"{label}.{SERVICE_TYPE}", addresses=[socket.inet_aton(address)],
            port=port, properties={"org": org, "port": str(port)},
            server=f"station-hub-{port}.local.",
        )

    def start(self) -> None:
        self._zc = Zeroconf(interfaces=[self.address], ip_version=IPVersion.V4Only)
        self._zc.register_service(self.info)

    def stop(self) -> None:
        zc, self._zc = self._zc, None
        if zc is not None:
            zc.unregister_service(self.info)
            zc.close()


class _Collector(ServiceListener):
    def __init__(self) -> None:
        self.names: list[str] = []
        self.lock = threading.Lock()

    def add_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        with self.lock:
            self.names.append(name)

    def update_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self.add_service(zc, type_, name)

    def remove_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        pass


def _text(value: bytes | None) -> str:
    return (value or b"").decode("utf-8", "replace")[:MAX_TXT]


def discover(timeout: float = 3.0, interface: str | None = None,
             wait: Callable[[float], object] = time.sleep) -> list[FoundHub]:
    """Hubs announcing themselves within `timeout` seconds (on `interface`, or on all).
    `wait` lets a background caller cut the listening short when it is stopped."""
    # zeroconf takes no None for "all": it raises TypeError.
    zc = Zeroconf(interfaces=[interface] if interface else InterfaceChoice.All,
                  ip_version=IPVersion.V4Only)
    collector = _Collector()
    browser = ServiceBrowser(zc, SERVICE_TYPE, collector)
    try:
        if wait(timeout):  # stopped meanwhile (an Event's wait() says True)
            return []
        with collector.lock:
            names = list(dict.fromkeys(collector.names))
        found: dict[tuple[str, int], FoundHub] = {}
        for name in names:
            info = zc.get_service_info(SERVICE_TYPE, name, 2000)
            if info is None or not info.parsed_addresses() or not info.port:
                continue
            org = _text(info.properties.get(b"org"))
            host = info.parsed_addresses()[0]
            found[(host, info.port)] = FoundHub(_text(name.encode())[:MAX_TXT], host,
                                                int(info.port), org)
        return sorted(found.values(), key=lambda h: (h.org, h.host, h.port))
    finally:
        browser.cancel()
        zc.close()
