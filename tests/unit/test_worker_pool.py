"""The background worker process gives the CPU to the station's own threads first."""

from __future__ import annotations

import os

import pytest

from station.services.worker_pool import spawn_pool


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="POSIX process priorities")
def test_the_worker_runs_at_a_lower_cpu_priority_than_the_station() -> None:
    pool = spawn_pool()
    try:
        worker = pool.submit(os.getpriority, os.PRIO_PROCESS, 0).result(timeout=120)
    finally:
        pool.shutdown(wait=True)
    assert worker >= os.getpriority(os.PRIO_PROCESS, 0) + 10 or worker == 19
