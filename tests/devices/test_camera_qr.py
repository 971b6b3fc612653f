"""Camera sources and the QR scanner: replayed frames, one delivery per code, a bounded rate."""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from devices.camera.appointment import verify
from devices.camera.qr import QrDecoder, QrScanner, ScannerState
from devices.camera.source import (
    CameraUnavailable,
    FrameSource,
    SourceKind,
    import_cv2,
    parse_camera,
)

cv2 = pytest.importorskip("cv2")
qrcode = pytest.importorskip("qrcode")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "camera"
FIXTURE_KEY = b"hallq-test-key-0123456789abcdef!"
CST = dt.timezone(dt.timedelta(hours=8))
CODE_A = "hallq1.eyJjb2RlIjoiQSJ9.c2lnbmF0dXJlLWE"
CODE_B = "hallq1.eyJjb2RlIjoiQiJ9.c2lnbmF0dXJlLWI"


def qr_frame(text: str | None, seed: int, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """A camera-like BGR frame: the code (if any) warped, unevenly lit, noisy, blurred."""
    rng = np.random.default_rng(seed)
    w, h = size
    background = np.tile(np.linspace(80, 170, w), (h, 1))
    image = background
    if text is not None:
        code = qrcode.QRCode(box_size=6, border=4)
        code.add_data(text)
        code.make(fit=True)
        qr = np.array(code.make_image().convert("L"))
        s = qr.shape[0]
        cx, cy, d = w / 2 + rng.uniform(-60, 60), h / 2 + rng.uniform(-40, 40), h * 0.3
        corners = [(-d, -d), (d, -0.9 * d), (1.05 * d, d), (-0.95 * d, 1.02 * d)]
        dst = np.array([[cx + x + rng.uniform(-15, 15), cy + y] for x, y in corners], np.float32)
        src = np.array([[0, 0], [s, 0], [s, s], [0, s]], np.float32)
        matrix = cv2.getPerspectiveTransform(src, dst)
        warped = cv2.warpPerspective(qr, matrix, (w, h)).astype(np.float32)
        mask = cv2.warpPerspective(np.full_like(qr, 255), matrix, (w, h))
        image = np.where(mask > 0, warped * 0.8 + 25, background)
    image = image + rng.normal(0, 10, image.shape)
    grey = cv2.GaussianBlur(np.clip(image, 0, 255).astype(np.uint8), (3, 3), 0)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)


def write_sequence(folder: Path, texts: list[str | None]) -> str:
    for i, text in enumerate(texts):
        assert cv2.imwrite(str(folder / f"{i:03d}.png"), qr_frame(text, seed=i))
    return str(folder / "%03d.png")


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("0", SourceKind.INDEX, "0"),
        (" 2 ", SourceKind.INDEX, "2"),
        ("/dev/video1", SourceKind.DEVICE, "/dev/video1"),
        ("var/frames/%03d.png", SourceKind.SEQUENCE, "var/frames/%03d.png"),
        ("img%d.jpg", SourceKind.SEQUENCE, "img%d.jpg"),
        ("demo/scan.mp4", SourceKind.FILE, "demo/scan.mp4"),
    ],
)
def test_camera_strings(text: str, kind: SourceKind, value: str) -> None:
    spec = parse_camera(text)
    assert (spec.kind, spec.value) == (kind, value)
    assert spec.kind.live is (kind in (SourceKind.INDEX, SourceKind.DEVICE))


def test_empty_camera_string_is_refused() -> None:
    with pytest.raises(ValueError, match="camera is empty"):
        parse_camera("  ")


def test_scanner_delivers_a_code_once_from_a_replayed_sequence(tmp_path: Path) -> None:
    """GIVEN blank frames, then code A in six consecutive frames, a blank, A again, then B
    WHEN replayed through CAP_IMAGES THEN A is delivered once and B once, in order, on the
    scanner's own thread."""
    pattern = write_sequence(tmp_path, [None, None, *[CODE_A] * 6, None, CODE_A, CODE_B, CODE_B])
    threads: list[str] = []
    scanner = QrScanner(
        pattern, max_rate=100, on_code=lambda _: threads.append(threading.current_thread().name)
    )
    with scanner:
        assert scanner.wait_ended(timeout=20)
    assert scanner.state is ScannerState.ENDED
    assert scanner.decoded_frames == 12
    delivered = [scanner.codes.get_nowait() for _ in range(scanner.codes.qsize())]
    assert delivered == [CODE_A, CODE_B]
    assert threads == ["qr-scanner", "qr-scanner"]


def test_a_code_shown_again_after_a_while_is_delivered_again(tmp_path: Path) -> None:
    """Seen at t=0 and t=5 s (repeat_after_s=3) with nothing between: two deliveries."""
    times = iter([0.0, 0.0, 0.0, 5.0, 5.0, 5.0, 9.0, 9.0, 9.0, 9.0])
    pattern = write_sequence(tmp_path, [CODE_A, CODE_A])
    scanner = QrScanner(pattern, max_rate=100, repeat_after_s=3.0, clock=lambda: next(times, 99.0))
    with scanner:
        assert scanner.wait_ended(timeout=10)
    assert scanner.delivered == 2


def test_the_fixture_photo_decodes_to_a_genuine_appointment() -> None:
    frame = cv2.imread(str(FIXTURES / "appointment-phone.jpg"))
    assert frame is not None
    text = QrDecoder().decode(frame)
    assert text is not None
    token = verify(text, FIXTURE_KEY, dt.datetime(2025, 3, 4, 9, 5, tzinfo=CST))
    assert (token.code, token.service) == ("Xq3v9LpA2mRtY7kB", "SB")


def test_large_frames_are_scaled_down_before_decoding() -> None:
    frame = qr_frame(CODE_A, seed=3, size=(2560, 1440))
    assert QrDecoder(max_width=1280).decode(frame) == CODE_A
    assert QrDecoder("classic").decode(qr_frame(None, seed=4)) is None
    with pytest.raises(ValueError, match="aruco"):
        QrDecoder("zbar")


def test_video_file_source(tmp_path: Path) -> None:
    path = tmp_path / "scan.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    if not writer.isOpened():
        pytest.skip("this OpenCV build writes no MJPG")
    for i, text in enumerate([None, CODE_B, CODE_B, CODE_B, None]):
        writer.write(qr_frame(text, seed=i))
    writer.release()
    with FrameSource(str(path)) as source:
        assert not source.live
        frames = 0
        while source.read() is not None:
            frames += 1
    assert frames == 5
    scanner = QrScanner(str(path), max_rate=100)
    with scanner:
        assert scanner.wait_ended(timeout=10)
    assert scanner.codes.get_nowait() == CODE_B
    assert scanner.codes.empty()


class FakeCamera:
    """A live camera at ~100 fps that always shows code A; counts reads and skips."""

    live = True

    def __init__(self) -> None:
        self.frame = qr_frame(CODE_A, seed=1)
        self.reads = 0
        self.skips = 0
        self.closed = False
        self._tick = threading.Event()

    def open(self) -> None:
        pass

    def read(self) -> Any:
        self._tick.wait(0.01)
        self.reads += 1
        return self.frame

    def skip(self) -> bool:
        self._tick.wait(0.01)
        self.skips += 1
        return True

    def close(self) -> None:
        self.closed = True


def test_live_camera_is_decoded_at_the_reduced_rate(wait_until: Any) -> None:
    """GIVEN a camera delivering ~100 frames/s WHEN scanning at max_rate=5 THEN at most 5
    frames a second are decoded, the rest are grabbed and dropped, and A is delivered once."""
    camera = FakeCamera()
    scanner = QrScanner(camera, max_rate=5)
    started = time.monotonic()
    scanner.start()
    try:
        assert wait_until(lambda: camera.skips >= 50, timeout=5)
    finally:
        scanner.stop()
    elapsed = time.monotonic() - started
    assert camera.closed
    assert 1 <= scanner.decoded_frames <= 1 + elapsed * 5
    assert camera.skips > 5 * scanner.decoded_frames
    assert camera.reads == scanner.decoded_frames
    assert scanner.delivered == 1
    assert scanner.state is ScannerState.STOPPED


def test_paused_scanner_decodes_nothing(wait_until: Any) -> None:
    camera = FakeCamera()
    scanner = QrScanner(camera, max_rate=50)
    scanner.pause()
    scanner.start()
    try:
        assert wait_until(lambda: camera.skips >= 20, timeout=5)
        assert scanner.decoded_frames == 0
        scanner.resume()
        assert wait_until(lambda: scanner.delivered == 1, timeout=5)
    finally:
        scanner.stop()


def test_a_missing_source_fails_with_a_reason(tmp_path: Path) -> None:
    scanner = QrScanner(str(tmp_path / "missing.mp4"))
    scanner.start()
    scanner.wait_ended(timeout=5)
    assert scanner.state is ScannerState.FAILED
    assert "does not exist" in scanner.error
    assert not scanner.available
    with pytest.raises(CameraUnavailable, match="cannot open"):
        FrameSource(str(tmp_path / "none%03d.png")).open()


def test_missing_opencv_names_the_headless_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(CameraUnavailable, match="opencv-python-headless"):
        import_cv2()
