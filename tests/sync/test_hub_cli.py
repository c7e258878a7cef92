"""`station hub` prints the URL other stations join with and requires its password (what a
kill -9 of it leaves behind: test_hub_lifetime.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from station.net.sync.url import SyncTarget
from tests.conftest import REPO
from tests.sync.conftest import StationFactory, free_port, in_sync, wait_for
from tests.waiting import PATIENCE_S


@pytest.mark.allow_log("station.net.sync.client", "refused this join URL")
def test_station_hub_prints_a_sync_url_that_a_station_joins_with(
        tmp_path: Path, make_station: StationFactory) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "station", "hub", "--data-dir", str(tmp_path / "hubdir"),
         "--port", str(port)], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        # The join URL: its user only enrols (issue 15); the station then connects as itself.
        assert first.startswith("sync url: tls://enrol:")
        target = SyncTarget.parse(first.removeprefix("sync url: "))
        assert (target.host, target.port) == ("127.0.0.1", port) and target.password
        conf = tmp_path / "hubdir" / "hub" / "nats.conf"
        assert oct(conf.stat().st_mode & 0o777) == "0o600"
        # Only a bcrypt hash of the password is on disk; the password itself is in keyring.
        text = conf.read_text()
        assert target.password not in text and 'password: "$2a$11$' in text
        door = make_station("Door A", target.full_url())
        wait_for(in_sync(door), what="the station to join the hub")
        assert door.core.store.setting("sync_url").startswith(
            f"tls://{door.core.ctx.station_id}@")
        refused = make_station("Door X", target.with_password(None).full_url())
        wait_for(lambda: refused.sync.status().error is not None,  # type: ignore[union-attr]
                 what="a station without the password to be refused")
        assert not refused.sync.status().connected  # type: ignore[union-attr]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=PATIENCE_S)
    assert proc.returncode == 0

