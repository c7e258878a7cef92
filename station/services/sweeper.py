"""The periodic expiry sweep of a running station (so integrations hear about expiries), and
the scheduled automatic check-out beside it."""

from __future__ import annotations

import logging
import threading

from station.domain.errors import StorageError
from station.services.checkout_schedule import ScheduledCheckout
from station.services.passes import PassService

log = logging.getLogger(__name__)


class ExpirySweeper:
    def __init__(self, passes: PassService, interval_s: float = 30.0,
                 checkouts: ScheduledCheckout | None = None) -> None:
        self._passes = passes
        # A check-out is recorded up to an interval late, dated its scheduled time: the fold
        # orders it by that time, so an entry made meanwhile stays inside.
        self._checkouts = checkouts
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="expiry-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def sweep_once(self) -> int:
        total = 0
        while True:
            batch = self._passes.expire_due()
            total += len(batch)
            if len(batch) < 500:
                return total

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                count = self.sweep_once()
                if count:
                    log.info("expired %d passes past their validUntil", count)
                if self._checkouts is not None and self._checkouts.run():
                    log.info("checked everyone out as scheduled")
            except StorageError as exc:  # the disk, not a bug: no traceback; tried again later
                log.warning("Expiry sweep: %s", exc)
            except Exception:  # keep sweeping; a locked database now may be free next time
                log.exception("expiry sweep failed")
            self._stop.wait(self._interval)
