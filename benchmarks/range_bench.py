"""Reading-range benchmark: how far from the webcam does a pass still read, format 1 against 2?

The station makes a pass with every claim set (multi-use, use limit, valid from and until) on a
scratch data directory; its format-2 link is the station's public URL, its format-1 link the one
stations printed before (same key, same claims). Each is rendered by the station's QR renderer
and drawn at a fixed *physical* width (pixels across the code) into 640x480, 1280x720 and
1920x1080 frames, with defocus, motion blur, sensor noise, glare and perspective drawn from
seeded ranges (the same draws for both formats, so they are compared frame for frame). Frames go
through the station's decode pipeline (`DecodeLadder` with the zxing-cpp decoder, as
`station decode`, at the live camera's per-frame budget) and count as read only when the text
is exactly the pass's link. Reading distance is proportional to 1 / width, so the ratio of the
smallest widths that read is the ratio of reading distances. Prints Markdown; not a test.

    taskset -c 1 .venv/bin/python benchmarks/range_bench.py            # ~2-4 minutes
    taskset -c 1 .venv/bin/python benchmarks/range_bench.py --quick    # smoke run, ~30 s
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]
# The scratch station's signing key goes to a file in its scratch folder, never the user's keyring.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

from station.app import build_core  # noqa: E402
from station.capture.decoders import make_decoder  # noqa: E402
from station.capture.ladder import DecodeLadder  # noqa: E402
from station.domain import tokens  # noqa: E402
from station.domain.payload import public_url  # noqa: E402
from station.domain.qr_content import ERROR_LEVEL, make_qr, segments  # noqa: E402

FRAMES = {"640x480": (640, 480), "1280x720": (1280, 720), "1920x1080": (1920, 1080)}
GOAL_READ = 0.90  # a width "reads" when at least this share of its frames read
GOAL_RATIO = 1.6  # format 2 should read from at least 1.6x the distance of format 1


@dataclass(frozen=True, slots=True)
class Degradation:
    """One frame's draws: the same for every format and width, so only the code differs."""

    x: float  # where the code sits (fraction of the free space)
    y: float
    angle: float  # in-plane rotation, degrees
    tilt: float  # perspective: corner jitter as a fraction of the code's width
    defocus: float  # Gaussian sigma, px
    motion: int  # motion-blur streak length, px
    motion_angle: float
    noise: float  # sensor noise sigma, grey levels
    glare: float  # 0 = none, else the peak added brightness (0..1 of white)
    glare_at: tuple[float, float]
    glare_size: float  # fraction of the code's width
    seed: int


def draws(rng: np.random.Generator, n: int) -> list[Degradation]:
    out = []
    for i in range(n):
        out.append(Degradation(
            x=rng.uniform(0.1, 0.9), y=rng.uniform(0.1, 0.9), angle=rng.uniform(-20, 20),
            tilt=rng.uniform(0.0, 0.12), defocus=rng.uniform(0.4, 1.6),
            motion=int(rng.integers(1, 8)), motion_angle=rng.uniform(0, 180),
            noise=rng.uniform(2, 9), glare=rng.uniform(0.3, 0.7) if rng.random() < 0.3 else 0.0,
            glare_at=(rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8)),
            glare_size=rng.uniform(0.15, 0.35), seed=int(rng.integers(1 << 30)),
        ))
    return out


def symbol(text: str, error: str) -> np.ndarray:
    """The station's QR for `text` as a 0/1 matrix with its quiet zone (1 = dark)."""
    return np.array(list(make_qr(text, error).matrix_iter(scale=1, border=4)), dtype=np.uint8)


def frame(matrix: np.ndarray, width: int, size: tuple[int, int], d: Degradation) -> np.ndarray:
    """The code, `width` px across its modules (quiet zone not counted), degraded, in a frame."""
    w, h = size
    modules = matrix.shape[0] - 8
    scale = width / modules
    full = int(round(matrix.shape[0] * scale))
    patch = cv2.resize(np.where(matrix == 1, 25, 230).astype(np.uint8), (full, full),
                       interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(d.seed)
    canvas = np.full((h, w), 128, np.uint8)
    canvas = cv2.add(canvas, rng.normal(0, 18, (h // 16 + 1, w // 16 + 1)).astype(np.int16)
                     .clip(-60, 60).repeat(16, 0).repeat(16, 1)[:h, :w].astype(np.uint8) // 4)
    src = np.float32([[0, 0], [full, 0], [full, full], [0, full]])
    # Rotate about the centre, then jitter the corners (a phone held at an angle).
    c, s = math.cos(math.radians(d.angle)), math.sin(math.radians(d.angle))
    centre = np.float32([d.x * max(w - full, 1) + full / 2, d.y * max(h - full, 1) + full / 2])
    dst = np.float32([[c * (px - full / 2) - s * (py - full / 2), s * (px - full / 2) + c * (py - full / 2)]
                      for px, py in src]) + centre
    dst += rng.uniform(-d.tilt, d.tilt, (4, 2)).astype(np.float32) * full
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(patch, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
    mask = cv2.warpPerspective(np.full_like(patch, 255), m, (w, h), flags=cv2.INTER_NEAREST)
    img = np.where(mask > 0, warped, canvas).astype(np.float32)
    if d.glare:
        gx, gy = cv2.perspectiveTransform(np.float32([[[d.glare_at[0] * full, d.glare_at[1] * full]]]), m)[0, 0]
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r = d.glare_size * width
        img += 255 * d.glare * np.exp(-(((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * r * r)))
    img = cv2.GaussianBlur(img, (0, 0), d.defocus)
    if d.motion > 1:
        k = np.zeros((d.motion, d.motion), np.float32)
        k[d.motion // 2, :] = 1.0 / d.motion
        rot = cv2.getRotationMatrix2D((d.motion / 2 - 0.5, d.motion / 2 - 0.5), d.motion_angle, 1.0)
        k = cv2.warpAffine(k, rot, (d.motion, d.motion))
        img = cv2.filter2D(img, -1, k / max(float(k.sum()), 1e-6))
    img += rng.normal(0, d.noise, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def passes(data_dir: Path) -> dict[str, tuple[str, str]]:
    """Format 1 and format 2 links of one pass the station makes, every claim set, with the
    error level each is rendered at: format 1 as the station printed it (level Q) and at the
    station's level now (M, the fair comparison), format 2 as it prints now."""
    core = build_core(data_dir)
    try:
        new = core.passes.validate("Range Bench", "multi", 1_000_000, "2026-06-01T18:00:00Z",
                                   "2099-12-31T23:00:00Z")
        p = core.passes.create(new, by="bench")
        key = core.ctx.keys.private
        claims = tokens.Claims(pass_id=p.id, code=p.code, type=p.type, max_uses=p.max_uses,
                               valid_from=p.valid_from, valid_until=p.valid_until,
                               kid=tokens.key_id(key.public_key()))
        old = public_url(core.ctx.base_url, p.code, tokens.sign(key, claims))
        for link in (old, p.public_url):  # both must be passes this station admits
            assert core.scans.submit(link).verdict == "accepted", link
        return {"format 1 (as printed: Q)": (old, "q"), "format 1": (old, ERROR_LEVEL),
                "format 2": (p.public_url, ERROR_LEVEL)}
    finally:
        core.close()


def fits(matrix: np.ndarray, width: int, size: tuple[int, int]) -> bool:
    """Whether the code, quiet zone included, turned and tilted as far as the draws go (20°,
    12 %), still fits inside the frame: a wider one is not a reading distance but a code held
    too close."""
    full = width * matrix.shape[0] / (matrix.shape[0] - 8)
    return full * (math.cos(math.radians(20)) + math.sin(math.radians(20)) + 0.24) <= min(size)


def smallest_reading(rates: dict[int, float]) -> int | None:
    """The smallest width from which every wider one (that fits the frame) read at least
    GOAL_READ of its frames; None when none did."""
    best = None
    for width in sorted(rates, reverse=True):
        if rates[width] < 0:  # does not fit the frame
            continue
        if rates[width] < GOAL_READ:
            break
        best = width
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: few frames and widths")
    parser.add_argument("--frames", type=int, help="frames per width and resolution")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--budget-ms", type=float,
                        help="the ladder's time per frame (default: the camera's; `station decode` "
                             "gives an image file 500)")
    args = parser.parse_args()
    n = args.frames or (4 if args.quick else 20)
    widths = [100, 140, 200, 280, 400] if args.quick else [
        80, 90, 100, 112, 125, 140, 160, 180, 200, 225, 250, 280, 315, 355, 400, 450, 500]
    with tempfile.TemporaryDirectory() as tmp:
        links = passes(Path(tmp) / "data")
    ladder = DecodeLadder(make_decoder("zxing"), budget_ms=args.budget_ms)
    rng = np.random.default_rng(args.seed)
    degradations = {name: draws(rng, n) for name in FRAMES}
    print(f"# Reading range: format 1 against format 2 ({n} frames per width and resolution)\n")
    print(f"Decoding: the station's ladder (zxing-cpp), {ladder.budget_ms:.0f} ms a frame.\n")
    rates: dict[str, dict[str, dict[int, float]]] = {}
    false_reads = 0
    for fmt, (link, error) in links.items():
        matrix = symbol(link, error)
        qr = make_qr(link, error)
        # What a decoder returns: the QR carries format 2's URL prefix upper case (alphanumeric
        # mode) while publicUrl keeps the vendor's lower case; the scan service takes either.
        printed = "".join(part for part, _ in segments(link))
        print(f"- {fmt}: {len(link)} characters, QR version {qr.version} "
              f"({matrix.shape[0] - 8}x{matrix.shape[0] - 8} modules), level {qr.error}")
        rates[fmt] = {name: {} for name in FRAMES}
        for name, size in FRAMES.items():
            passed = 0
            for width in widths:
                if not fits(matrix, width, size):
                    rates[fmt][name][width] = -1.0
                    continue
                if passed >= 2:  # two widths in a row read: wider ones are taken to read too
                    rates[fmt][name][width] = math.nan
                    continue
                read = 0
                for d in degradations[name]:
                    texts = {x.text for x in ladder.decode(frame(matrix, width, size, d)).detections}
                    read += printed in texts
                    false_reads += len(texts - {printed})
                rates[fmt][name][width] = read / n
                passed = passed + 1 if read / n >= GOAL_READ else 0
    print()
    print("| frame | format | " + " | ".join(f"{w} px" for w in widths) + " | smallest width ≥ 90 % |")
    print("|---|---|" + "---:|" * (len(widths) + 1))
    smallest: dict[str, dict[str, int | None]] = {}
    for name in FRAMES:
        for fmt in links:
            got = rates[fmt][name]
            smallest.setdefault(fmt, {})[name] = smallest_reading(got)
            print(f"| {name} | {fmt} | " + " | ".join(
                "·" if math.isnan(got[w]) else "×" if got[w] < 0 else f"{100 * got[w]:.0f} %"
                for w in widths)
                  + f" | {smallest[fmt][name] or '-'} |")
    print()
    print("(· : not run, two narrower widths already read ≥ 90 %; × : the code, turned and tilted,"
          " would not fit the frame)\n")
    widest = {fmt: {name: max((w for w in widths if rates[fmt][name][w] >= 0 or math.isnan(rates[fmt][name][w])),
                              default=0) for name in FRAMES} for fmt in links}
    over = {old: _ratio(smallest, widest, old) for old in links if old != "format 2"}
    print(f"false reads: {false_reads} (goal 0)")
    as_printed = over["format 1 (as printed: Q)"]
    print("reading distance, format 2 / format 1 as the station printed it (level Q): "
          + (f"{as_printed:.2f}x" if as_printed else "n/a"))
    same = over["format 1"]
    print(f"reading distance, format 2 / format 1 at the same level (M): "
          + (f"{same:.2f}x" if same else "n/a") + f" (goal ≥ {GOAL_RATIO}x): "
          + ("MET" if same and same >= GOAL_RATIO and not false_reads else "NOT MET"))
    return 0


def _ratio(smallest: dict[str, dict[str, int | None]], widest: dict[str, dict[str, int]],
           old: str) -> float | None:
    """Format 2's reading distance over `old`'s, per frame size, and their geometric mean over
    the sizes where both reached 90 % (a size where only format 2 did is left out: its ratio
    there has no bound)."""
    ratios = []
    for name in FRAMES:
        one, two = smallest[old][name], smallest["format 2"][name]
        ratio = one / two if one and two else None
        if ratio:
            ratios.append(ratio)

        def where(fmt: str, got: int | None) -> str:
            return f"{got} px" if got else f"nowhere up to {widest[fmt][name]} px (the widest that fits)"

        print(f"- {name}: {old} reads from {where(old, one)}, format 2 from "
              f"{where('format 2', two)}: distance ratio "
              + (f"{ratio:.2f}x" if ratio else "n/a"))
    print()
    return math.exp(sum(map(math.log, ratios)) / len(ratios)) if ratios else None


if __name__ == "__main__":
    raise SystemExit(main())
