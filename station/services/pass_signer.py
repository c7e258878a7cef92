"""Signing the tokens of many passes at once (an import): in a worker process on the other core
once the file is long enough to pay for starting one, in this thread otherwise.

Ed25519 signing is the largest single cost of an import (about 35 µs a pass here) and holds the
GIL, so a thread would not help. The worker gets the raw private key with each batch, through
the pipe to a child of this process, and keeps nothing once it leaves.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from station.services.worker_pool import spawn_pool

log = logging.getLogger(__name__)

_loaded: dict[bytes, Ed25519PrivateKey] = {}


def sign_all(private_raw: bytes, messages: Sequence[bytes]) -> list[bytes]:
    """The signature of each message (runs in the worker, or here)."""
    key = _loaded.get(private_raw)
    if key is None:
        key = _loaded[private_raw] = Ed25519PrivateKey.from_private_bytes(private_raw)
    return [key.sign(m) for m in messages]


class PassSigner:
    """Batches after the first go to one worker process, started when the second arrives."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._batches = 0
        self._broken = False

    def submit(self, messages: Sequence[bytes]) -> concurrent.futures.Future[list[bytes]]:
        self._batches += 1
        if self._batches > 1 and not self._broken:
            try:
                if self._pool is None:
                    self._pool = spawn_pool()
                return self._pool.submit(sign_all, self._raw, list(messages))
            except Exception as exc:  # no process could be started: sign here, as before
                log.warning("could not start the signing worker (%r); signing in this process", exc)
                self._broken = True
        done: concurrent.futures.Future[list[bytes]] = concurrent.futures.Future()
        done.set_result(sign_all(self._raw, messages))
        return done

    def result(self, future: concurrent.futures.Future[list[bytes]],
               messages: Sequence[bytes]) -> list[bytes]:
        """The batch's signatures; signed here if the worker died under it."""
        try:
            return future.result()
        except BrokenProcessPool as exc:
            log.warning("the signing worker stopped (%r); signing in this process", exc)
            self._broken = True
            return sign_all(self._raw, messages)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
