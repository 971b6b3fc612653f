"""The announcement queue: one worker thread, so two announcements never overlap.

``Announcer.announce()`` returns at once; the worker builds the WAV (espeak-ng and the chime,
``display.voice``) and hands it to a ``Sink`` that blocks until it has played. Every
announcement's enqueue time, playback start and end are kept (``history``), so the latency
from a call to its announcement starting can be measured and the intervals checked.

Sinks: ``WavFileSink`` keeps each announcement as a WAV file (tests, demo, a hall whose audio
is played by something else); ``CommandSink`` plays through ``paplay`` or ``aplay``;
``NullSink`` stands in, once logged, where no player exists. ``default_sink()`` picks one.
"""

from __future__ import annotations

import itertools
import logging
import shutil
import subprocess
import tempfile
import threading
import time
import wave
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from display.voice import AnnouncementBuilder, VoiceError

log = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True)
class Announcement:
    """One call to be spoken."""

    id: int
    number: str
    window: int
    text: str
    enqueued: float
    """``time.monotonic()`` when it was queued."""


@dataclass(frozen=True)
class Played:
    """What happened to one announcement."""

    announcement: Announcement
    started: float | None = None
    """``time.monotonic()`` when playback started (None if it never did)."""
    ended: float | None = None
    wav: Path | None = None
    error: str = ""

    @property
    def latency(self) -> float | None:
        """Seconds from enqueue to playback start."""
        if self.started is None:
            return None
        return self.started - self.announcement.enqueued


class Sink(Protocol):
    """Plays a WAV file, blocking until it has played."""

    def play(self, wav: Path, announcement: Announcement) -> Path | None:
        """Play ``wav``; return where it was kept, if it was."""


class WavFileSink:
    """Keeps every announcement as ``NNNNN-A012-w3.wav`` in ``directory``.

    ``realtime_factor`` > 0 blocks for that fraction of the audio's duration, so a test sees
    playback take time without waiting for all of it.
    """

    def __init__(self, directory: Path, realtime_factor: float = 0.0) -> None:
        self.directory = Path(directory)
        self.realtime_factor = realtime_factor

    def play(self, wav: Path, announcement: Announcement) -> Path:
        """Move ``wav`` into the directory."""
        self.directory.mkdir(parents=True, exist_ok=True)
        safe = "".join(c for c in announcement.number if c.isalnum())
        target = self.directory / f"{announcement.id:05d}-{safe}-w{announcement.window}.wav"
        shutil.move(str(wav), target)
        if self.realtime_factor > 0:
            threading.Event().wait(_wav_seconds(target) * self.realtime_factor)
        return target


class CommandSink:
    """Plays through a command line such as ``paplay`` or ``aplay -q``."""

    def __init__(self, argv: Sequence[str], timeout_s: float = 60.0) -> None:
        self.argv = list(argv)
        self.timeout_s = timeout_s

    def play(self, wav: Path, announcement: Announcement) -> None:
        """Run the player and wait for it."""
        try:
            done = subprocess.run(
                [*self.argv, str(wav)], capture_output=True, timeout=self.timeout_s, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise VoiceError(f"{self.argv[0]} failed: {exc}") from exc
        if done.returncode != 0:
            detail = done.stderr.decode("utf-8", "replace").strip()
            raise VoiceError(f"{self.argv[0]} exited with {done.returncode}: {detail}")


class NullSink:
    """No sound device: says so once, then drops announcements."""

    def __init__(self) -> None:
        self._told = False

    def play(self, wav: Path, announcement: Announcement) -> None:
        """Drop ``wav``."""
        if not self._told:
            log.warning("no sound device (neither paplay nor aplay): announcements are not played")
            self._told = True


def default_sink() -> Sink:
    """``paplay`` if installed, else ``aplay``, else a NullSink."""
    for argv in (["paplay"], ["aplay", "-q"]):
        if shutil.which(argv[0]):
            return CommandSink(argv)
    return NullSink()


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


class Announcer:
    """A queue of announcements and the one thread that speaks them, in order."""

    def __init__(
        self,
        builder: AnnouncementBuilder,
        sink: Sink,
        *,
        max_queue: int = 20,
        history: int = 500,
        workdir: Path | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.builder = builder
        self.sink = sink
        self.max_queue = max_queue
        self._clock = clock
        self._workdir = workdir
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._queue: deque[Announcement] = deque()
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self._history: deque[Played] = deque(maxlen=history)
        self._busy = False
        self._stop = False
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker."""
        if self._thread is not None:
            return
        if self._workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="hallq-voice-")
            self._workdir = Path(self._tmp.name)
        self._workdir.mkdir(parents=True, exist_ok=True)
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="hallq-announcer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the announcement playing now; drop the queue."""
        with self._cond:
            self._stop = True
            self._queue.clear()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
            self._workdir = None

    # queueing ------------------------------------------------------------------------------

    def announce(
        self,
        number: str,
        window: int,
        *,
        service: str = "",
        window_name: str = "",
        enqueued: float | None = None,
    ) -> Announcement | None:
        """Queue a call; None if the same call is already waiting to be spoken.

        ``enqueued`` (monotonic) backdates the start of the latency measurement, e.g. to when
        the event arrived. When the queue is full the oldest waiting call is dropped.
        """
        text = self.builder.text(number, window, service=service, window_name=window_name)
        with self._cond:
            if any(a.number == number and a.window == window for a in self._queue):
                return None
            when = self._clock() if enqueued is None else enqueued
            item = Announcement(next(self._ids), number, window, text, when)
            if len(self._queue) >= self.max_queue:
                dropped = self._queue.popleft()
                self._history.append(Played(dropped, error="dropped: queue full"))
                log.warning("announcement queue full: %s for window %d dropped",
                            dropped.number, dropped.window)  # fmt: skip
            self._queue.append(item)
            self._cond.notify_all()
        return item

    @property
    def history(self) -> list[Played]:
        """What happened to recent announcements, oldest first."""
        with self._cond:
            return list(self._history)

    @property
    def pending(self) -> int:
        """Announcements waiting or being spoken."""
        with self._cond:
            return len(self._queue) + (1 if self._busy else 0)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or playing; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    # worker ----------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                item = self._queue.popleft()
                self._busy = True
            played = self._speak(item)
            with self._cond:
                self._history.append(played)
                self._busy = False
                self._cond.notify_all()

    def _speak(self, item: Announcement) -> Played:
        assert self._workdir is not None
        wav = self._workdir / f"{item.id:05d}.wav"
        played = Played(item)
        try:
            self.builder.build(item.text, wav)
            played = replace(played, started=self._clock())
            kept = self.sink.play(wav, item)
            return replace(played, ended=self._clock(), wav=kept)
        except (VoiceError, OSError) as exc:
            log.error("announcement %s for window %d failed: %s", item.number, item.window, exc)
            return replace(played, ended=self._clock(), error=str(exc))
        finally:
            wav.unlink(missing_ok=True)
