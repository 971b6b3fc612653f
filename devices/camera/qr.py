"""QR scanning off the GUI thread: read frames, decode a few per second, deliver each code once.

A decode of a 1280×720 frame takes ~70–85 ms on the kiosk's two cores (hardware-notes), so
``QrScanner`` runs in its own thread and decodes at most ``max_rate`` frames per second.
Between decodes a live camera's frames are grabbed and dropped (the next decoded frame is
fresh); a file or image sequence is paced instead, so every frame is decoded.

A code held in front of the camera is seen in many frames: it is delivered once, and again
only after it has not been seen for ``repeat_after_s``. Codes go to ``codes`` (a queue) and
to ``on_code`` (called on the scanner thread; a Qt owner re-emits it as a signal).
"""

from __future__ import annotations

import enum
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from devices.camera.source import CameraUnavailable, FrameSource, import_cv2

log = logging.getLogger(__name__)

MAX_DECODE_WIDTH = 1280
LIVE_READ_FAILURES = 25
"""Consecutive failed reads after which a live camera counts as lost."""


class Source(Protocol):
    """What the scanner reads (``FrameSource`` or a test double)."""

    @property
    def live(self) -> bool: ...

    def open(self) -> None: ...

    def read(self) -> Any | None: ...

    def skip(self) -> bool: ...

    def close(self) -> None: ...


class QrDecoder:
    """OpenCV's QR detector (``QRCodeDetectorAruco`` by default; ``"classic"`` also works).

    The Aruco-based detector decoded codes the classic one missed in hallq's tests (OpenCV 5).
    """

    def __init__(self, kind: str = "aruco", max_width: int = MAX_DECODE_WIDTH) -> None:
        cv2 = import_cv2()
        self._cv2 = cv2
        if kind == "aruco":
            self._detector = cv2.QRCodeDetectorAruco()
        elif kind == "classic":
            self._detector = cv2.QRCodeDetector()
        else:
            raise ValueError(f"QR detector must be 'aruco' or 'classic', not {kind!r}")
        self.max_width = max_width

    def decode(self, frame: Any) -> str | None:
        """The text of a QR code in ``frame`` (BGR or grey numpy array), or None."""
        cv2 = self._cv2
        image = frame
        if image.ndim == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        if image.shape[1] > self.max_width:
            scale = self.max_width / image.shape[1]
            size = (self.max_width, max(1, round(image.shape[0] * scale)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        try:
            text, _points, _straight = self._detector.detectAndDecode(image)
        except cv2.error as exc:  # rare: degenerate corner points
            log.debug("QR decode failed: %s", exc)
            return None
        return text or None


class ScannerState(enum.Enum):
    """Where the scanner stands."""

    STOPPED = "stopped"
    RUNNING = "running"
    ENDED = "ended"
    """A file or sequence reached its end."""
    FAILED = "failed"
    """The camera could not be opened or stopped delivering frames (see ``error``)."""


class QrScanner:
    """Reads a frame source in a worker thread and delivers the QR codes it sees."""

    def __init__(
        self,
        source: Source | str,
        *,
        on_code: Callable[[str], None] | None = None,
        max_rate: float = 5.0,
        repeat_after_s: float = 3.0,
        decoder: QrDecoder | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_rate <= 0:
            raise ValueError("max_rate must be positive")
        self.source: Source = FrameSource(source) if isinstance(source, str) else source
        self.on_code = on_code
        self.interval = 1.0 / max_rate
        self.repeat_after_s = repeat_after_s
        self._decoder = decoder
        self._clock = clock
        self.codes: queue.Queue[str] = queue.Queue()
        self.state = ScannerState.STOPPED
        self.error = ""
        self.decoded_frames = 0
        self.delivered = 0
        self._last: tuple[str, float] | None = None
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def available(self) -> bool:
        """True while the scanner is running."""
        return self.state is ScannerState.RUNNING

    def start(self) -> None:
        """Open the source and start scanning (in a thread)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self.state, self.error = ScannerState.RUNNING, ""
        self._thread = threading.Thread(target=self._run, name="qr-scanner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop scanning and close the source."""
        thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None:
            thread.join(timeout=5)
        if self.state is ScannerState.RUNNING:
            self.state = ScannerState.STOPPED

    def pause(self) -> None:
        """Keep the camera open but decode nothing (the kiosk is not on a scanning screen)."""
        self._paused.set()

    def resume(self) -> None:
        """Decode again; a code shown before the pause counts as new."""
        self._last = None
        self._paused.clear()

    def __enter__(self) -> QrScanner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_ended(self, timeout: float) -> bool:
        """Wait (bounded) until a file or sequence has been read to its end."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.state is ScannerState.ENDED

    # the worker ---------------------------------------------------------------------------

    def _fail(self, message: str) -> None:
        self.state, self.error = ScannerState.FAILED, message
        log.warning("QR scanner: %s", message)

    def _run(self) -> None:
        try:
            decoder = self._decoder or QrDecoder()
            self.source.open()
        except (CameraUnavailable, ValueError) as exc:
            self._fail(str(exc))
            return
        try:
            self._loop(decoder)
        finally:
            self.source.close()

    def _loop(self, decoder: QrDecoder) -> None:
        next_decode = self._clock()
        failures = 0
        while not self._stop.is_set():
            now = self._clock()
            if now < next_decode or self._paused.is_set():
                if self.source.live:
                    self.source.skip()
                else:
                    self._stop.wait(min(0.05, max(0.0, next_decode - now)) or 0.01)
                continue
            frame = self.source.read()
            if frame is None:
                if not self.source.live:
                    self.state = ScannerState.ENDED
                    return
                failures += 1
                if failures >= LIVE_READ_FAILURES:
                    self._fail("camera stopped delivering frames")
                    return
                self._stop.wait(0.02)
                continue
            failures = 0
            next_decode = now + self.interval
            text = decoder.decode(frame)
            self.decoded_frames += 1
            if text is not None:
                self._seen(text, self._clock())

    def _seen(self, text: str, now: float) -> None:
        last = self._last
        self._last = (text, now)
        if last is not None and last[0] == text and now - last[1] <= self.repeat_after_s:
            return
        self.delivered += 1
        self.codes.put(text)
        if self.on_code is not None:
            try:
                self.on_code(text)
            except Exception:
                log.exception("QR code handler failed")
