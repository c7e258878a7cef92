"""Waiting in tests: on a signal (a condition polled), never for a fixed time, with one generous
bound. The bound only matters when something is broken: on a cold machine under load (no
bytecode yet, the cores shared) a station can take tens of seconds to start, and a test must not
fail for that; in the normal case the wait ends as soon as the condition holds."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

PATIENCE_S = 120.0  # a cold start of a station or a hub, with the machine otherwise busy


def wait_until(condition: Callable[[], T], timeout: float = PATIENCE_S,
               what: str = "condition") -> T:
    """Poll until `condition()` is truthy and return it; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)
