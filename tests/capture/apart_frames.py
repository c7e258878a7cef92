"""Frames drawn apart from the ladder: degraded webcam-like frames of one QR code each, in nine
categories, for a figure on how `station decode` reads frames it was never developed on.

Every frame holds one QR code (segno, level M, quiet zone 4) printed on a paper sheet or shown on
a phone, placed with a random roll and up to 22 degrees of tilt on a desk (wood, fabric, clutter,
text) or a blurred room background, seen through mild lens blur, vignetting and sensor noise, with
ONE dominant degradation chosen by its category:

- motion: a straight or shaken-hand smear 6-45 px long (log-uniform) over the whole frame, the
  code only, or part of the frame;
- glare: specular spots (peak 0.8-3.5 in linear light), a veil, bright bands, or a reflection on
  a phone's screen;
- occlusion: a finger, a sticker or a pen over 3-25 % of the symbol (log-uniform), now and then
  on a finder pattern;
- defocus: a disc blur of radius 2-8 px on modules of 2.5-9 px;
- lowlight: 4-60 electrons at full white (log-uniform), read noise, a colour cast, auto gain to a
  dim mean and sometimes the camera's denoising;
- small: modules of 1.5-3 px;
- screen: a phone screen in dark mode, beating moire (amplitude 0.2-0.6) and / or turned up
  bright (gain 1.8-4, blooming);
- paper: the sheet bent over a cylinder (half-angle 0.4-1.25 rad), crumpled (0.3-1.6 modules),
  folded once or twice, and often badly printed (ink spread or starved, faded, streaks, speckle);
- nocode: no code at all, only code-like distractors (checkerboards, fake QR symbols with real
  finder patterns, bar stripes, lone finders, text): every read is a false read.

Payloads are the station's passes as printed: format 2 (the upper-case URL prefix and 189-217
digits), format 1 (a URL with a 12-character code and a signed token) and bare 12-character
codes. Frames are 1280x720 (70 %), 640x480 (15 %) or 1920x1080 (15 %); a third are saved as JPEG
of quality 40-85, the rest as PNG.

This generator was written apart from the ladder's own frame generators (tests/capture/
frame_families.py, hard_frames.py, degrade.py, photo_frames.py) and from the ladder's code
(station/capture/), so that a figure on it checks how the reader generalises rather than how
well it fits the frames it was developed on. The categories' ranges (RANGES) were set once, on
seed 1, so that raw zxing-cpp reads 30-80 % of each category, and were not tuned to the station;
seed 2 is the one the benchmark reports by default (benchmarks/apart_bench.py).

Every frame comes from its own generator seeded with (seed, category number, index), so a frame
does not depend on which others are drawn. The drawing code is kept as it was written (only names
made readable and types added): changing it changes every figure measured on it.
"""

from __future__ import annotations

import json
import math
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import segno

Rng = np.random.Generator
Carrier = dict[str, Any]  # a paper sheet or phone in its own plane (make_carrier)
Projection = Callable[[Any], np.ndarray]  # carrier-plane points to frame points (place)

CATEGORIES: tuple[str, ...] = ("motion", "glare", "occlusion", "defocus", "lowlight", "small", "screen", "paper",
                               "nocode")
B62 = string.digits + string.ascii_letters
B64U = string.ascii_letters + string.digits + '-_'
WORDS = ('ticket pass gate station platform boarding valid until adult single return zone seat '
         'coach north south express depart arrive date time price total ref order receipt '
         'keep this scan here please thank you notes monday meeting draft todo').split()
FONTS = [cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
         cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_COMPLEX_SMALL]

# ---------------------------------------------------------------- ranges
# Kept together so the one tuning pass is visible: set on seed 1 so that raw zxing-cpp reads
# 30-80 % of each category, never tuned to the station.
RANGES = dict(
    motion_len=(6, 45),          # px, linear or path length (log-uniform)
    glare_peak=(0.8, 3.5),       # linear-light peak of hot spots (>1 saturates)
    occl_cov=(0.03, 0.25),       # fraction of symbol area covered (log-uniform)
    defocus_r=(2.0, 8.0),        # disc radius px
    defocus_mod=(2.5, 9.0),      # module px for defocus frames
    low_photons=(4, 60),         # electrons at full white (log-uniform)
    small_mod=(1.5, 3.0),        # module px
    moire_amp=(0.2, 0.6),
    bright_gain=(1.8, 4.0),
    paper_theta=(0.4, 1.25),     # cylinder half-angle, rad
    crumple_amp=(0.3, 1.6),      # modules
)


def random_string(rng: Rng, alphabet: str, n: int) -> str:
    return ''.join(alphabet[i] for i in rng.integers(0, len(alphabet), n))


def uniform_in(rng: Rng, lo_hi: tuple[float, float]) -> float:
    return float(rng.uniform(*lo_hi))


def log_uniform_in(rng: Rng, lo_hi: tuple[float, float]) -> float:
    return float(math.exp(rng.uniform(math.log(lo_hi[0]), math.log(lo_hi[1]))))


# ---------------------------------------------------------------- payloads
def make_payload(rng: Rng) -> tuple[str, np.ndarray, str, int]:
    """(text, module matrix, payload kind, version) of one code: format 2, format 1 or a bare code."""
    kind = ['fmt2', 'fmt1', 'bare'][int(rng.integers(0, 3))]
    if kind == 'fmt2':
        n = int(rng.integers(189, 218))
        prefix = 'HTTPS://PASSES.STATION.EXAMPLE/P/'
        digits = '2' + random_string(rng, string.digits, n - 1)
        q = segno.make([prefix, digits], error='m', boost_error=False)  # segno picks modes/version
        text = prefix + digits
    elif kind == 'fmt1':
        text = ('https://passes.station.example/p/' + random_string(rng, B62, 12) + '?token=' +
                random_string(rng, B64U, int(rng.integers(240, 261))) + '.' + random_string(rng, B64U, 86))
        q = segno.make(text, error='m', boost_error=False)
    else:
        text = random_string(rng, B62, 12)
        q = segno.make(text, error='m', boost_error=False, micro=False)
    m = np.array([list(r) for r in q.matrix], np.uint8)
    return text, m, kind, q.version


# ---------------------------------------------------------------- small utils
def smooth_noise(rng: Rng, h: int, w: int, scale: float, octaves: int = 1) -> np.ndarray:
    """Low-frequency noise in [-1,1]-ish with feature size ~scale px."""
    out = np.zeros((h, w), np.float32)
    amp = 1.0
    for o in range(octaves):
        s = max(2.0, scale / (2 ** o))
        gh, gw = int(h / s) + 3, int(w / s) + 3
        g = rng.standard_normal((gh, gw)).astype(np.float32)
        out += amp * cv2.resize(g, (w, h), interpolation=cv2.INTER_CUBIC)
        amp *= 0.5
    return out / (np.abs(out).max() + 1e-6)


def rand_color(rng: Rng, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    return rng.uniform(lo, hi, 3).astype(np.float32)


def put_text(img: np.ndarray, rng: Rng, x: float, y: float, scale: float, color: tuple[float, ...],
             thick: int = 1, n_words: int | None = None) -> None:
    n = n_words or int(rng.integers(1, 5))
    s = ' '.join(rng.choice(WORDS) for _ in range(n))
    if rng.random() < 0.3:
        s = s.upper()
    if rng.random() < 0.2:
        s += ' ' + random_string(rng, string.digits, int(rng.integers(2, 8)))
    cv2.putText(img, s, (int(x), int(y)), int(rng.choice(FONTS)), scale, tuple(float(c) for c in color),
                thick, cv2.LINE_AA)


def to_lin(img: np.ndarray) -> np.ndarray:
    return np.power(np.clip(img, 0, 1), 2.2)


def to_srgb(lin: np.ndarray) -> np.ndarray:
    return np.power(np.clip(lin, 0, 1), 1 / 2.2)


def poly_mask(shape: tuple[int, ...], pts: Any, blur: float = 0.0) -> np.ndarray:
    m = np.zeros(shape[:2], np.float32)
    cv2.fillPoly(m, [np.round(np.asarray(pts) * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
    if blur > 0:
        m = cv2.GaussianBlur(m, (0, 0), blur)
    return m


# ---------------------------------------------------------------- background
def make_background(rng: Rng, W: int, H: int) -> tuple[np.ndarray, str]:
    """A desk (textured, cluttered) or a blurred room background, float BGR in [0, 1]."""
    kind = 'desk' if rng.random() < 0.6 else 'room'
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    if kind == 'desk':
        palette = [(0.25, 0.38, 0.55), (0.35, 0.5, 0.65), (0.8, 0.8, 0.8), (0.2, 0.2, 0.22),
                   (0.55, 0.58, 0.6), (0.15, 0.22, 0.35), (0.9, 0.88, 0.85)]
        base = np.array(palette[int(rng.integers(len(palette)))], np.float32) * rng.uniform(0.8, 1.15, 3)
        img = np.ones((H, W, 3), np.float32) * base
        tex = rng.random()
        if tex < 0.4:  # wood grain
            ang = rng.uniform(0, np.pi)
            t = xx * math.cos(ang) + yy * math.sin(ang)
            warp = smooth_noise(rng, H, W, rng.uniform(80, 300)) * rng.uniform(10, 40)
            g = np.sin((t + warp) * 2 * np.pi / rng.uniform(6, 25))
            img *= (1 + rng.uniform(0.04, 0.15) * g)[..., None]
        elif tex < 0.7:  # fabric / speckle
            n = rng.standard_normal((H, W)).astype(np.float32)
            n = cv2.GaussianBlur(n, (0, 0), rng.uniform(0.6, 2.0))
            img *= (1 + rng.uniform(0.03, 0.1) * n / (n.std() + 1e-6))[..., None]
        img *= (1 + 0.1 * smooth_noise(rng, H, W, rng.uniform(150, 500)))[..., None]
    else:
        c1, c2 = rand_color(rng, 0.15, 0.85), rand_color(rng, 0.1, 0.8)
        ang = rng.uniform(0, 2 * np.pi)
        t = (xx * math.cos(ang) + yy * math.sin(ang))
        t = (t - t.min()) / (t.max() - t.min() + 1e-6)
        img = c1 * (1 - t[..., None]) + c2 * t[..., None]
        # large out-of-focus room shapes (window, door, shelf)
        for _ in range(int(rng.integers(2, 6))):
            x0, y0 = rng.uniform(-0.2, 1.0) * W, rng.uniform(-0.2, 1.0) * H
            w, h = rng.uniform(0.1, 0.5) * W, rng.uniform(0.1, 0.8) * H
            col = rand_color(rng, 0.1, 1.0) if rng.random() < 0.8 else np.ones(3, np.float32) * 0.98
            m = poly_mask((H, W), [(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)])
            img = img * (1 - m[..., None]) + col * m[..., None]
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(4, 14))
    img = img.astype(np.float32)
    # sharp clutter
    n_obj = int(rng.integers(3, 12)) if kind == 'desk' else int(rng.integers(0, 5))
    for _ in range(n_obj):
        r = rng.random()
        col = tuple(float(c) for c in rand_color(rng))
        if r < 0.3:  # paper / book / box
            cx, cy = rng.uniform(0, W), rng.uniform(0, H)
            w, h, a = rng.uniform(40, 400), rng.uniform(40, 400), rng.uniform(0, 180)
            box = cv2.boxPoints(((cx, cy), (w, h), a))
            cv2.fillPoly(img, [box.astype(np.int32)], col, cv2.LINE_AA)
            if rng.random() < 0.6:
                tc = (0.1, 0.1, 0.1) if sum(col) > 1.5 else (0.9, 0.9, 0.9)
                for k in range(int(rng.integers(1, 6))):
                    put_text(img, rng, cx - w / 3, cy - h / 3 + k * 18, rng.uniform(0.4, 0.8), tc)
        elif r < 0.45:  # mug / coaster
            cv2.circle(img, (int(rng.uniform(0, W)), int(rng.uniform(0, H))), int(rng.uniform(20, 120)),
                       col, int(rng.choice([-1, 3, 8])), cv2.LINE_AA)
        elif r < 0.6:  # cable / pen line
            pts = np.cumsum(rng.normal(0, 40, (6, 2)), 0) + [rng.uniform(0, W), rng.uniform(0, H)]
            cv2.polylines(img, [pts.astype(np.int32)], False, col, int(rng.integers(2, 9)), cv2.LINE_AA)
        elif r < 0.85:  # text
            put_text(img, rng, rng.uniform(0, W * 0.8), rng.uniform(20, H), rng.uniform(0.5, 2.0), col,
                     int(rng.integers(1, 4)))
        else:  # keyboard-ish grid
            x0, y0 = rng.uniform(0, W * 0.8), rng.uniform(0, H * 0.8)
            k = rng.uniform(12, 30)
            for i in range(int(rng.integers(3, 12))):
                for j in range(int(rng.integers(2, 5))):
                    cv2.rectangle(img, (int(x0 + i * k * 1.15), int(y0 + j * k * 1.15)),
                                  (int(x0 + i * k * 1.15 + k), int(y0 + j * k * 1.15 + k)), col, -1, cv2.LINE_AA)
    return np.clip(img, 0, 1), kind


# ---------------------------------------------------------------- carriers
def code_coverage(matrix: np.ndarray, sm: int, spread: float = 0.0) -> np.ndarray:
    """Ink coverage image (1 = dark) at sm px/module; spread>0 grows ink (fraction of module)."""
    cov = np.kron(matrix.astype(np.float32), np.ones((sm, sm), np.float32))
    if spread != 0.0:
        # ink spread / starvation: grow (or shrink) dark areas by |spread| module per side, round corners
        r = max(1, int(round(abs(spread) * sm)))
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        cov = cv2.dilate(cov, k) if spread > 0 else cv2.erode(cov, k)
        cov = np.clip((cv2.GaussianBlur(cov, (0, 0), 0.15 * sm) - 0.5) / 0.3 + 0.5, 0, 1)
    return cov


def make_carrier(rng: Rng, matrix: np.ndarray, sm: int, kind: str, dark_mode: bool = False,
                 print_fx: dict[str, Any] | None = None, with_code: bool = True) -> Carrier:
    """Returns dict with img(h,w,3), alpha, scr (screen mask), cm (symbol mask), code box, finder centres."""
    n = matrix.shape[0]
    qz = 4
    code_px = (n + 2 * qz) * sm
    info = {}
    if kind == 'paper':
        ml = [int(rng.uniform(0.0, 8) * sm) for _ in range(4)]  # extra margin l,t,r,b beyond quiet zone
        if rng.random() < 0.5:
            ml[3] += int(rng.uniform(4, 14) * sm)  # room for text under the code
        w, h = code_px + ml[0] + ml[2], code_px + ml[1] + ml[3]
        paper = np.array([0.93, 0.95, 0.96], np.float32) * rng.uniform(0.85, 1.03) * rng.uniform(0.95, 1.03, 3)
        img = np.ones((h, w, 3), np.float32) * np.clip(paper, 0, 1)
        ink = np.ones(3, np.float32) * rng.uniform(0.03, 0.15)
        if rng.random() < 0.15:
            ink = np.array([0.3, 0.12, 0.05], np.float32)  # blue-black ink (BGR)
        ox, oy = ml[0] + qz * sm, ml[1] + qz * sm
        # printed text in the bottom margin
        if ml[3] > 4 * sm:
            for k in range(int(ml[3] / (3 * sm))):
                yb = oy + n * sm + qz * sm + int((k + 1) * 2.6 * sm)
                if yb < h - sm:
                    put_text(img, rng, ml[0] + sm, yb, sm / 12.0, tuple(float(c) for c in ink),
                             max(1, sm // 5), n_words=int(rng.integers(2, 5)))
        if with_code:
            spread = 0.0
            strength = np.ones((n * sm, n * sm), np.float32)
            if print_fx:
                if print_fx.get('spread'):
                    spread = print_fx['spread']
                if print_fx.get('fade'):
                    f = print_fx['fade']
                    strength = f + (1 - f) * 0.5 * smooth_noise(rng, n * sm, n * sm, n * sm / 3) + 0.0
                    strength = np.clip(strength, 0.15, 1)
                if print_fx.get('streaks'):
                    for _ in range(print_fx['streaks']):
                        x = int(rng.uniform(0, n * sm))
                        sw = max(1, int(rng.uniform(0.15, 0.8) * sm))
                        strength[:, x:x + sw] *= rng.uniform(0.1, 0.5)
                if print_fx.get('speckle'):
                    sp = (rng.random((n * sm, n * sm)) < print_fx['speckle']).astype(np.float32)
                    sp = cv2.GaussianBlur(cv2.dilate(sp, np.ones((2, 2))), (0, 0), 0.7)
                    strength *= 1 - 0.8 * np.clip(sp * 2, 0, 1)
            cov = code_coverage(matrix, sm, spread) * strength
            sub = img[oy:oy + n * sm, ox:ox + n * sm]
            img[oy:oy + n * sm, ox:ox + n * sm] = sub * (1 - cov[..., None]) + ink * cov[..., None]
        scr = np.zeros((h, w), np.float32)
        alpha = np.ones((h, w), np.float32)
        info['paper'] = True
    else:  # phone
        scr_w = int(code_px / rng.uniform(0.72, 0.92))
        scr_h = int(scr_w * rng.uniform(1.8, 2.15))
        bez = int(scr_w * rng.uniform(0.03, 0.07))
        w, h = scr_w + 2 * bez, scr_h + 2 * bez
        img = np.ones((h, w, 3), np.float32) * rng.uniform(0.02, 0.1)
        alpha = np.zeros((h, w), np.float32)
        rad = int(w * rng.uniform(0.08, 0.14))
        cv2.rectangle(alpha, (rad, 0), (w - rad, h), 1, -1)
        cv2.rectangle(alpha, (0, rad), (w, h - rad), 1, -1)
        for cx, cy in [(rad, rad), (w - rad, rad), (rad, h - rad), (w - rad, h - rad)]:
            cv2.circle(alpha, (cx, cy), rad, 1, -1, cv2.LINE_AA)
        # phone edge highlight
        edge = cv2.GaussianBlur(alpha, (0, 0), max(1, bez / 4)) * alpha
        img += (0.15 * (1 - edge) * alpha)[..., None]
        scr = np.zeros((h, w), np.float32)
        srad = int(rad * 0.7)
        cv2.rectangle(scr, (bez + srad, bez), (bez + scr_w - srad, bez + scr_h), 1, -1)
        cv2.rectangle(scr, (bez, bez + srad), (bez + scr_w, bez + scr_h - srad), 1, -1)
        for cx, cy in [(bez + srad, bez + srad), (bez + scr_w - srad, bez + srad),
                       (bez + srad, bez + scr_h - srad), (bez + scr_w - srad, bez + scr_h - srad)]:
            cv2.circle(scr, (cx, cy), srad, 1, -1, cv2.LINE_AA)
        if dark_mode:
            bgc = np.ones(3, np.float32) * rng.uniform(0.04, 0.14)
            fg = np.ones(3, np.float32) * rng.uniform(0.8, 0.97)
        else:
            bgc = np.ones(3, np.float32) * rng.uniform(0.92, 1.0)
            fg = np.ones(3, np.float32) * rng.uniform(0.0, 0.08)
        screen = np.ones((h, w, 3), np.float32) * bgc
        # app UI: header bar and text lines
        hb = int(scr_h * rng.uniform(0.06, 0.12))
        screen[bez:bez + hb] = rand_color(rng, 0.2, 0.9)
        ox = bez + (scr_w - n * sm) // 2
        oy = bez + int((scr_h - code_px) * rng.uniform(0.3, 0.6)) + qz * sm
        tc = tuple(float(c) for c in fg)
        for k in range(int(rng.integers(1, 4))):
            put_text(screen, rng, bez + scr_w * 0.1, bez + hb + (k + 1) * scr_w * 0.08, scr_w / 500.0, tc,
                     max(1, scr_w // 250))
        yb = oy + n * sm + qz * sm
        for k in range(int(rng.integers(0, 4))):
            yy = yb + (k + 1) * scr_w * 0.07
            if yy < bez + scr_h - 5:
                put_text(screen, rng, bez + scr_w * 0.1, yy, scr_w / 600.0, tc, max(1, scr_w // 300))
        if with_code:
            cov = code_coverage(matrix, sm)
            sub = screen[oy:oy + n * sm, ox:ox + n * sm]
            screen[oy:oy + n * sm, ox:ox + n * sm] = sub * (1 - cov[..., None]) + fg * cov[..., None]
        img = img * (1 - scr[..., None]) + screen * scr[..., None]
        info['dark_mode'] = dark_mode
    cm = np.zeros((h, w), np.float32)
    if with_code:
        cm[oy:oy + n * sm, ox:ox + n * sm] = 1
    fc = [(ox + 3.5 * sm, oy + 3.5 * sm), (ox + (n - 3.5) * sm, oy + 3.5 * sm), (ox + 3.5 * sm, oy + (n - 3.5) * sm)]
    box = [(ox, oy), (ox + n * sm, oy), (ox + n * sm, oy + n * sm), (ox, oy + n * sm)]
    return dict(img=img.astype(np.float32), alpha=alpha, scr=scr, cm=cm, box=box, finders=fc, sm=sm, n=n,
                kind=kind, **info)


# ---------------------------------------------------------------- paper deformations (carrier plane)
def remap_carrier(car: Carrier, mx: np.ndarray, my: np.ndarray) -> None:
    for k in ('img', 'alpha', 'scr', 'cm'):
        car[k] = cv2.remap(car[k], mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def paper_deform(rng: Rng, car: Carrier) -> tuple[str, dict[str, Any]]:
    """Bend, crumple and / or fold the paper carrier in place; returns (geometry, description)."""
    h, w = car['alpha'].shape
    sm = car['sm']
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    shade = np.ones((h, w), np.float32)
    kinds = []
    r = rng.random()
    geo = 'curve' if r < 0.35 else ('crumple' if r < 0.65 else ('fold' if r < 0.9 else 'curve+fold'))
    mx, my = xx.copy(), yy.copy()
    desc = {}
    if 'curve' in geo:
        phi = rng.uniform(0, np.pi)
        c, s = math.cos(phi), math.sin(phi)
        cx, cy = w / 2, h / 2
        p = (xx - cx) * c + (yy - cy) * s
        half = 0.5 * abs(w * c) + 0.5 * abs(h * s)
        theta = uniform_in(rng, RANGES['paper_theta'])
        R = half / theta
        Rp = R * math.sin(theta) * 1.0001
        pc = np.clip(p * (R * math.sin(theta)) / half, -Rp, Rp)  # output spans the projected width
        # output coordinate p -> scaled projected coordinate pc -> arc length
        src = R * np.arcsin(np.clip(pc / R, -1, 1))
        d = src - p
        mx += d * c
        my += d * s
        ang = src / R
        la = rng.uniform(-0.8, 0.8)
        shade *= 0.6 + 0.4 * np.clip(np.cos(ang - la), 0, 1)
        desc['curve_theta'] = round(theta, 2)
    if geo == 'crumple':
        a = uniform_in(rng, RANGES['crumple_amp']) * sm
        hf = smooth_noise(rng, h, w, rng.uniform(0.2, 0.4) * w, octaves=2)
        cr = np.zeros((h, w), np.float32)
        ncr = int(rng.integers(2, 7))
        for _ in range(ncr):  # sharp creases: tent-shaped ridges/valleys
            ang = rng.uniform(0, np.pi)
            px, py = rng.uniform(0, w), rng.uniform(0, h)
            dist = (xx - px) * math.cos(ang) + (yy - py) * math.sin(ang)
            cr += rng.uniform(0.3, 1.0) * rng.choice([-1, 1]) * np.exp(-np.abs(dist) / (rng.uniform(0.05, 0.15) * w))
        # smooth displacement (a modules) plus a small kink at creases
        mx += a * smooth_noise(rng, h, w, 0.3 * w) + 0.25 * sm * cr
        my += a * smooth_noise(rng, h, w, 0.3 * w) - 0.25 * sm * cr
        hsum = hf + 0.3 * cr
        gy, gx = np.gradient(hsum)
        gmag = np.percentile(np.abs(np.concatenate([gx.ravel(), gy.ravel()])), 99) + 1e-6
        lx, ly = math.cos(rng.uniform(0, 2 * np.pi)), math.sin(rng.uniform(0, 2 * np.pi))
        shade *= np.clip(1 + rng.uniform(0.12, 0.35) * (gx * lx + gy * ly) / gmag, 0.5, 1.2)
        desc['crumple_mod'] = round(a / sm, 2)
        desc['creases'] = ncr
    if 'fold' in geo:
        nf = int(rng.integers(1, 3))
        for _ in range(nf):
            ang = rng.uniform(0, np.pi)
            nx, ny = math.cos(ang), math.sin(ang)
            px, py = w / 2 + rng.uniform(-0.25, 0.25) * w, h / 2 + rng.uniform(-0.25, 0.25) * h
            dist = (mx - px) * nx + (my - py) * ny
            sc = rng.uniform(0.82, 0.97)
            extra = np.where(dist > 0, dist * (1 / sc - 1), 0)
            mx += extra * nx
            my += extra * ny
            distout = (xx - px) * nx + (yy - py) * ny
            f = rng.uniform(0.55, 0.92)
            side = 1 / (1 + np.exp(np.clip(-distout / 1.5, -50, 50)))
            shade *= 1 - (1 - f) * side
            crease = np.exp(-(distout / max(1.0, 0.12 * sm)) ** 2)
            shade *= 1 + rng.choice([-0.35, 0.25]) * crease
        desc['folds'] = nf
    remap_carrier(car, mx, my)
    car['img'] *= shade[..., None]
    # finder/box positions are only approximately moved; fine for metadata
    return geo, desc


# ---------------------------------------------------------------- placement / warping
def place(rng: Rng, car: Carrier, W: int, H: int, mod_px: float,
          tilt_max: float = 22) -> tuple[np.ndarray, Projection, float]:
    """Homography carrier->frame with rotation, tilt, and module size ~mod_px at the code centre."""
    sm = car['sm']
    bx = np.array(car['box'], np.float32)
    ccx, ccy = bx[:, 0].mean(), bx[:, 1].mean()
    code_w = (car['n'] + 8) * mod_px
    f = W * rng.uniform(0.8, 1.3)
    for attempt in range(60):
        roll = rng.uniform(0, 2 * np.pi)
        ax, ay = np.radians(rng.uniform(-tilt_max, tilt_max, 2))
        Rz = np.array([[math.cos(roll), -math.sin(roll), 0], [math.sin(roll), math.cos(roll), 0], [0, 0, 1]])
        Rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
        Ry = np.array([[math.cos(ay), 0, math.sin(ay)], [0, 1, 0], [-math.sin(ay), 0, math.cos(ay)]])
        R = Ry @ Rx @ Rz
        s = mod_px / sm
        margin = code_w * 0.6
        tx = rng.uniform(margin, W - margin) if W > 2 * margin else W / 2
        ty = rng.uniform(margin, H - margin) if H > 2 * margin else H / 2

        def proj(pts):
            pts = np.asarray(pts, np.float64)
            P3 = np.stack([(pts[:, 0] - ccx) * s, (pts[:, 1] - ccy) * s, np.zeros(len(pts))], 1) @ R.T
            z = f + P3[:, 2]
            return np.stack([f * P3[:, 0] / z + tx, f * P3[:, 1] / z + ty], 1)
        h, w = car['alpha'].shape
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
        dst = proj(src)
        qz = 4 * sm
        qbox = np.array([[bx[0, 0] - qz, bx[0, 1] - qz], [bx[1, 0] + qz, bx[1, 1] - qz],
                         [bx[2, 0] + qz, bx[2, 1] + qz], [bx[3, 0] - qz, bx[3, 1] + qz]])
        qd = proj(qbox)
        if qd[:, 0].min() >= 2 and qd[:, 1].min() >= 2 and qd[:, 0].max() <= W - 2 and qd[:, 1].max() <= H - 2:
            break
        if attempt % 10 == 9:
            mod_px *= 0.9
            code_w *= 0.9
    Hm = cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32))
    return Hm, proj, mod_px


def warp_carrier(car: Carrier, Hm: np.ndarray, W: int, H: int,
                 ss: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The carrier warped into the frame (3x supersampled): premultiplied layer, alpha, screen, code masks."""
    h, w = car['alpha'].shape
    corners = cv2.perspectiveTransform(np.array([[[0, 0], [w, 0], [w, h], [0, h]]], np.float32), Hm)[0]
    x0 = int(max(0, math.floor(corners[:, 0].min()) - 2))
    y0 = int(max(0, math.floor(corners[:, 1].min()) - 2))
    x1 = int(min(W, math.ceil(corners[:, 0].max()) + 2))
    y1 = int(min(H, math.ceil(corners[:, 1].max()) + 2))
    pw, ph = x1 - x0, y1 - y0
    S = np.array([[ss, 0, -x0 * ss + (ss - 1) / 2.0], [0, ss, -y0 * ss + (ss - 1) / 2.0], [0, 0, 1]])
    # (ss-1)/2 keeps pixel centres aligned after INTER_AREA downsampling
    Hs = S @ Hm
    a = car['alpha']
    pre = car['img'] * a[..., None]
    st1 = cv2.warpPerspective(np.dstack([pre, a]), Hs, (pw * ss, ph * ss), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    st2 = cv2.warpPerspective(np.dstack([car['scr'], car['cm'], np.zeros_like(a)]), Hs, (pw * ss, ph * ss),
                              flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    st1 = cv2.resize(st1, (pw, ph), interpolation=cv2.INTER_AREA)
    st2 = cv2.resize(st2, (pw, ph), interpolation=cv2.INTER_AREA)
    layer = np.zeros((H, W, 3), np.float32)
    alpha = np.zeros((H, W), np.float32)
    scr = np.zeros((H, W), np.float32)
    cm = np.zeros((H, W), np.float32)
    layer[y0:y1, x0:x1] = st1[..., :3]
    alpha[y0:y1, x0:x1] = st1[..., 3]
    scr[y0:y1, x0:x1] = st2[..., 0]
    cm[y0:y1, x0:x1] = st2[..., 1]
    return layer, alpha, scr, cm


# ---------------------------------------------------------------- kernels
def splat_kernel(pts: Any) -> np.ndarray:
    pts = np.asarray(pts, np.float64)
    pts = pts - pts.mean(0)
    r = int(math.ceil(np.abs(pts).max())) + 2
    k = np.zeros((2 * r + 1, 2 * r + 1), np.float64)
    for x, y in pts:
        x += r
        y += r
        ix, iy = int(math.floor(x)), int(math.floor(y))
        fx, fy = x - ix, y - iy
        k[iy, ix] += (1 - fx) * (1 - fy)
        k[iy, ix + 1] += fx * (1 - fy)
        k[iy + 1, ix] += (1 - fx) * fy
        k[iy + 1, ix + 1] += fx * fy
    return (k / k.sum()).astype(np.float32)


def linear_kernel(L: float, ang: float) -> np.ndarray:
    t = np.linspace(-L / 2, L / 2, max(8, int(L * 4)))
    return splat_kernel(np.stack([t * math.cos(ang), t * math.sin(ang)], 1))


def shake_kernel(rng: Rng, L: float) -> np.ndarray:
    n = 300
    v = rng.standard_normal(2)
    v /= np.linalg.norm(v)
    pts = [np.zeros(2)]
    turn = rng.uniform(0.02, 0.15)
    for _ in range(n):
        v = v + turn * rng.standard_normal(2)
        v /= np.linalg.norm(v)
        pts.append(pts[-1] + v)
    pts = np.array(pts)
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1).sum()
    pts *= L / seg
    # uneven speed: exposure dwells longer at the ends of a shake
    w = rng.uniform(0, 1)
    idx = np.linspace(0, 1, len(pts))
    dens = 1 + w * 3 * (np.abs(idx - 0.5) * 2) ** 4
    rep = np.maximum(1, np.round(dens * 2)).astype(int)
    pts = np.repeat(pts, rep, axis=0)
    return splat_kernel(pts)


def disc_kernel(r: float) -> np.ndarray:
    R = int(math.ceil(r)) + 1
    ss = 8
    g = (np.arange((2 * R + 1) * ss) + 0.5) / ss - (R + 0.5)
    yy, xx = np.meshgrid(g, g, indexing='ij')
    d = (xx ** 2 + yy ** 2 <= r * r).astype(np.float32)
    k = cv2.resize(d, (2 * R + 1, 2 * R + 1), interpolation=cv2.INTER_AREA)
    return k / k.sum()


def conv(img: np.ndarray, k: np.ndarray) -> np.ndarray:
    return cv2.filter2D(img, -1, k, borderType=cv2.BORDER_REFLECT)


# ---------------------------------------------------------------- degradations (frame plane)
def frame_pts(proj: Projection, pts: Any) -> np.ndarray:
    return proj(np.asarray(pts, np.float64))


def code_geom(car: Carrier, proj: Projection) -> tuple[np.ndarray, np.ndarray, float]:
    box = frame_pts(proj, car['box'])
    fnd = frame_pts(proj, car['finders'])
    cw = float(np.linalg.norm(box[1] - box[0]) + np.linalg.norm(box[2] - box[1])) / 2
    return box, fnd, cw


def degrade_motion(rng: Rng, img_bg: np.ndarray, layer: np.ndarray, alpha: np.ndarray, cw: float,
                   box: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """Linear or shaken-hand smear of the whole frame, of the code only, or of part of the frame."""
    L = log_uniform_in(rng, RANGES['motion_len'])
    shape = 'linear' if rng.random() < 0.6 else 'shake'
    ang = rng.uniform(0, np.pi)
    k = linear_kernel(L, ang) if shape == 'linear' else shake_kernel(rng, L)
    r = rng.random()
    where = 'frame' if r < 0.5 else ('code' if r < 0.8 else 'partial')
    H, W = alpha.shape
    if where == 'code':
        pre = conv(layer, k)
        a = conv(alpha, k)
        img = img_bg * (1 - a[..., None]) + pre
    else:
        sharp = img_bg * (1 - alpha[..., None]) + layer
        blur = conv(sharp, k)
        if where == 'frame':
            img = blur
        else:
            c = box.mean(0)
            t = rng.uniform(0, 2 * np.pi)
            yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
            d = (xx - c[0]) * math.cos(t) + (yy - c[1]) * math.sin(t) - rng.uniform(-0.25, 0.25) * cw
            m = 1 / (1 + np.exp(-d / (rng.uniform(0.05, 0.25) * cw)))
            img = sharp * (1 - m[..., None]) + blur * m[..., None]
    return img, dict(shape=shape, len=round(L, 1), where=where)


def degrade_glare(rng: Rng, img: np.ndarray, box: np.ndarray, fnd: np.ndarray, cw: float,
                  scr: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """Specular spots, a veil, bright bands or a screen reflection added in linear light."""
    H, W = img.shape[:2]
    lin = to_lin(img)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    c = box.mean(0)
    kinds = ['spot', 'spot', 'veil', 'bands'] + (['screen'] if scr.max() > 0.5 else [])
    kind = kinds[int(rng.integers(len(kinds)))]
    warm = np.array([rng.uniform(0.85, 1.0), rng.uniform(0.92, 1.0), 1.0], np.float32)  # BGR
    d = {'kind': kind}
    if kind == 'spot':
        n = int(rng.integers(1, 3))
        R = np.zeros((H, W), np.float32)
        on_f = rng.random() < 0.35
        for i in range(n):
            if on_f and i == 0:
                p = fnd[int(rng.integers(3))] + rng.normal(0, 0.03 * cw, 2)
            else:
                p = c + rng.uniform(-0.45, 0.45, 2) * cw
            a_ = rng.uniform(0.06, 0.35) * cw
            b_ = a_ * rng.uniform(0.3, 1.0)
            th = rng.uniform(0, np.pi)
            dx, dy = xx - p[0], yy - p[1]
            u_ = (dx * math.cos(th) + dy * math.sin(th)) / a_
            v_ = (-dx * math.sin(th) + dy * math.cos(th)) / b_
            hard = rng.uniform(1.0, 3.0)
            peak = uniform_in(rng, RANGES['glare_peak'])
            R += peak * np.exp(-np.power(u_ ** 2 + v_ ** 2, hard))
            if i == 0:
                d.update(size=round(a_ / cw, 2), hard=round(hard, 1), peak=round(peak, 2), on_finder=on_f)
        lin = lin + R[..., None] * warm
    elif kind == 'veil':
        p = c + rng.uniform(-0.5, 0.5, 2) * cw
        rad = rng.uniform(0.4, 1.2) * cw
        lvl = rng.uniform(0.25, 0.9)
        R = lvl * np.exp(-((xx - p[0]) ** 2 + (yy - p[1]) ** 2) / (2 * rad ** 2))
        lin = lin + R[..., None] * warm
        d.update(level=round(lvl, 2), radius=round(rad / cw, 2))
    elif kind == 'bands':
        th = rng.uniform(0, np.pi)
        nb = int(rng.integers(1, 4))
        off = (xx - c[0]) * math.cos(th) + (yy - c[1]) * math.sin(th)
        R = np.zeros((H, W), np.float32)
        start = rng.uniform(-0.5, 0.3) * cw
        lvl = rng.uniform(0.3, 1.6)
        for i in range(nb):
            bw = rng.uniform(0.05, 0.25) * cw
            soft = rng.uniform(1, 0.2 * bw + 1.5)
            R += lvl * rng.uniform(0.6, 1.0) * (1 / (1 + np.exp(-(off - start) / soft))) * (1 / (1 + np.exp((off - start - bw) / soft)))
            start += bw + rng.uniform(0.03, 0.15) * cw
        lin = lin + R[..., None] * warm
        d.update(bands=nb, level=round(lvl, 2))
    else:  # reflection on phone screen: bright skewed quad with gradient
        p = c + rng.uniform(-0.3, 0.3, 2) * cw
        th = rng.uniform(0, np.pi)
        w_, h_ = rng.uniform(0.3, 1.0) * cw, rng.uniform(0.5, 1.5) * cw
        quad = cv2.boxPoints(((float(p[0]), float(p[1])), (w_, h_), math.degrees(th)))
        quad += rng.normal(0, 0.08 * cw, quad.shape).astype(np.float32)
        m = poly_mask((H, W), quad, blur=rng.uniform(2, 0.1 * cw))
        g = np.clip(((xx - p[0]) * math.cos(th) + (yy - p[1]) * math.sin(th)) / (0.5 * w_) * 0.5 + 0.5, 0, 1)
        lvl = rng.uniform(0.3, 1.5)
        R = lvl * m * (0.4 + 0.6 * g) * scr
        lin = lin + R[..., None] * np.array([1.0, 0.97, 0.92], np.float32)
        d.update(level=round(lvl, 2))
    return to_srgb(lin), d


def finger_mask(shape: tuple[int, int], tip: np.ndarray, direction: np.ndarray, width: float,
                far: float) -> np.ndarray:
    d = np.asarray(direction, np.float64)
    d /= np.linalg.norm(d)
    nrm = np.array([-d[1], d[0]])
    back = tip - d * far
    r = width / 2
    base = tip - d * r
    pts = [base + nrm * r, back + nrm * r, back - nrm * r, base - nrm * r]
    m = np.zeros(shape, np.float32)
    cv2.fillPoly(m, [np.round(np.array(pts) * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
    cv2.ellipse(m, (int(round(base[0] * 16)), int(round(base[1] * 16))), (int(r * 16), int(r * 1.15 * 16)),
                math.degrees(math.atan2(d[1], d[0])) + 90, 0, 360, 1.0, -1, cv2.LINE_AA, shift=4)
    return m


def degrade_occlusion(rng: Rng, img: np.ndarray, cm: np.ndarray, box: np.ndarray, fnd: np.ndarray, cw: float,
                      fpolys: list[np.ndarray]) -> tuple[np.ndarray, dict[str, Any]]:
    """A finger, sticker or pen over a log-uniform fraction of the symbol, on a finder or off them."""
    H, W = img.shape[:2]
    target = log_uniform_in(rng, RANGES['occl_cov'])
    kind = ['finger', 'finger', 'sticker', 'pen'][int(rng.integers(4))]
    on_finder = rng.random() < 0.2
    fmasks = [poly_mask((H, W), p) for p in fpolys]
    for attempt in range(15):
        m, col, blur, d, cov_of = _occluder(rng, H, W, cm, box, fnd, cw, target, kind, on_finder)
        mb = (m > 0.5).astype(np.float32)
        fo = [float((mb * f).sum() / (f.sum() + 1e-6)) for f in fmasks]
        if (on_finder and max(fo) > 0.3) or (not on_finder and max(fo) < 0.05):
            break
    m = cv2.GaussianBlur(m, (0, 0), blur)
    # soft cast shadow
    sh = np.roll(m, (int(rng.uniform(-0.05, 0.05) * cw), int(rng.uniform(0.0, 0.06) * cw)), (0, 1))
    sh = cv2.GaussianBlur(sh, (0, 0), rng.uniform(3, 0.06 * cw + 4))
    img = img * (1 - rng.uniform(0.1, 0.4) * sh[..., None])
    img = img * (1 - m[..., None]) + np.clip(col, 0, 1) * m[..., None]
    d.update(coverage=round(cov_of((m > 0.5).astype(np.float32)), 3), target=round(target, 3),
             on_finder=on_finder, finder_overlap=round(max(fo), 2), attempts=attempt + 1)
    return img, d


def _occluder(rng: Rng, H: int, W: int, cm: np.ndarray, box: np.ndarray, fnd: np.ndarray, cw: float,
              target: float, kind: str, on_finder: bool
              ) -> tuple[np.ndarray, np.ndarray, float, dict[str, Any], Callable[[np.ndarray], float]]:
    c = box.mean(0)
    area = cm.sum() + 1e-6
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)

    def cov_of(m):
        return float((m * cm).sum() / area)

    if kind == 'finger':
        width = rng.uniform(0.35, 0.7) * cw
        if on_finder:
            aim = fnd[int(rng.integers(3))]
            dirv = aim - c + rng.normal(0, 0.2 * cw, 2)
            dirv = -dirv  # finger comes from outside towards the centre over the finder
        else:
            dirv = rng.normal(0, 1, 2)
        dirv /= np.linalg.norm(dirv)
        start = c - dirv * cw * 1.2  # tip position at depth 0 (outside the code)

        def mk(t):
            return finger_mask((H, W), start + dirv * t * cw, dirv, width, 3 * max(W, H))
        lo, hi = 0.0, 1.6
        for _ in range(16):
            mid = (lo + hi) / 2
            if cov_of(mk(mid)) < target:
                lo = mid
            else:
                hi = mid
        m = mk((lo + hi) / 2)
        # shading across the finger, skin colour, nail
        tip = start + dirv * (lo + hi) / 2 * cw
        nrm = np.array([-dirv[1], dirv[0]])
        dist = ((xx - tip[0]) * nrm[0] + (yy - tip[1]) * nrm[1]) / (width / 2)
        shade = 0.55 + 0.45 * np.sqrt(np.clip(1 - dist ** 2, 0, 1))
        skins = [(0.62, 0.72, 0.9), (0.5, 0.62, 0.82), (0.38, 0.5, 0.7), (0.25, 0.33, 0.5), (0.7, 0.78, 0.93)]
        skin = np.array(skins[int(rng.integers(len(skins)))], np.float32) * rng.uniform(0.85, 1.1)
        col = skin[None, None, :] * shade[..., None]
        col = col * (1 + 0.04 * smooth_noise(rng, H, W, 6)[..., None])
        if rng.random() < 0.5:
            nail_c = tip - dirv * width * 0.45
            nm = np.zeros((H, W), np.float32)
            cv2.ellipse(nm, (int(nail_c[0]), int(nail_c[1])), (int(width * 0.32), int(width * 0.28)),
                        math.degrees(math.atan2(dirv[1], dirv[0])), 0, 360, 1.0, -1, cv2.LINE_AA)
            col = col * (1 - 0.6 * nm[..., None]) + 0.6 * nm[..., None] * np.array([0.8, 0.82, 0.95], np.float32)
        blur = rng.uniform(1.0, 5.0)
        d = dict(kind='finger', blur=round(blur, 1))
    elif kind == 'sticker':
        p0 = fnd[int(rng.integers(3))] if on_finder else c + rng.uniform(-0.4, 0.4, 2) * cw
        asp = rng.uniform(0.4, 2.0)
        ang = rng.uniform(0, 180)
        r_ = rng.random()
        colname = 'black' if r_ < 0.25 else ('white' if r_ < 0.5 else 'colour')
        colr = {'black': np.ones(3) * rng.uniform(0.02, 0.12), 'white': np.ones(3) * rng.uniform(0.85, 0.98),
                'colour': rand_color(rng, 0.1, 1.0)}[colname].astype(np.float32)
        round_ = rng.random() < 0.4

        def mk(sz):
            m = np.zeros((H, W), np.float32)
            if round_:
                cv2.ellipse(m, (int(p0[0] * 16), int(p0[1] * 16)), (int(sz * cw * 8), int(sz * cw * asp * 8)), ang,
                            0, 360, 1.0, -1, cv2.LINE_AA, shift=4)
            else:
                bp = cv2.boxPoints(((float(p0[0]), float(p0[1])), (sz * cw, sz * cw * asp), ang))
                cv2.fillPoly(m, [np.round(bp * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
            return m
        lo, hi = 0.0, 1.5
        for _ in range(16):
            mid = (lo + hi) / 2
            if cov_of(mk(mid)) < target:
                lo = mid
            else:
                hi = mid
        m = mk((lo + hi) / 2)
        col = np.ones((H, W, 3), np.float32) * colr
        col *= (1 + 0.03 * smooth_noise(rng, H, W, 20))[..., None]
        blur = rng.uniform(0.3, 1.2)
        d = dict(kind='sticker', colour=colname)
    else:  # pen across the code
        p0 = fnd[int(rng.integers(3))] if on_finder else c + rng.uniform(-0.35, 0.35, 2) * cw
        ang = rng.uniform(0, np.pi)
        dv = np.array([math.cos(ang), math.sin(ang)])
        L1 = cw * rng.uniform(0.3, 3.0)  # pen may end inside the frame
        a_pt, b_pt = p0 - dv * 3 * max(W, H), p0 + dv * L1

        def mk(wd):
            m = np.zeros((H, W), np.float32)
            cv2.line(m, (int(a_pt[0] * 16), int(a_pt[1] * 16)), (int(b_pt[0] * 16), int(b_pt[1] * 16)), 1.0,
                     max(1, int(wd)), cv2.LINE_AA, shift=4)
            return m
        lo, hi = 1.0, 0.6 * cw
        for _ in range(14):
            mid = (lo + hi) / 2
            if cov_of(mk(mid)) < target:
                lo = mid
            else:
                hi = mid
        wd = (lo + hi) / 2
        m = mk(wd)
        nrm = np.array([-dv[1], dv[0]])
        dist = ((xx - p0[0]) * nrm[0] + (yy - p0[1]) * nrm[1]) / (wd / 2 + 1e-6)
        pc = [np.array([0.1, 0.1, 0.1]), np.array([0.45, 0.15, 0.05]), np.array([0.1, 0.1, 0.7]),
              np.array([0.7, 0.7, 0.72]), rand_color(rng, 0.2, 0.9)][int(rng.integers(5))].astype(np.float32)
        shade = 0.6 + 0.4 * np.sqrt(np.clip(1 - dist ** 2, 0, 1)) + 0.5 * np.exp(-((dist + 0.35) / 0.15) ** 2)
        col = pc[None, None, :] * shade[..., None]
        blur = rng.uniform(0.5, 2.5)
        d = dict(kind='pen', width_px=round(wd, 1))
    return m, col, blur, d, cov_of


def degrade_screen_frame(rng: Rng, img: np.ndarray, scr: np.ndarray, fx: dict[str, bool],
                         cw: float) -> tuple[np.ndarray, dict[str, Any]]:
    """A phone screen turned up bright (blooming) and / or beating moire."""
    H, W = img.shape[:2]
    d = {}
    if fx.get('bright'):
        g = uniform_in(rng, RANGES['bright_gain'])
        lin = to_lin(img)
        lin = lin * (1 + (g - 1) * scr[..., None])
        over = np.clip(lin - 0.8, 0, 1.5)
        bloom = cv2.GaussianBlur(over, (0, 0), rng.uniform(0.01, 0.04) * cw + 1)
        lin = lin + rng.uniform(0.2, 0.8) * bloom
        img = to_srgb(lin)
        d['bright_gain'] = round(g, 2)
    if fx.get('moire'):
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        amp = uniform_in(rng, RANGES['moire_amp'])
        per = rng.uniform(2.2, 9.0)
        th = rng.uniform(0, np.pi)
        wob = smooth_noise(rng, H, W, rng.uniform(60, 250)) * rng.uniform(0.5, 3.0) * per
        ph = (xx * math.cos(th) + yy * math.sin(th) + wob) * 2 * np.pi / per
        pat = 0.5 + 0.5 * np.sin(ph)
        if rng.random() < 0.4:
            th2 = th + rng.uniform(0.3, 1.4)
            pat = 0.5 * pat + 0.5 * (0.5 + 0.5 * np.sin((xx * math.cos(th2) + yy * math.sin(th2)) * 2 * np.pi / per))
        # coloured fringes: slight per-channel phase shift
        mod = 1 - amp * pat[..., None] * np.array([1.0, 0.85, 0.95], np.float32)
        img = img * (1 - scr[..., None]) + img * mod * scr[..., None]
        d.update(moire_amp=round(amp, 2), moire_period=round(per, 1))
    return img, d


# ---------------------------------------------------------------- camera
def camera(rng: Rng, img: np.ndarray, lowlight: bool = False) -> tuple[np.ndarray, dict[str, Any]]:
    """Vignetting, lens blur, shot/read noise (strong in low light), sometimes webcam sharpening."""
    H, W = img.shape[:2]
    d = {}
    # uneven illumination / vignetting
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    r2 = ((xx - W / 2) ** 2 + (yy - H / 2) ** 2) / ((W / 2) ** 2 + (H / 2) ** 2)
    img = img * (1 - rng.uniform(0.05, 0.3) * r2)[..., None]
    img = img * (1 + 0.08 * smooth_noise(rng, H, W, W / 2))[..., None]
    # lens blur
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.45, 1.0))
    lin = to_lin(img)
    if lowlight:
        photons = log_uniform_in(rng, RANGES['low_photons'])
        expo = rng.uniform(0.5, 1.0)
        flare = rng.uniform(0.02, 0.15)
        lin = lin * expo + flare
        cast = [np.array([0.55, 0.8, 1.0]), np.array([1.0, 0.9, 0.75]), np.array([0.7, 1.0, 0.8]),
                np.array([1.0, 1.0, 1.0])][int(rng.integers(4))].astype(np.float32)
        lin = lin * cast
        e = rng.poisson(np.clip(lin, 0, None) * photons).astype(np.float32)
        read = rng.uniform(1.0, 6.0)
        e += rng.normal(0, read, e.shape).astype(np.float32)
        lin = e / photons
        # auto gain to a dim target
        target = rng.uniform(0.03, 0.12)
        lin = lin * (target / (np.mean(lin) + 1e-6))
        img = to_srgb(lin)
        if rng.random() < 0.5:  # ISP denoise
            img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.2))
        d.update(photons=round(photons, 1), read=round(read, 1), mean=round(float(img.mean()), 2),
                 cast=[round(float(c), 2) for c in cast])
    else:
        photons = rng.uniform(800, 3000)
        lin = np.clip(lin, 0, 1)
        lin = lin + rng.standard_normal(lin.shape).astype(np.float32) * np.sqrt(lin / photons)
        img = to_srgb(lin) + rng.normal(0, rng.uniform(0.004, 0.012), lin.shape).astype(np.float32)
    if rng.random() < 0.4:  # webcam sharpening
        b = cv2.GaussianBlur(img, (0, 0), rng.uniform(1.0, 2.0))
        img = img + rng.uniform(0.3, 0.8) * (img - b)
    return np.clip(img, 0, 1), d


# ---------------------------------------------------------------- nocode distractors
def fake_qr_matrix(rng: Rng) -> np.ndarray:
    n = int(rng.choice([21, 25, 29, 33, 37, 45, 57]))
    m = (rng.random((n, n)) < 0.5).astype(np.uint8)
    f = np.ones((7, 7), np.uint8)
    f[1:6, 1:6] = 0
    f[2:5, 2:5] = 1
    for (y, x) in [(0, 0), (0, n - 7), (n - 7, 0)]:
        m[y:y + 7, x:x + 7] = f
    m[7, :8] = 0
    m[:8, 7] = 0
    m[7, n - 8:] = 0
    m[:8, n - 8] = 0
    m[n - 8, :8] = 0
    m[n - 8:, 7] = 0
    m[6, 8:n - 8] = np.arange(n - 16) % 2 == 0
    m[8:n - 8, 6] = np.arange(n - 16) % 2 == 0
    return m


def nocode_pattern(rng: Rng) -> tuple[str, np.ndarray]:
    """A code-like distractor without a code: checkerboard, fake QR, stripes, lone finders, text."""
    kind = ['checker', 'fakeqr', 'stripes', 'finders', 'text'][int(rng.integers(5))]
    if kind == 'checker':
        a, b = int(rng.integers(4, 12)), int(rng.integers(4, 12))
        m = (np.add.outer(np.arange(a), np.arange(b)) % 2).astype(np.uint8)
    elif kind == 'fakeqr':
        m = fake_qr_matrix(rng)
    elif kind == 'stripes':
        widths = rng.integers(1, 5, int(rng.integers(30, 80)))
        row = np.concatenate([np.full(wd, i % 2, np.uint8) for i, wd in enumerate(widths)])
        m = np.tile(row, (max(8, len(row) // 3), 1))
    elif kind == 'finders':
        n = int(rng.integers(21, 40))
        m = np.zeros((n, n), np.uint8)
        f = np.ones((7, 7), np.uint8)
        f[1:6, 1:6] = 0
        f[2:5, 2:5] = 1
        k = int(rng.integers(1, 4))
        for (y, x) in [(0, 0), (0, n - 7), (n - 7, 0)][:k]:
            m[y:y + 7, x:x + 7] = f
    else:
        m = np.zeros((25, 25), np.uint8)
    return kind, m


# ---------------------------------------------------------------- one frame
def make_frame(rng: Rng, cat: str) -> tuple[np.ndarray, str | None, dict[str, Any]]:
    """One frame of `cat` drawn from `rng`: (float BGR image in [0, 1], payload or None, meta)."""
    r = rng.random()
    W, H = (1280, 720) if r < 0.7 else ((640, 480) if r < 0.85 else (1920, 1080))
    bg, bgkind = make_background(rng, W, H)
    meta = {'size': [W, H], 'bg': bgkind}
    if cat == 'nocode':
        img = bg
        kinds = []
        for _ in range(int(rng.integers(1, 4))):
            kind, m = nocode_pattern(rng)
            kinds.append(kind)
            sm = 6
            N = max(m.shape)
            car = make_carrier(rng, np.zeros((N, N), np.uint8), sm, 'paper' if rng.random() < 0.75 else 'phone',
                               with_code=False)
            if kind != 'text':
                # draw the pattern without a proper quiet zone guarantee: paste in code box
                n_r, n_c = m.shape
                ox, oy = car['box'][0]
                cov = np.kron(m.astype(np.float32), np.ones((sm, sm), np.float32))
                hh, ww = car['img'].shape[:2]
                cov = cov[:max(0, hh - oy), :max(0, ww - ox)]
                sub = car['img'][oy:oy + cov.shape[0], ox:ox + cov.shape[1]]
                car['img'][oy:oy + cov.shape[0], ox:ox + cov.shape[1]] = sub * (1 - cov[..., None]) + 0.08 * cov[..., None]
            mod = rng.uniform(2.5, 10) * (21.0 / max(21, m.shape[0])) ** 0.3
            Hm, proj, _ = place(rng, car, W, H, mod)
            layer, alpha, scr, cm = warp_carrier(car, Hm, W, H)
            img = img * (1 - alpha[..., None]) + layer
        meta['distractors'] = kinds
        if rng.random() < 0.5:
            k = disc_kernel(rng.uniform(1, 4)) if rng.random() < 0.5 else linear_kernel(rng.uniform(4, 20), rng.uniform(0, np.pi))
            img = conv(img, k)
        img, cd = camera(rng, img, lowlight=rng.random() < 0.2)
        return img, None, meta

    payload, matrix, pkind, ver = make_payload(rng)
    n = matrix.shape[0]
    meta.update(payload_kind=pkind, version=ver)
    # module size
    if cat == 'small':
        mod = uniform_in(rng, RANGES['small_mod'])
    elif cat == 'defocus':
        mod = uniform_in(rng, RANGES['defocus_mod'])
    else:
        mod = max(rng.uniform(160, 420) / n, 2.6)
    mod = min(mod, 0.8 * min(W, H) / (n + 8))
    sm = int(np.clip(round(3 * mod), 4, 14))
    kind = 'phone' if (cat == 'screen' or rng.random() < 0.25) else 'paper'
    if cat == 'paper':
        kind = 'paper'
    dark = False
    sfx = {}
    if cat == 'screen':
        while not sfx:
            if rng.random() < 0.4:
                sfx['dark'] = True
            if rng.random() < 0.6:
                sfx['moire'] = True
            if rng.random() < 0.55:
                sfx['bright'] = True
        dark = sfx.get('dark', False)
    pfx = None
    if cat == 'paper' and rng.random() < 0.65:
        pr = rng.random()
        if pr < 0.35:
            pfx = {'spread': rng.uniform(0.06, 0.22)}
        elif pr < 0.7:
            pfx = {'fade': rng.uniform(0.3, 0.7)}
            if rng.random() < 0.4:
                pfx['streaks'] = int(rng.integers(1, 5))
        else:
            pfx = {'speckle': rng.uniform(0.01, 0.06), 'spread': rng.uniform(-0.15, 0.12)}
    car = make_carrier(rng, matrix, sm, kind, dark_mode=dark, print_fx=pfx)
    if cat == 'paper':
        geo, gd = paper_deform(rng, car)
        meta['paper'] = dict(geo=geo, **gd, print={k: (round(v, 2) if isinstance(v, float) else v) for k, v in (pfx or {}).items()})
    Hm, proj, mod = place(rng, car, W, H, mod)
    meta.update(module_px=round(mod, 2), carrier=kind)
    layer, alpha, scr, cm = warp_carrier(car, Hm, W, H)
    box, fnd, cw = code_geom(car, proj)
    meta['code_px'] = round(cw, 1)
    if cat == 'motion':
        img, d = degrade_motion(rng, bg, layer, alpha, cw, box)
        meta['motion'] = d
    else:
        img = bg * (1 - alpha[..., None]) + layer
    if cat == 'screen':
        img, d = degrade_screen_frame(rng, img, scr, sfx, cw)
        d['dark'] = dark
        meta['screen'] = d
    if cat == 'occlusion':
        sm_ = car['sm']
        fpolys = [frame_pts(proj, [(x - 3.5 * sm_, y - 3.5 * sm_), (x + 3.5 * sm_, y - 3.5 * sm_),
                                   (x + 3.5 * sm_, y + 3.5 * sm_), (x - 3.5 * sm_, y + 3.5 * sm_)])
                  for x, y in car['finders']]
        img, d = degrade_occlusion(rng, img, cm, box, fnd, cw, fpolys)
        meta['occlusion'] = d
    if cat == 'glare':
        img, d = degrade_glare(rng, img, box, fnd, cw, scr)
        meta['glare'] = d
    if cat == 'defocus':
        rr = uniform_in(rng, RANGES['defocus_r'])
        img = conv(img, disc_kernel(rr))
        meta['defocus'] = dict(radius=round(rr, 2), r_over_module=round(rr / mod, 2))
    img, cd = camera(rng, img, lowlight=(cat == 'lowlight'))
    if cd:
        meta['lowlight'] = cd
    return img, payload, meta


# ---------------------------------------------------------------- the public interface
FRAME_SIZES: tuple[tuple[int, int], ...] = ((1280, 720), (640, 480), (1920, 1080))  # (width, height)
JPEG_SHARE = 1 / 3  # frames saved as JPEG, of quality 40-85; the rest as PNG


@dataclass(frozen=True, eq=False)
class ApartFrame:
    """One frame as the file holds it, and what was drawn in it."""

    category: str
    index: int
    seed: int
    image: np.ndarray  # BGR uint8 as the file decodes (the JPEG-decoded pixels for a JPEG frame)
    payload: str | None  # the text the QR encodes, as a decoder returns it; None for nocode
    meta: dict[str, Any]  # what was drawn (JSON types): size, background, version, module_px, ...
    jpeg_quality: int | None  # None: saved as PNG
    encoded: bytes  # the file's bytes (PNG or JPEG)

    @property
    def is_jpeg(self) -> bool:
        return self.jpeg_quality is not None

    @property
    def name(self) -> str:
        """The file name the frame is saved under: f<seed>_<category number * 1000 + index>.png|.jpg."""
        number = CATEGORIES.index(self.category) * 1000 + self.index
        return f"f{self.seed}_{number:05d}{'.jpg' if self.is_jpeg else '.png'}"

    @property
    def detail(self) -> str:
        """One line: category, version, module size and the category's main parameter."""
        return describe(self.category, self.meta)


def make_apart_frame(category: str, index: int, seed: int) -> ApartFrame:
    """Frame `index` of `category` for `seed`: the same pixels, payload and meta for the same arguments."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}; one of {', '.join(CATEGORIES)}")
    rng = np.random.default_rng([seed, CATEGORIES.index(category), index])
    with np.errstate(over="ignore"):  # a glare band's logistic edge overflows exp to inf, as meant
        img, payload, meta = make_frame(rng, category)
    u8 = np.round(img * 255).astype(np.uint8)
    quality = None
    if rng.random() < JPEG_SHARE:  # drawn after the frame, from the same generator
        quality = int(rng.integers(40, 86))
        ok, buf = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, quality])
        meta["jpeg_q"] = quality
    else:
        ok, buf = cv2.imencode(".png", u8)
    image = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok and quality is not None else u8
    if not ok or image is None:
        raise RuntimeError(f"could not encode {category} {index} (seed {seed})")
    plain = json.loads(json.dumps(meta, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
    return ApartFrame(category, index, seed, image, payload, plain, quality, buf.tobytes())


def describe(category: str, meta: dict[str, Any]) -> str:
    """A frame's meta in one line: category, version, module px, then the category's main parameter."""
    parts = [category]
    if "version" in meta:
        parts.append(f"v{meta['version']} {meta['payload_kind']}, {meta['module_px']} px/module on {meta['carrier']}")
    d = meta.get(category, {})
    if category == "motion":
        parts.append(f"{d['shape']} smear {d['len']} px over the {d['where']}")
    elif category == "glare":
        level = f"peak {d['peak']}" if "peak" in d else f"level {d['level']}"
        parts.append(f"{d['kind']} glare, {level}{', on a finder' if d.get('on_finder') else ''}")
    elif category == "occlusion":
        parts.append(f"{d['kind']} over {100 * d['coverage']:.1f} % of the symbol"
                     f"{', on a finder' if d['on_finder'] else ''}")
    elif category == "defocus":
        parts.append(f"disc radius {d['radius']} px ({d['r_over_module']} modules)")
    elif category == "lowlight":
        parts.append(f"{d['photons']} e- at white, read noise {d['read']} e-")
    elif category == "small":
        parts.append(f"code {meta['code_px']} px wide")
    elif category == "screen":
        fx = ["dark mode"] if d.get("dark") else []
        if "moire_amp" in d:
            fx.append(f"moire {d['moire_amp']} at {d['moire_period']} px")
        if "bright_gain" in d:
            fx.append(f"bright x{d['bright_gain']}")
        parts.append(", ".join(fx))
    elif category == "paper":
        shape = ", ".join(f"{k} {v}" for k, v in d.items() if k not in ("geo", "print"))
        printing = ", ".join(f"{k} {v}" for k, v in d["print"].items()) or "clean print"
        parts.append(f"{d['geo']} ({shape}), {printing}")
    elif category == "nocode":
        parts.append("distractors " + ", ".join(meta["distractors"]))
    if "jpeg_q" in meta:
        parts.append(f"JPEG q{meta['jpeg_q']}")
    return "; ".join(parts)
