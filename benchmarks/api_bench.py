"""Benchmark of the embedded API and the webhook sender. Prints medians; asserts nothing.

    .venv/bin/python benchmarks/api_bench.py [--seconds 8] [--deliveries 3000]

1. Requests/s on loopback for POST /api/v1/scans and GET /api/v1/passes/{code}, driven by
   `wrk` (apt-get install wrk) so the load generator is not the bottleneck; a key created with
   a high rate limit (`station keys create bench --rate-limit N`) keeps the limiter out of it.
2. Webhook deliveries/s to a local receiver (uvicorn, in its own process), with and without
   `sniffio` installed (the run without hides it from the sender's process).
3. Verdict latency at the door (ScanService.submit p50/p95): sender idle, then saturated
   (10 subscriptions, one of them hanging, thousands of deliveries queued).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")

RECEIVER = textwrap.dedent("""
    import asyncio, sys, uvicorn
    count = 0
    async def app(scope, receive, send):
        global count
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        if scope["path"].startswith("/hang"):
            await asyncio.sleep(3600)
        count += 1
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="error", access_log=False)
""")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_receiver() -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", RECEIVER, str(port)])
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.post(base + "/ping", timeout=0.5)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    return proc, base


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def wrk(url: str, key: str, seconds: int, script: str | None = None) -> float:
    cmd = ["wrk", "-t2", "-c16", f"-d{seconds}s", "-H", f"Authorization: Bearer {key}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        if script:
            fh.write(script)
            cmd += ["-s", fh.name]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    os.unlink(fh.name)
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            rate = float(line.split()[1])
        if "Non-2xx" in line:
            print("   ", line.strip())
    return rate


def bench_http(seconds: int) -> None:
    from station.app import StationOptions, build_station

    with tempfile.TemporaryDirectory() as tmp:
        station = build_station(StationOptions(data_dir=Path(tmp), api_port=0, sweep_interval_s=3600))
        station.start()
        try:
            assert station.integrations and station.integrations.api_address
            base = station.integrations.api_address
            key = station.integrations.keys.create("bench", rate_limit=1_000_000).secret
            passes = [station.core.passes.create(station.core.passes.validate(f"Guest {i}", "multi"))
                      for i in range(200)]
            code = passes[0].code
            get_rate = wrk(f"{base}/api/v1/passes/{code}", key, seconds)
            codes = ",".join(f'"{p.code}"' for p in passes)
            post = textwrap.dedent(f"""
                local codes = {{{codes}}}
                local i = 0
                wrk.method = "POST"
                wrk.headers["Content-Type"] = "application/json"
                request = function()
                  i = i + 1
                  return wrk.format(nil, nil, nil, '{{"code":"' .. codes[(i % #codes) + 1] .. '"}}')
                end
            """)
            post_rate = wrk(f"{base}/api/v1/scans", key, seconds, post)
            health = wrk(f"{base}/health", key, seconds)
        finally:
            station.stop()
    print(f"GET  /api/v1/passes/{{code}}  {get_rate:8.0f} req/s   (wrk -t2 -c16)")
    print(f"POST /api/v1/scans          {post_rate:8.0f} req/s   (each one a committed scan, FULL sync)")
    print(f"GET  /health (no auth, no DB) {health:6.0f} req/s   (baseline of this machine)")


def bench_deliveries(count: int) -> float:
    """Runs in a subprocess (so sniffio can be hidden); prints deliveries/s as JSON."""
    from station.app import StationOptions, build_station
    from station.domain.events import EventType

    receiver, base = start_receiver()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            options = StationOptions(data_dir=Path(tmp), api_enabled=False, sweep_interval_s=3600,
                                     webhook_networks=("127.0.0.0/8",))
            station = build_station(options)
            assert station.integrations is not None
            hooks = [station.integrations.subscribe(EventType.CLIENT_CREATED, f"{base}/r{i}").webhook
                     for i in range(2)]
            # Queue the events first (sender not yet running), then time the draining.
            def clients(tx: Any) -> None:
                for i in range(count // len(hooks)):
                    station.core.clients.create_in(tx, f"Client {i}")

            station.core.store.write(clients)
            started = time.perf_counter()
            station.start()
            total = (count // len(hooks)) * len(hooks)
            while sum(station.integrations.counts(h.id)["succeeded"] for h in hooks) < total:
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
            station.stop()
    finally:
        receiver.kill()  # uvicorn would wait for the hanging request
        receiver.wait()
    return total / elapsed


def run_deliveries(count: int, sniffio: bool) -> float:
    prelude = "" if sniffio else "import sys; sys.modules['sniffio'] = None\n"
    code = prelude + (f"import sys; sys.path.insert(0, {str(ROOT)!r}); sys.argv = ['x']\n"
                      f"import benchmarks.api_bench as b, json; print(json.dumps(b.bench_deliveries({count})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    if out.returncode:
        raise RuntimeError(out.stderr)
    return float(out.stdout.strip().splitlines()[-1])


def bench_latency(scans: int) -> None:
    from station.app import StationOptions, build_station
    from station.domain.events import EventType
    from station.net.sender import SenderConfig

    receiver, base = start_receiver()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            options = StationOptions(data_dir=Path(tmp), api_enabled=False, sweep_interval_s=3600,
                                     webhook_networks=("127.0.0.0/8",), sender=SenderConfig())
            station = build_station(options)
            core = station.core
            station.start()
            assert station.integrations is not None
            passes = [core.passes.create(core.passes.validate(f"G{i}", "multi")) for i in range(100)]

            def measure() -> list[float]:
                times = []
                for i in range(scans):
                    t0 = time.perf_counter()
                    core.scans.submit(passes[i % len(passes)].code)
                    times.append((time.perf_counter() - t0) * 1000)
                return times

            idle = measure()
            # Saturate: 10 subscriptions to pass.scanned (one hangs), and a backlog to send.
            station.integrations.subscribe(EventType.PASS_SCANNED, f"{base}/hang")
            for i in range(9):
                station.integrations.subscribe(EventType.PASS_SCANNED, f"{base}/r{i}")
            # A backlog of 300 deliveries per subscription (the scans' events).
            for _ in range(300):
                core.scans.submit(passes[0].code, "api")
            station.sender.wake()  # type: ignore[union-attr]
            time.sleep(0.5)
            busy = measure()
            pending = sum(station.integrations.counts(h.id)["pending"]
                          for h in station.integrations.list_webhooks())
            station.stop()
    finally:
        receiver.kill()  # uvicorn would wait for the hanging request
        receiver.wait()
    print(f"verdict latency idle        p50 {statistics.median(idle):6.2f} ms   p95 {pct(idle, .95):6.2f} ms")
    print(f"verdict latency saturated   p50 {statistics.median(busy):6.2f} ms   p95 {pct(busy, .95):6.2f} ms"
          f"   ({pending} deliveries still pending afterwards, one target hanging)")
    print(f"saturated/idle p95 ratio    {pct(busy, .95) / pct(idle, .95):.2f}")


def bench_door_rate(scans: int) -> None:
    """The issue's own scenario: 1,000 scans a minute with 10 subscriptions, one of them dead.

    Scans are paced at one every 60 ms (the door's real rhythm, not a flood); each phase runs on
    a fresh station: first with no subscriptions (the baseline), then with ten (one hanging).
    """
    from station.app import StationOptions, build_station
    from station.domain.events import EventType
    from station.net.sender import SenderConfig

    receiver, base = start_receiver()
    results: dict[str, list[float]] = {}
    pending_after = 0
    try:
        for phase in ("no subscriptions", "10 subscriptions, 1 dead"):
            with tempfile.TemporaryDirectory() as tmp:
                options = StationOptions(data_dir=Path(tmp), api_enabled=False, sweep_interval_s=3600,
                                         webhook_networks=("127.0.0.0/8",), sender=SenderConfig())
                station = build_station(options)
                core = station.core
                station.start()
                assert station.integrations is not None
                if phase != "no subscriptions":
                    station.integrations.subscribe(EventType.PASS_SCANNED, f"{base}/hang")
                    for i in range(9):
                        station.integrations.subscribe(EventType.PASS_SCANNED, f"{base}/r{i}")
                passes = [core.passes.create(core.passes.validate(f"G{i}")) for i in range(scans)]
                times: list[float] = []
                next_at = time.perf_counter()
                for p in passes:
                    next_at += 0.060
                    t0 = time.perf_counter()
                    core.scans.submit(p.code, "camera")
                    times.append((time.perf_counter() - t0) * 1000)
                    time.sleep(max(next_at - time.perf_counter(), 0))
                results[phase] = times
                if phase != "no subscriptions":
                    pending_after = sum(station.integrations.counts(h.id)["pending"]
                                        for h in station.integrations.list_webhooks())
                station.stop()
    finally:
        receiver.kill()
        receiver.wait()
    for phase, times in results.items():
        print(f"door at 1,000 scans/min, {phase:<24} p50 {statistics.median(times):6.2f} ms   "
              f"p95 {pct(times, .95):6.2f} ms   max {max(times):6.2f} ms")
    base_p95 = pct(results["no subscriptions"], .95)
    busy_p95 = pct(results["10 subscriptions, 1 dead"], .95)
    print(f"  p95 ratio with/without subscriptions {busy_p95 / base_p95:.2f}; "
          f"{pending_after} deliveries pending at the end (those of the dead target)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=8, help="wrk duration per endpoint")
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--scans", type=int, default=400, help="scans per latency sample")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--door-scans", type=int, default=300,
                        help="scans per phase of the 1,000-scans-a-minute door scenario (60 ms apart)")
    parser.add_argument("--only-door", action="store_true", help="run only the door scenario")
    args = parser.parse_args()
    if args.only_door:
        bench_door_rate(args.door_scans)
        return
    print(f"Station API benchmark: python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    if not args.skip_http:
        if shutil.which("wrk") is None:
            sys.exit("wrk is needed for the request rates: apt-get install -y wrk")
        bench_http(args.seconds)
    with_s = [run_deliveries(args.deliveries, True) for _ in range(2)]
    without = [run_deliveries(args.deliveries, False) for _ in range(2)]
    print(f"webhook deliveries/s        {statistics.median(with_s):8.0f}   (2 subscriptions, local receiver)")
    print(f"  without sniffio           {statistics.median(without):8.0f}   "
          f"(with/without {statistics.median(with_s) / statistics.median(without):.2f})")
    bench_latency(args.scans)
    bench_door_rate(args.door_scans)


if __name__ == "__main__":
    main()
