"""How long the hub takes to load a new configuration (an enrolment, a removal) while N
enrolled stations are connected: nats-server checks each connected client against the new
users, and a bcrypt check costs about 0.1 s.

    .venv/bin/python benchmarks/hub_reload_bench.py [--stations 40] [--rounds 4]

A real nats-server on a free 127.0.0.1 port; each station is a bare nats-py connection with
its own user (as enrolment makes them). Prints the reload time with none, then N, connected.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nats.aio.client import Client as NATS  # noqa: E402

from station.net.sync.hub import (  # noqa: E402
    STATION_ROUNDS,
    HubServer,
    new_password,
    password_hash,
)
from station.net.sync.hub_tls import connect_hub  # noqa: E402
from station.net.sync.registry import Enrolled  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed_reload(hub: HubServer) -> float:
    t0 = time.perf_counter()
    hub.reload()
    return time.perf_counter() - t0


async def connect_all(hub: HubServer, users: list[tuple[str, str]]) -> list[NATS]:
    return [await connect_hub(hub.target.__class__(
        "127.0.0.1", hub.port, user, password, "tls", hub.certificate.fingerprint),
        allow_reconnect=False) for user, password in users]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stations", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=STATION_ROUNDS,
                        help="bcrypt cost of the stations' hashes (11: before this was tuned)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="reload-bench-"))
    hub = HubServer(root / "hub", new_password(), port=free_port(), join_secret=new_password())
    users = [(f"sta_bench{i}", new_password()) for i in range(args.stations)]
    hub.registry.change(lambda _: [Enrolled(u, u, "", password_hash(p, args.rounds), "org_bench",
                                            "")
                                   for u, p in users])
    hub.start()
    try:
        idle = [timed_reload(hub) for _ in range(3)]
        loop = asyncio.new_event_loop()
        conns = loop.run_until_complete(connect_all(hub, users))
        busy = [timed_reload(hub) for _ in range(3)]
        alive = sum(c.is_connected for c in conns)
        for c in conns:
            loop.run_until_complete(c.close())
        loop.close()
        print(f"reload with 0 stations connected: {', '.join(f'{t:.2f} s' for t in idle)}")
        print(f"reload with {args.stations} connected (bcrypt cost {args.rounds}): {', '.join(f'{t:.2f} s' for t in busy)} "
              f"({alive} still connected after)")
    finally:
        hub.stop()


if __name__ == "__main__":
    main()
