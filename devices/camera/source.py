"""Frame sources for the kiosk camera, from the config's ``Kiosk.camera`` string.

    "0", "2"               a camera by index (V4L2 on Linux)
    "/dev/video0"          a camera by device path
    "frames/%03d.png"      an image sequence (printf pattern; ``cv2.CAP_IMAGES``)
    "demo/scan.mp4"        a video file

Live cameras deliver frames whether or not anyone reads them; files and sequences deliver
one per read and end. OpenCV is imported when a source is opened, with an error naming the
package to install: ``opencv-python-headless``, never ``opencv-python``, whose bundled Qt
plugins break PySide6 on the kiosk.
"""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

OPENCV_PACKAGE = "opencv-python-headless"
_PRINTF = re.compile(r"%0?\d*d")


class CameraUnavailable(RuntimeError):
    """The camera cannot be used (OpenCV missing, no such device or file)."""


def import_cv2() -> Any:
    """The ``cv2`` module, or CameraUnavailable naming the package to install."""
    try:
        import cv2
    except ImportError as exc:
        raise CameraUnavailable(
            f"the kiosk camera needs OpenCV: pip install {OPENCV_PACKAGE} "
            "(not opencv-python: its Qt plugins break PySide6)"
        ) from exc
    return cv2


class SourceKind(enum.Enum):
    """What a camera string names."""

    INDEX = "index"
    DEVICE = "device"
    SEQUENCE = "sequence"
    FILE = "file"

    @property
    def live(self) -> bool:
        """True for cameras (frames keep coming; unread ones are dropped)."""
        return self in (SourceKind.INDEX, SourceKind.DEVICE)


@dataclass(frozen=True)
class CameraSpec:
    """A parsed ``Kiosk.camera`` string."""

    kind: SourceKind
    value: str

    @property
    def index(self) -> int:
        """The camera index (INDEX only)."""
        return int(self.value)


def parse_camera(spec: str) -> CameraSpec:
    """Classify a camera string; ValueError if it is empty."""
    text = spec.strip()
    if not text:
        raise ValueError("camera is empty: give an index, a device, a video file or a pattern")
    if text.isdigit():
        return CameraSpec(SourceKind.INDEX, text)
    if text.startswith("/dev/"):
        return CameraSpec(SourceKind.DEVICE, text)
    if _PRINTF.search(text):
        return CameraSpec(SourceKind.SEQUENCE, text)
    return CameraSpec(SourceKind.FILE, text)


class FrameSource:
    """An open ``cv2.VideoCapture``: ``read()`` gives BGR frames, None at the end."""

    def __init__(
        self, spec: CameraSpec | str, *, width: int | None = None, height: int | None = None
    ) -> None:
        self.spec = parse_camera(spec) if isinstance(spec, str) else spec
        self.width = width
        self.height = height
        self._capture: Any = None

    @property
    def live(self) -> bool:
        """True for a camera, False for a file or sequence."""
        return self.spec.kind.live

    @property
    def is_open(self) -> bool:
        """True between open() and close()."""
        return self._capture is not None

    def open(self) -> None:
        """Open the capture; CameraUnavailable if it cannot be."""
        if self._capture is not None:
            return
        cv2 = import_cv2()
        spec = self.spec
        if spec.kind is SourceKind.INDEX:
            capture = cv2.VideoCapture(spec.index)
        elif spec.kind is SourceKind.DEVICE:
            capture = cv2.VideoCapture(spec.value, cv2.CAP_V4L2)
        elif spec.kind is SourceKind.SEQUENCE:
            capture = cv2.VideoCapture(spec.value, cv2.CAP_IMAGES)
        else:
            if not Path(spec.value).is_file():
                raise CameraUnavailable(f"camera video file {spec.value} does not exist")
            capture = cv2.VideoCapture(spec.value)
        if not capture.isOpened():
            capture.release()
            raise CameraUnavailable(f"cannot open camera {spec.value!r} ({spec.kind.value})")
        if spec.kind.live:
            if self.width:
                capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            if self.height:
                capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        self._capture = capture
        log.info("camera open: %s %s", spec.kind.value, spec.value)

    def read(self) -> Any | None:
        """The next frame (numpy BGR array), or None at the end or on a read failure."""
        if self._capture is None:
            raise CameraUnavailable("camera is not open")
        ok, frame = self._capture.read()
        return frame if ok else None

    def skip(self) -> bool:
        """Drop one frame without decoding it (live cameras: keep the picture fresh)."""
        if self._capture is None:
            raise CameraUnavailable("camera is not open")
        return bool(self._capture.grab())

    def close(self) -> None:
        """Release the capture (idempotent)."""
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()

    def __enter__(self) -> FrameSource:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
