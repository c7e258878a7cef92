"""Runs the API with uvicorn as a task on the station's AsyncRuntime, and stops it cleanly.

The socket is bound in `start()` on the caller's thread, so a busy port is known at once and
reported plainly; the station keeps running without its API then (the door never depends on it).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import logging
import socket
import time

import uvicorn
from fastapi import FastAPI

from station.net.integrations import Integrations
from station.net.runtime import AsyncRuntime

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class APIServer:
    def __init__(self, app: FastAPI, runtime: AsyncRuntime, integrations: Integrations, *,
                 host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
        self._app = app
        self._runtime = runtime
        self._integrations = integrations
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._task: concurrent.futures.Future[None] | None = None
        self.error: str | None = None

    @property
    def address(self) -> str | None:
        if self._server is None:
            return None
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE:
                raise OSError(exc.errno, f"Port {self.port} on {self.host} is in use (another station "
                                         f"or program?); choose another with --port.") from exc
            raise OSError(exc.errno, f"Cannot listen on {self.host}:{self.port}: {exc.strerror}; "
                                     f"check --host.") from exc
        # Accepted sockets inherit this. Without it, Nagle + delayed ACK hold small responses
        # ~40 ms: measured 356 req/s instead of 6,000 (uvicorn sets it only on sockets it binds).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.listen(128)
        sock.setblocking(False)
        return sock

    def start(self) -> None:
        try:
            sock = self._bind()
        except OSError as exc:
            self.error = exc.strerror or str(exc)
            self._integrations.api_error = self.error
            log.error("The API is not running: %s", self.error)
            return
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self._app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=3, server_header=False)
        self._server = uvicorn.Server(config)
        self._task = self._runtime.submit(self._server.serve(sockets=[sock]))
        deadline = time.monotonic() + 10
        while not self._server.started and not self._task.done() and time.monotonic() < deadline:
            time.sleep(0.005)
        if not self._server.started:
            self.error = "The API did not start; see the log."
            self._integrations.api_error = self.error
            log.error(self.error)
            return
        self._integrations.api_address = self.address
        self._integrations.api_error = None
        log.info("API listening on %s", self.address)

    def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        try:
            self._task.result(timeout=10)
        except (concurrent.futures.TimeoutError, asyncio.CancelledError, concurrent.futures.CancelledError):
            log.warning("the API server did not stop within 10 s")
        except SystemExit:
            pass
        self._integrations.api_address = None
        executor = getattr(self._app.state, "executor", None)
        if isinstance(executor, concurrent.futures.ThreadPoolExecutor):
            executor.shutdown(wait=True)
