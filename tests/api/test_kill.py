"""kill -9 of `station serve` with deliveries pending; after a restart nothing is lost."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys

import httpx

from tests.api.conftest import wait_until
from tests.api.receiver import Receiver
from tests.conftest import REPO, StationCLI
from tests.waiting import PATIENCE_S


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(cli: StationCLI, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "station", "serve", "--port", str(port),
         "--allow-webhook-network", "127.0.0.0/8"],
        env=cli.env, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )


def healthy(base: str) -> bool:
    try:
        return httpx.get(base + "/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_kill_9_with_pending_deliveries_then_restart_loses_nothing(cli: StationCLI,
                                                                   receiver: Receiver) -> None:
    key = cli("keys", "create", "kill-test", "--rate-limit", "10000").stdout.strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    headers = {"authorization": f"Bearer {key}"}
    first = serve(cli, port)
    try:
        # A cold start (no bytecode yet, a busy machine) can take tens of seconds: the health
        # poll is the signal, with the generous default bound.
        wait_until(lambda: healthy(base), what="station serve to answer")
        sub = httpx.post(base + "/api/v1/webhooks", headers=headers,
                         json={"event": "pass.created", "targetUrl": receiver.url("/hook", "hang")})
        assert sub.status_code == 201, sub.text
        for i in range(20):
            assert httpx.post(base + "/api/v1/passes", headers=headers,
                              json={"name": f"Guest {i}"}).status_code == 201
        receiver.wait_for("/hook", 1)  # deliveries are in flight, the target hangs
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=PATIENCE_S)
        first.stdout.close()  # type: ignore[union-attr]
        first.stderr.close()  # type: ignore[union-attr]
    db = sqlite3.connect(cli.data_dir / "station.db")
    expected = {r[0] for r in db.execute("SELECT id FROM events WHERE type = 'pass.created'")}
    states = dict(db.execute("SELECT state, count(*) FROM webhook_deliveries GROUP BY state").fetchall())
    db.close()
    assert len(expected) == 20 and states == {"pending": 20}

    receiver.scripts["/hook"] = ["200"]
    receiver.release.set()
    before = len(receiver.at("/hook"))
    second = serve(cli, port)
    try:
        wait_until(lambda: {r.json()["id"] for r in receiver.at("/hook")[before:]} >= expected,
                   what="every event to be delivered after the restart")
        wait_until(lambda: httpx.get(base + "/api/v1/webhooks", headers=headers).json()["items"][0]
                   ["succeeded"] == 20, what="the deliveries to be recorded")
    finally:
        second.send_signal(signal.SIGTERM)
        out, err = second.communicate(timeout=PATIENCE_S)
    assert second.returncode == 0, err
    resent = [r.json()["id"] for r in receiver.at("/hook")[before:]]
    assert set(resent) == expected  # same event ids, nothing lost, nothing new
