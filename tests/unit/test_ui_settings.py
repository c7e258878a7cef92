"""The door's display settings: how long a verdict stays, kiosk mode."""

from __future__ import annotations

import pytest

from station.domain.errors import InvalidInput
from station.ui.settings import UiSettings


def test_defaults_reset_after_five_seconds_without_kiosk() -> None:
    assert UiSettings().verdict_reset_s == 5.0 and UiSettings().kiosk is False


@pytest.mark.parametrize("seconds", [0, 0.5, 600])
def test_reset_time_in_range(seconds: float) -> None:
    assert UiSettings(verdict_reset_s=seconds).checked().verdict_reset_s == seconds


@pytest.mark.parametrize("seconds", [-1, 601])
def test_reset_time_out_of_range_is_refused(seconds: float) -> None:
    with pytest.raises(InvalidInput, match="READY"):
        UiSettings(verdict_reset_s=seconds).checked()
