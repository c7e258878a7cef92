"""A venue's own nats-server, as a venue runs it: its CA's certificate, the usual NATS way of
speaking TLS (a plaintext INFO, then the upgrade), one user with a password, JetStream on or off.
Stations join it with a `tls://` URL without a pin plus the CA file (--sync-ca). Any supported
nats-server can be one, also those too old to host the hub (Debian 12's 2.9)."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from station.net.sync.binary import Version, binary_version
from station.net.sync.url import SyncTarget
from tests.sync.venue_ca import venue_ca
from tests.waiting import PATIENCE_S, wait_until


def _says_info(port: int) -> bool:
    """A NATS server on 127.0.0.1:port has sent its (plaintext) INFO line."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.settimeout(0.5)
            return conn.recv(5) == b"INFO "
    except OSError:
        return False


class VenueServer:
    """Start, stop and kill (as a power cut would) one venue nats-server on a given port; its
    JetStream store stays in `where` across restarts. Same shape as HubServer for the tests."""

    def __init__(self, where: Path, binary: Path, port: int, *, jetstream: bool = True) -> None:
        self.dir = where
        self.binary = binary
        self.port = port
        self.jetstream = jetstream
        self.ca = venue_ca(where / "ca")
        self.version: Version | None = binary_version(binary)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def target(self) -> SyncTarget:
        return SyncTarget("127.0.0.1", self.port, "u", "p", "tls", None, str(self.ca.ca_file))

    def start(self) -> None:
        args = [str(self.binary), "-a", "127.0.0.1", "-p", str(self.port),
                "--user", "u", "--pass", "p", *self.ca.server_flags()]
        if self.jetstream:
            args += ["-js", "-sd", str(self.dir / "store")]
        with open(self.dir / "venue.log", "ab") as out:
            self._proc = subprocess.Popen(args, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
        proc = self._proc

        def ready() -> bool:
            assert proc.poll() is None, (self.dir / "venue.log").read_text(errors="replace")[-600:]
            return _says_info(self.port)

        wait_until(ready, what=f"the venue's nats-server on {self.port}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=PATIENCE_S)

    def kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=PATIENCE_S)
