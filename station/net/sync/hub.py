"""The venue hub: a nats-server with JetStream run as a child process of a station.

Its store lives in the data directory (so history survives restarts), authentication is always
required, and it listens on 127.0.0.1 unless the LAN is asked for.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import subprocess
import time
from pathlib import Path

import bcrypt

from station.domain.errors import StationError
from station.net.sync.binary import find_nats_server
from station.net.sync.url import SyncTarget

log = logging.getLogger(__name__)

HUB_USER = "station"
HUB_SECRET = "hub-password"


def lan_address() -> str:
    """The address other machines reach this one at (no packet is sent: UDP connect only)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def new_password() -> str:
    return secrets.token_urlsafe(24)


BCRYPT_ROUNDS = 11  # what nats-server's own password tool uses; checked once per connection


def password_hash(password: str) -> str:
    """The bcrypt hash nats-server checks passwords against (its `$2a$` form, which every
    nats-server release accepts)."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_ROUNDS, prefix=b"2a")).decode()


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class HubServer:
    """Start/stop one nats-server. `password` comes from the caller's SecretStore."""

    def __init__(self, hub_dir: Path, password: str, *, port: int = 4222, lan: bool = False,
                 user: str = HUB_USER, binary: Path | None = None) -> None:
        self.dir = Path(hub_dir)
        self.port = port
        self.lan = lan
        self.user = user
        self._password = password
        self._binary = binary
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def target(self) -> SyncTarget:
        host = lan_address() if self.lan else "127.0.0.1"
        return SyncTarget(host, self.port, self.user, self._password)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def _write_config(self) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        store = self.dir / "jetstream"
        conf = self.dir / "nats.conf"
        text = "\n".join([
            f"listen: {_quote(('0.0.0.0' if self.lan else '127.0.0.1') + f':{self.port}')}",
            f"server_name: {_quote('station_hub')}",
            f"jetstream {{ store_dir: {_quote(str(store))} }}",
            # Only a bcrypt hash of the password is written here (quoted: a bare `$` would be
            # read as a variable); the password itself stays in keyring.
            f"authorization {{ user: {_quote(self.user)}, "
            f"password: {_quote(password_hash(self._password))} }}",
            "max_payload: 1MB",
            "",
        ])
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(conf, 0o600)
        return conf

    def start(self, timeout: float = 15.0) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        binary = self._binary or find_nats_server()
        conf = self._write_config()
        log_path = self.dir / "nats-server.log"
        with open(log_path, "ab") as log_file:
            self._proc = subprocess.Popen(
                [str(binary), "-c", str(conf)], stdout=log_file, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                tail = log_path.read_text(errors="replace")[-600:]
                self._proc = None
                raise StationError(
                    f"The hub could not start on port {self.port} (is it in use?). Server log:\n{tail}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        self.kill()
        raise StationError(f"The hub did not start listening on port {self.port} in {timeout:.0f} s.")

    def stop(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)

    def kill(self) -> None:
        """SIGKILL, as a power cut would (tests use it to prove nothing is lost)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None
