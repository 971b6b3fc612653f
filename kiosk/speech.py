"""Spoken prompts for elderly mode: espeak-ng writes a WAV, a player plays it if there is one.

    espeak-ng -v cmn-latn-pinyin -s 140 -w prompt.wav "请选择您要办理的业务"

The ``cmn-latn-pinyin`` voice reads hanzi correctly (the plain ``cmn`` voice misreads many);
ticket numbers are spelt with hanzi digits (A012 → "A零一二"), otherwise "012" is read as a
number. Synthesis and playback run on one background thread, newest prompt first: a prompt
still waiting when a newer one arrives is dropped. Without espeak-ng the kiosk is silent and
says so once in the log. No Qt here.
"""

from __future__ import annotations

import logging
import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

HANZI_DIGITS = dict(zip("0123456789", "零一二三四五六七八九", strict=True))
PLAYERS = (("pw-play", ()), ("paplay", ()), ("aplay", ("-q",)))


def spell_number(number: str) -> str:
    """``A012`` → ``A零一二``: digits one by one, as a caller reads them."""
    return "".join(HANZI_DIGITS.get(ch, ch) for ch in number)


def find_player() -> list[str] | None:
    """The command of an installed WAV player (PipeWire, PulseAudio, ALSA), or None."""
    for name, args in PLAYERS:
        path = shutil.which(name)
        if path:
            return [path, *args]
    return None


class EspeakSpeaker:
    """Speaks prompts with espeak-ng on a worker thread."""

    def __init__(
        self,
        *,
        voice: str = "cmn-latn-pinyin",
        speed: int = 130,
        out_dir: Path | None = None,
        player: list[str] | bool | None = True,
        on_spoken: Callable[[Path], None] | None = None,
    ) -> None:
        self.voice = voice
        self.speed = speed
        self.espeak = shutil.which("espeak-ng")
        self.out_dir = out_dir
        self.player = find_player() if player is True else (player or None)
        self.on_spoken = on_spoken
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.count = 0
        if self.espeak is None:
            log.warning("espeak-ng is not installed: elderly mode prompts are not spoken")

    @property
    def available(self) -> bool:
        """True if espeak-ng is installed."""
        return self.espeak is not None

    def say(self, text: str) -> None:
        """Speak ``text`` soon (drops prompts not yet started)."""
        if not self.available:
            return
        if self._thread is None:
            self._start()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(text)

    def _start(self) -> None:
        if self.out_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="hallq-kiosk-voice-")
            self.out_dir = Path(self._tmp.name)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name="kiosk-voice", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            text = self._queue.get()
            if text is None:
                return
            try:
                self._speak(text)
            except (OSError, subprocess.SubprocessError) as exc:
                log.warning("speaking a prompt failed: %s", exc)

    def _speak(self, text: str) -> None:
        assert self.espeak is not None and self.out_dir is not None
        self.count += 1
        wav = self.out_dir / f"prompt-{self.count % 8}.wav"
        subprocess.run(
            [self.espeak, "-v", self.voice, "-s", str(self.speed), "-w", str(wav), text],
            check=True,
            capture_output=True,
            timeout=20,
        )
        if self.player:
            subprocess.run([*self.player, str(wav)], check=False, capture_output=True, timeout=60)
        if self.on_spoken is not None:
            self.on_spoken(wav)

    def close(self) -> None:
        """Stop the worker thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
