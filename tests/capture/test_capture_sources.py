from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from capture_fakes import FakeClock
from degrade import make_frame
from station.capture.camera import CameraSource, _linux_cameras, list_cameras
from station.capture.demo_source import DemoSource, qr_image
from station.capture.ladder import DecodeLadder
from station.capture.sources import ImageFolderSource, SourceUnavailable, VideoFileSource


def test_demo_source_shows_each_payload_in_turn_with_pauses() -> None:
    clock = FakeClock()
    demo = DemoSource(["AAAAAAAAAAA1", "BBBBBBBBBBB2"], fps=30, show_s=2.0, gap_s=1.0, clock=clock, sleep=clock.sleep)
    info = demo.open()
    assert (info.width, info.height, info.live) == (1280, 720, True)
    ladder = DecodeLadder()
    seen = []
    for _ in range(int(30 * 6.5)):
        frame = demo.read()
        assert frame is not None and frame.shape == (720, 1280, 3)
        texts = [d.text for d in ladder.decode(frame).detections]
        assert texts == ([demo.showing()] if demo.showing() else [])  # nothing during pauses
        seen.append(texts[0] if texts else None)
    compact = [t for i, t in enumerate(seen) if i == 0 or t != seen[i - 1]]
    assert compact == ["AAAAAAAAAAA1", None, "BBBBBBBBBBB2", None, "AAAAAAAAAAA1"]
    demo.close()


def test_demo_source_frames_move() -> None:
    clock = FakeClock()
    demo = DemoSource(["AAAAAAAAAAA1"], clock=clock, sleep=clock.sleep)
    demo.open()
    a, b = demo.read(), None
    for _ in range(15):
        b = demo.read()
    assert b is not None and not np.array_equal(a, b)


def test_demo_source_needs_payloads() -> None:
    with pytest.raises(ValueError):
        DemoSource([])


def test_qr_image_is_a_real_qr_for_a_twelve_character_code() -> None:
    img = qr_image("AbCdEfGhIjKl", 4)
    assert img.shape[0] == (21 + 8) * 4  # version 1 (level M) with quiet zone, not a Micro QR


@pytest.mark.allow_log("station.capture.sources", "not a readable image")
def test_image_folder_source_reads_images_in_name_order_and_skips_junk(tmp_path: Path) -> None:
    frames = [make_frame("rotation", i) for i in range(3)]
    for i, f in enumerate(frames):
        cv2.imwrite(str(tmp_path / f"{i:02d}.png"), f.image)
    (tmp_path / "01b.jpg").write_bytes(b"not an image")
    (tmp_path / "notes.txt").write_text("ignored")
    clock = FakeClock()
    src = ImageFolderSource(tmp_path, fps=10, clock=clock, sleep=clock.sleep)
    info = src.open()
    assert (info.width, info.height, info.live) == (1280, 720, False)
    ladder = DecodeLadder()
    read = []
    while (img := src.read()) is not None:
        read.append([d.text for d in ladder.decode(img).detections])
    assert read == [list(f.texts) for f in frames]
    assert clock.now - 1000.0 == pytest.approx(0.2)  # paced at 10 fps: 3 frames span 0.2 s


def test_image_folder_source_reports_an_empty_or_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="holds no images"):
        ImageFolderSource(tmp_path).open()
    with pytest.raises(SourceUnavailable, match="not a folder"):
        ImageFolderSource(tmp_path / "nope").open()


def test_video_file_source_reads_a_video(tmp_path: Path) -> None:
    path = tmp_path / "door.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (1280, 720))
    frame = cv2.cvtColor(make_frame("rotation", 0).image, cv2.COLOR_GRAY2BGR)
    for _ in range(5):
        writer.write(frame)
    writer.release()
    clock = FakeClock()
    src = VideoFileSource(path, clock=clock, sleep=clock.sleep)
    info = src.open()
    assert (info.width, info.height, info.fps) == (1280, 720, 15.0)
    got = []
    while (img := src.read()) is not None:
        got.append(img)
    src.close()
    assert len(got) == 5
    assert [d.text for d in DecodeLadder().decode(got[0]).detections] == list(make_frame("rotation", 0).texts)


def test_missing_video_and_camera_are_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable):
        VideoFileSource(tmp_path / "none.mp4").open()
    with pytest.raises(SourceUnavailable, match="not available"):
        CameraSource(str(tmp_path / "video99")).open()


def test_list_cameras_reads_v4l2_nodes_and_skips_metadata_nodes(tmp_path: Path) -> None:
    for name, index, label in (("video0", "0", "HD Webcam"), ("video1", "1", "HD Webcam"), ("video2", "0", "USB Cam")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "index").write_text(index + "\n")
        (tmp_path / name / "name").write_text(label + "\n")
    cams = _linux_cameras(tmp_path)
    assert [(c.device, c.name) for c in cams] == [("/dev/video0", "HD Webcam"), ("/dev/video2", "USB Cam")]
    assert isinstance(list_cameras(), list)  # this machine may have none; it must not fail
