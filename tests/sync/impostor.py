"""An impostor: a TLS server that is not the hub and records what clients send it."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

from station.net.sync.certificate import hub_certificate
from tests.waiting import PATIENCE_S


class RecordingTlsServer:
    """A TLS server that is not the hub (a certificate of its own) and records every byte a
    client sends it after the handshake: what an impostor on the venue's network would read."""

    def __init__(self, where: Path) -> None:
        cert = hub_certificate(where, [])
        self.fingerprint = cert.fingerprint
        self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ctx.load_cert_chain(cert.cert_file, cert.key_file)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self.handshakes = 0
        self.received = b""
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="impostor", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(PATIENCE_S)
        try:
            with self._ctx.wrap_socket(conn, server_side=True) as tls:
                with self._lock:
                    self.handshakes += 1
                # A NATS server would send INFO now; an impostor gladly does, to get CONNECT.
                tls.sendall(b'INFO {"server_id":"x","version":"2.10.20","auth_required":true,'
                            b'"tls_required":true,"max_payload":1048576}\r\n')
                while chunk := tls.recv(4096):
                    with self._lock:
                        self.received += chunk
        except OSError:
            pass  # the client hung up (ssl.SSLError is an OSError too)

    def close(self) -> None:
        self._listener.close()
