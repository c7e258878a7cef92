"""What checking origin signatures costs the worker that prepares a history download
(net/sync/prepare.py), in CPU seconds, for events of one origin in parts of 1,000 as a download
sends them: no check, v1 signatures (one verification each), v2 (hash-chained: one a run).

    .venv/bin/python benchmarks/event_verify_bench.py [--events 20000]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from station.domain import tokens  # noqa: E402
from station.domain.event_signature import EventTrust, sign_chained, sign_event  # noqa: E402
from station.domain.events import Event, EventType  # noqa: E402
from station.net.sync import prepare, wire  # noqa: E402


def _created(n: int) -> Event:
    pass_id, code = f"pas_{n:020d}", f"C{n:011d}"
    return Event(id=f"evt_{n:032d}", type=EventType.PASS_CREATED,
                 timestamp="2026-06-01T18:00:00.000Z",
                 data={"id": pass_id, "code": code, "type": "single", "name": f"Guest {n}",
                       "createdAt": "2026-06-01T18:00:00.000Z", "fields": {},
                       "publicUrl": f"https://tickets.example/p/{code}?token={'x' * 90}"},
                 origin="sta_bench", origin_seq=n, hlc=f"{n:015d}.000000", pass_id=pass_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    n = parser.parse_args().events
    key = Ed25519PrivateKey.generate()
    events = [_created(i) for i in range(1, n + 1)]
    started = time.process_time()
    v1 = [wire.encode(dataclasses.replace(e, sig=sign_event(key, e))) for e in events]
    signed_v1 = time.process_time() - started
    started, prev, v2 = time.process_time(), "", []
    for e in events:
        sig, prev = sign_chained(key, e, prev)
        v2.append(wire.encode(dataclasses.replace(e, sig=sig)))
    signed_v2 = time.process_time() - started
    trust = EventTrust({"sta_bench": (tokens.public_key_bytes(key.public_key()),)}, None)
    senders = ["sta_bench"] * n
    chunk = prepare.PREPARE_CHUNK
    print(f"signing {n:,} events (publisher): v1 {signed_v1:.2f} s, v2 {signed_v2:.2f} s CPU")
    for name, data, checked in (("no check", v2, None), ("v1", v1, trust), ("v2", v2, trust)):
        started = time.process_time()
        kept = 0
        for i in range(0, n, chunk):
            kept += len(prepare.prepare(data[i:i + chunk], False, checked,
                                        senders[i:i + chunk])[0])
        assert kept == n, f"{n - kept} events refused: the figure would not be a check's"
        print(f"prepare {n:,} events, {name}: {time.process_time() - started:.2f} s CPU")


if __name__ == "__main__":
    main()
