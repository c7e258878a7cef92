"""Decode benchmark: raw zbar, raw zxing-cpp (QR only) and the station pipeline on degraded
frames, then the camera loop on the demo source. Prints Markdown; not a test.

    taskset -c 1 python benchmarks/decode_bench.py            # full run, ~3-5 minutes
    taskset -c 1 python benchmarks/decode_bench.py --quick    # ~1 minute

The degraded frames come from the test suite's generator (tests/capture/degrade.py, fixed seed),
the harder ones from tests/capture/hard_frames.py (the station's own passes, several degradations
at once, strangers' codes in the background).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "capture")]

from degrade import BUCKETS, CODE_BUCKETS, EMPTY_BUCKETS, make_frame  # noqa: E402
from hard_frames import make_hard_frame  # noqa: E402

from station.capture.debounce import Debouncer  # noqa: E402
from station.capture.decoders import make_decoder  # noqa: E402
from station.capture.demo_source import DemoSource  # noqa: E402
from station.capture.ladder import DecodeLadder, StreamLadder  # noqa: E402
from station.capture.loop import CaptureLoop, FrameDecoder  # noqa: E402
from station.capture.sequence import SequenceReader  # noqa: E402

Engine = Callable[[np.ndarray], set[str]]


def engines() -> dict[str, Engine]:
    zbar, zxing = make_decoder("zbar"), make_decoder("zxing")
    pipeline = DecodeLadder(make_decoder("zxing"))  # default 40 ms budget, real clock
    return {
        "zbar (raw)": lambda img: {d.text for d in zbar.decode(img).detections},
        "zxing-cpp QR (raw)": lambda img: {d.text for d in zxing.decode(img).detections},
        "station pipeline": lambda img: {d.text for d in pipeline.decode(img).detections},
    }


def pct(a: float, b: float) -> str:
    return f"{100 * a / b:.0f}" if b else "-"


def bench_size(size: str, n: int) -> tuple[list[str], dict[str, float]]:
    frames = {b: [make_frame(b, i, size) for i in range(n)] for b in BUCKETS}
    results: dict[str, dict[str, int]] = {}
    false_reads: dict[str, int] = {}
    times: dict[str, list[float]] = {}
    for name, decode in engines().items():
        decode(frames["rotation"][0].image)  # warm up (first zbar/zxing call allocates)
        ok: dict[str, int] = {}
        bad = 0
        ms: list[float] = []
        for bucket, fs in frames.items():
            ok[bucket] = 0
            for f in fs:
                t = time.perf_counter()
                got = decode(f.image)
                ms.append((time.perf_counter() - t) * 1000)
                bad += len(got - set(f.texts))
                ok[bucket] += bool(f.texts) and set(f.texts) <= got
        results[name], false_reads[name], times[name] = ok, bad, ms
    names = list(results)
    lines = [f"### {size} ({n} frames per bucket)", "", "| bucket | " + " | ".join(names) + " |",
             "|---|" + "---:|" * len(names)]
    for bucket in CODE_BUCKETS:
        lines.append(f"| {bucket} | " + " | ".join(f"{pct(results[e][bucket], n)} %" for e in names) + " |")
    overall = {e: sum(results[e][b] for b in CODE_BUCKETS) / (n * len(CODE_BUCKETS)) for e in names}
    lines.append("| **overall (codes)** | " + " | ".join(f"**{100 * overall[e]:.1f} %**" for e in names) + " |")
    for bucket in EMPTY_BUCKETS:
        lines.append(f"| {bucket} (no code): reads | " + " | ".join(str(results[e][bucket]) for e in names) + " |")
    lines.append("| false reads (all frames) | " + " | ".join(str(false_reads[e]) for e in names) + " |")
    lines.append("| decode ms median | " + " | ".join(f"{statistics.median(times[e]):.1f}" for e in names) + " |")
    lines.append("| decode ms p95 | " + " | ".join(f"{np.percentile(times[e], 95):.1f}" for e in names) + " |")
    return lines + [""], {e: overall[e] for e in names}


def bench_hard(n: int) -> list[str]:
    frames = [make_hard_frame(i) for i in range(n)]
    lines = [f"### Harder 1280x720 frames ({n}, tests/capture/hard_frames.py)", "",
             "| decoder | pass read | false reads | decode ms median | decode ms p95 |", "|---|---:|---:|---:|---:|"]
    for name, decode in engines().items():
        decode(frames[0].image)
        read = bad = 0
        ms: list[float] = []
        for f in frames:
            t = time.perf_counter()
            got = decode(f.image)
            ms.append((time.perf_counter() - t) * 1000)
            read += f.text in got
            bad += len(got - f.allowed)  # a read of a stranger's code drawn in the frame is no false read
        lines.append(f"| {name} | {pct(read, n)} % | {bad} | {statistics.median(ms):.1f} | {np.percentile(ms, 95):.1f} |")
    return lines + [""]


LOOP_READERS: dict[str, Callable[[], FrameDecoder]] = {
    "frame by frame (StreamLadder)": lambda: StreamLadder(DecodeLadder()),
    "the sequence (SequenceReader, the loop's default)": lambda: SequenceReader(DecodeLadder()),
}


def bench_loop(seconds: float, reader: str) -> list[str]:
    payloads = [
        "https://passes.example.org/p/AbCdEfGhIjKl?token=" + "a" * 175 + "." + "b" * 86,
        "ZyXwVuTsRqPo",
        "https://elsewhere.example.com/ticket/42",
    ]
    # What rendering the demo costs alone, so the loop's own share can be told apart.
    probe = DemoSource(payloads, fps=0)
    probe.open()
    t = time.process_time()
    for _ in range(60):
        probe.read()
    render_ms = (time.process_time() - t) / 60 * 1000

    scans: list[str] = []
    loop = CaptureLoop(DemoSource(payloads, fps=30), lambda text, source: scans.append(text),
                       decoder=LOOP_READERS[reader](), debouncer=Debouncer())
    loop.start()
    time.sleep(1.0)  # let it settle (warm-up, first cost estimates)
    s0, c0, w0 = loop.status(), time.process_time(), time.monotonic()
    time.sleep(seconds)
    s1, c1, w1 = loop.status(), time.process_time(), time.monotonic()
    loop.stop()
    wall = w1 - w0
    grabbed = s1.frames - s0.frames
    decoded = s1.decoded - s0.decoded
    cpu = (c1 - c0) / wall * 100
    render_cpu = render_ms * grabbed / wall / 10
    return [
        f"### Camera loop: demo source 1280x720 at 30 fps, {seconds:.0f} s, one core, reading {reader}",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| frames grabbed per s | {grabbed / wall:.1f} |",
        f"| frames decoded per s | {decoded / wall:.1f} |",
        f"| frames dropped | {s1.dropped - s0.dropped} |",
        f"| decode ms (moving average at end) | {s1.decode_ms_avg:.1f} |",
        f"| process CPU, % of one core (loop + demo rendering) | {cpu:.0f} % |",
        f"| of which demo rendering (measured alone: {render_ms:.1f} ms/frame) | {render_cpu:.0f} % |",
        f"| loop alone (grab + decode + debounce) | {cpu - render_cpu:.0f} % |",
        f"| scans in the run (3 payloads cycling, 4.5 s each) | {len(scans)} |",
        "",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer frames, 720p only, short loop run")
    parser.add_argument("--frames", type=int, help="frames per bucket (default 24, quick 8)")
    parser.add_argument("--sizes", default=None, help="comma list of 480p,720p,1080p")
    parser.add_argument("--loop-seconds", type=float, default=None)
    parser.add_argument("--hard", type=int, default=None, help="harder frames (default 120, quick 40; 0: none)")
    args = parser.parse_args()
    n = args.frames or (8 if args.quick else 24)
    sizes = (args.sizes or ("720p" if args.quick else "480p,720p,1080p")).split(",")
    seconds = args.loop_seconds or (8.0 if args.quick else 20.0)
    hard = args.hard if args.hard is not None else (40 if args.quick else 120)

    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(f"# Decode benchmark\n\nPython {platform.python_version()}, CPUs allowed: {affinity}, "
          f"started {time.strftime('%Y-%m-%d %H:%M')}\n")
    t0 = time.monotonic()
    for size in sizes:
        lines, _ = bench_size(size, n)
        print("\n".join(lines), flush=True)
    if hard:
        print("\n".join(bench_hard(hard)), flush=True)
    for reader in LOOP_READERS:
        print("\n".join(bench_loop(seconds, reader)), flush=True)
    print(f"Total run time {time.monotonic() - t0:.0f} s.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
