"""A real HTTP receiver on 127.0.0.1 for webhook tests, scriptable per path.

Each path answers from a script (a list of behaviours used in order, the last one repeating):
"200", "500", "410", "429:<seconds>" (with Retry-After), "hang" (no answer until released),
"hold" (200 once released: a slow target), "reset" (the connection is dropped), "redirect"
(302 to /ok).
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.waiting import PATIENCE_S


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    scripts: dict[str, list[str]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str, *behaviours: str) -> str:
        if behaviours:
            self.scripts[path] = list(behaviours)
        return self.base + path

    def next_behaviour(self, path: str) -> str:
        with self.lock:
            script = self.scripts.get(path, ["200"])
            return script.pop(0) if len(script) > 1 else script[0]

    def record(self, item: Received) -> None:
        with self.arrived:
            self.received.append(item)
            self.arrived.notify_all()

    def at(self, path: str) -> list[Received]:
        with self.arrived:
            return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, count: int, timeout: float = PATIENCE_S) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len([r for r in self.received if r.path == path]) >= count,
                                  timeout)
        return self.at(path)


def start_receiver() -> Receiver:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def do_POST(self) -> None:
            rec = holder["r"]
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            path = self.path.split("?")[0]
            behaviour = rec.next_behaviour(path)
            rec.record(Received(path, {k.lower(): v for k, v in self.headers.items()}, body))
            if behaviour == "hang":
                rec.release.wait(30)
                self.close_connection = True
                return
            if behaviour == "hold":
                rec.release.wait(60)
                self._answer(200, b'{"received":true}', {})
                return
            if behaviour == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            if behaviour == "redirect":
                self._answer(302, b"", {"Location": "/ok"})
                return
            status, _, extra = behaviour.partition(":")
            headers = {"Retry-After": extra} if status == "429" and extra else {}
            self._answer(int(status), b'{"received":true}' + b" " * 600, headers)

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(server)
    holder["r"] = receiver
    threading.Thread(target=server.serve_forever, name="test-receiver", daemon=True).start()
    return receiver
