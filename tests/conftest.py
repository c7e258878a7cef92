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
from tests.fakes import FakeClock, MemoryKeyring

REPO = Path(__file__).resolve().parent.parent


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
        }

    def __call__(self, *args: str, input: str | None = None, check: bool = True,
                 timeout: float = 120) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "station", *args], env=self.env, cwd=REPO, input=input,
            capture_output=True, text=True, timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"station {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result


@pytest.fixture
def cli(data_dir: Path) -> StationCLI:
    return StationCLI(data_dir)
