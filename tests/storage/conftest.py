"""Storage-failure tests: the station's data directory lives on a small real file system."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.small_disk import SmallDisk, small_disk  # noqa: F401 (a fixture)


@pytest.fixture
def data_dir(small_disk: SmallDisk) -> Path:  # noqa: F811
    return small_disk.mount / "data"
