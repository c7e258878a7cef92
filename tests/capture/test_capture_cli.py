"""`station decode` end to end: real image files in, lines out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import segno

from degrade import make_frame, multi_code_frame
from station.cli import decode

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def images(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    one = make_frame("perspective", 2)
    paths["one"] = tmp_path / "one pass.png"
    cv2.imwrite(str(paths["one"]), one.image)
    paths["hard"] = tmp_path / "hard.jpg"  # needs a ladder rung (raw zxing cannot read it)
    cv2.imwrite(str(paths["hard"]), make_frame("low_contrast", 1).image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    paths["multi"] = tmp_path / "multi.png"
    cv2.imwrite(str(paths["multi"]), multi_code_frame(["AAAAAAAAAAA1", "BBBBBBBBBBB2"]))
    paths["empty"] = tmp_path / "empty.png"
    cv2.imwrite(str(paths["empty"]), make_frame("finder_squares", 0).image)
    paths["junk"] = tmp_path / "junk.png"
    paths["junk"].write_bytes(b"\x89PNG but not really")
    paths["missing"] = tmp_path / "missing.png"
    paths["texts"] = one.texts  # type: ignore[assignment]
    return paths


def check_json_lines(lines: list[str], images: dict[str, Path]) -> None:
    rows = [json.loads(line) for line in lines]
    assert [r["file"] for r in rows] == [str(images[k]) for k in ("one", "hard", "multi", "empty")]
    one, hard, multi, empty = rows
    assert [c["text"] for c in one["codes"]] == list(images["texts"])  # type: ignore[arg-type]
    assert one["codes"][0]["format"] == "QRCode"
    assert len(one["codes"][0]["corners"]) == 4 and all(len(p) == 2 for p in one["codes"][0]["corners"])
    assert len(hard["codes"]) == 1
    assert sorted(c["text"] for c in multi["codes"]) == ["AAAAAAAAAAA1", "BBBBBBBBBBB2"]
    assert empty["codes"] == []
    assert all(isinstance(r["ms"], float) and r["ms"] >= 0 for r in rows)


def argv(images: dict[str, Path]) -> list[str]:
    return [str(images[k]) for k in ("one", "junk", "hard", "multi", "missing", "empty")]


def test_decode_json_in_process(images: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert decode.main(["--json", *argv(images)]) == 1  # two bad files: non-zero, others still done
    out, err = capsys.readouterr()
    check_json_lines(out.splitlines(), images)
    errors = err.splitlines()
    assert len(errors) == 2
    assert "junk.png: not a readable image" in errors[0]
    assert "missing.png: no such file" in errors[1]


def test_decode_readable_output(images: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert decode.main([str(images["one"]), str(images["empty"])]) == 0
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith(f"{images['one']}: QRCode {images['texts'][0]} (")  # type: ignore[index]
    assert lines[1].startswith(f"{images['empty']}: no QR code found")


def test_decode_with_zbar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = make_frame("inverted", 0)  # zbar reads it only through the ladder's inverted rung
    cv2.imwrite(str(tmp_path / "dark mode.png"), frame.image)
    assert decode.main(["--json", "--engine", "zbar", str(tmp_path / "dark mode.png")]) == 0
    row = json.loads(capsys.readouterr().out)
    assert [c["text"] for c in row["codes"]] == list(frame.texts)


def test_station_decode_subprocess(images: dict[str, Path]) -> None:
    # Runs the real entry point; needs every module in COMMAND_MODULES (i.e. the merged tree).
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "station", "decode", "--json", *argv(images)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    check_json_lines(proc.stdout.splitlines(), images)
    assert proc.stderr.count("station decode:") == 2


def _modules(text: str) -> np.ndarray:
    """The code's dark modules as 1, 6 px a module, with its quiet zone."""
    return np.array(list(segno.make_qr(text).matrix_iter(scale=6, border=4)), np.int32)


def test_decode_pictures_with_transparency_and_deep_colour(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A QR saved with a transparent background (most tools leave transparent pixels black, so
    read as colour the code vanished: checked, no code found before), light ink meant for a dark
    page, 16-bit grey, WebP and TIFF with alpha: each is read; a JPEG of the same code still is."""
    dark = _modules("https://example.org/t/dark-ink")
    files: dict[str, tuple[str, np.ndarray]] = {}
    rgba = np.zeros(dark.shape + (4,), np.uint8)  # transparent black everywhere but the ink
    rgba[..., 3] = dark * 255  # the ink opaque, black
    files["clear.png"] = ("https://example.org/t/dark-ink", rgba)
    white = _modules("https://example.org/t/light-ink")
    light = np.zeros(white.shape + (4,), np.uint8)
    light[..., :3], light[..., 3] = 255, white * 255
    files["light ink.png"] = ("https://example.org/t/light-ink", light)
    soft = rgba.copy()
    soft[..., 3] = cv2.GaussianBlur(soft[..., 3], (0, 0), 1.0)  # anti-aliased edges: partial alpha
    files["clear.webp"] = ("https://example.org/t/dark-ink", soft)
    files["clear.tif"] = ("https://example.org/t/dark-ink", rgba)
    deep = _modules("https://example.org/t/16-bit")
    files["deep.png"] = ("https://example.org/t/16-bit", ((1 - deep) * 60000 + 2000).astype(np.uint16))
    files["plain.jpg"] = ("https://example.org/t/dark-ink", ((1 - dark) * 255).astype(np.uint8))
    for name, (_, image) in files.items():
        params = [cv2.IMWRITE_WEBP_QUALITY, 101] if name.endswith(".webp") else []
        assert cv2.imwrite(str(tmp_path / name), image, params)
    assert decode.main(["--json", *(str(tmp_path / n) for n in files)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [[c["text"] for c in r["codes"]] for r in rows] == [[text] for text, _ in files.values()]


def test_a_fully_transparent_picture_has_no_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cv2.imwrite(str(tmp_path / "nothing.png"), np.zeros((120, 160, 4), np.uint8))
    assert decode.main([str(tmp_path / "nothing.png")]) == 0
    assert "no QR code found" in capsys.readouterr().out
