"""Frames to verdicts: pass QR images through the real capture loop into ScanService."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from station.app import Core
from station.capture.demo_source import qr_image
from station.capture.sources import ImageFolderSource
from station.domain.errors import InvalidInput
from station.domain.models import Verdict
from station.scanning import ScanPipeline, open_source
from station.services.scans import ScanResult
from tests.conftest import REPO, StationCLI
from tests.waiting import PATIENCE_S, wait_until


def frame_with(text: str) -> np.ndarray:
    code = qr_image(text, 3)
    frame = np.full((720, 1280), 200, np.uint8)
    h, w = code.shape[:2]
    frame[60:60 + h, 300:300 + w] = code
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


wait_for = wait_until


def test_a_pass_held_up_for_many_frames_is_one_scan(core: Core, tmp_path: Path) -> None:
    p = core.passes.create(core.passes.validate("Guest"))
    other = core.passes.create(core.passes.validate("Other"))
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(8):  # the same pass in eight successive frames, then another pass
        cv2.imwrite(str(folder / f"{i:02d}.png"), frame_with(p.public_url))
    for i in range(8, 12):
        cv2.imwrite(str(folder / f"{i:02d}.png"), frame_with(other.code))
    results: list[ScanResult] = []
    lock = threading.Lock()

    def collect(result: ScanResult) -> None:
        with lock:
            results.append(result)

    pipeline = ScanPipeline(core, ImageFolderSource(folder, fps=30), on_result=collect)
    pipeline.start()
    try:
        wait_for(lambda: len(results) >= 2)
        wait_for(lambda: pipeline.loop.status().state == "ended")
    finally:
        pipeline.stop()
    assert [(r.verdict, r.pass_.id if r.pass_ else None) for r in results] == [
        (Verdict.ACCEPTED, p.id), (Verdict.ACCEPTED, other.id)]
    assert all(r.scan.source == "camera" for r in results)
    # The camera's verdicts are durable in the door journal; the log has them after the merge.
    wait_for(lambda: len(core.store.list_scans().items) == 2)


def test_unknown_sources_are_refused_clearly(core: Core, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a camera, video file or image folder"):
        open_source(str(tmp_path / "missing.mp4"), core)


def test_serve_reads_an_image_folder_and_prints_verdicts(cli: StationCLI, tmp_path: Path) -> None:
    import json

    p = json.loads(cli("passes", "create", "--name", "Folder Guest", "--json").stdout)
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(4):
        cv2.imwrite(str(folder / f"{i}.png"), frame_with(p["publicUrl"]))
    proc = subprocess.Popen([sys.executable, "-m", "station", "serve", "--capture", str(folder)],
                            env=cli.env, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(6)]  # 5 banner lines, then the verdict
    finally:
        proc.terminate()
        proc.communicate(timeout=PATIENCE_S)
    assert lines[-1].strip() == "[camera] ACCEPTED: Folder Guest · single entry"
