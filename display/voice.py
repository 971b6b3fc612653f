"""Spoken calls: the text, espeak-ng synthesis, a generated chime, and the WAV put together.

Text: ticket digits are read one by one as hanzi ("A012" → "A零一二"), so espeak-ng does not
read "012" as a number; a window number is read naturally (3 → "三", 12 → "十二",
105 → "一百零五"). The ``cmn-latn-pinyin`` voice pronounces hanzi correctly where the plain
``cmn`` voice does not (docs/display.md, "Voice").

Audio: one WAV per announcement, mono 16-bit PCM at espeak-ng's rate (22050 Hz):
chime, short pause, speech, then the speech again ``repeat - 1`` times after a pause.
"""

from __future__ import annotations

import array
import functools
import logging
import math
import shutil
import string
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

DEFAULT_TEMPLATE = "请{number}号到{window}号窗口办理"
TEMPLATE_FIELDS = frozenset({"number", "window", "service", "window_name"})
HANZI_DIGITS = "零一二三四五六七八九"
SAMPLE_WIDTH = 2
DEFAULT_RATE = 22050
CHIME_TONES = ((784.0, 0.35), (523.25, 0.55))
"""(frequency Hz, seconds): G5 then C5, a two-tone "ding-dong"."""


class VoiceError(Exception):
    """An announcement could not be made (synthesis failed, bad WAV, bad template)."""


class VoiceUnavailable(VoiceError):
    """The synthesiser program is not installed."""


# --- text ---------------------------------------------------------------------------------


def digits_as_hanzi(number: str) -> str:
    """Every ASCII digit as its hanzi digit, letters kept: "A012" → "A零一二"."""
    return "".join(HANZI_DIGITS[int(c)] if c.isascii() and c.isdigit() else c for c in number)


def natural_number(value: int) -> str:
    """0–9999 read naturally: 3 → 三, 10 → 十, 12 → 十二, 20 → 二十, 105 → 一百零五."""
    if not 0 <= value <= 9999:
        raise ValueError(f"cannot read {value} aloud: 0–9999 only")
    if value < 10:
        return HANZI_DIGITS[value]
    if value < 20:
        return "十" + (HANZI_DIGITS[value - 10] if value > 10 else "")
    out, pending_zero = "", False
    for unit, size in (("千", 1000), ("百", 100), ("十", 10), ("", 1)):
        digit = value // size % 10
        if digit == 0:
            pending_zero = bool(out)
            continue
        if pending_zero:
            out += "零"
            pending_zero = False
        out += HANZI_DIGITS[digit] + unit
    return out


def check_template(template: str) -> str:
    """``template`` if it names only {number}, {window}, {service}, {window_name}."""
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as exc:
        raise VoiceError(f"announcement template {template!r}: {exc}") from None
    unknown = names - TEMPLATE_FIELDS
    if unknown or "" in names:
        allowed = ", ".join("{" + f + "}" for f in sorted(TEMPLATE_FIELDS))
        raise VoiceError(f"announcement template {template!r}: use only {allowed}")
    return template


def announcement_text(
    number: str,
    window: int,
    template: str = DEFAULT_TEMPLATE,
    *,
    service: str = "",
    window_name: str = "",
) -> str:
    """What is spoken: "请A零一二号到三号窗口办理" for A012 at window 3."""
    return check_template(template).format(
        number=digits_as_hanzi(number.strip().upper()),
        window=natural_number(window),
        service=service,
        window_name=window_name,
    )


# --- synthesis ----------------------------------------------------------------------------


class Synthesizer(Protocol):
    """Text to a WAV file."""

    @property
    def available(self) -> bool:
        """True if it can run here."""

    def synthesize(self, text: str, out: Path) -> None:
        """Write ``text`` spoken to ``out``; VoiceError if it cannot."""


class EspeakSynthesizer:
    """Runs ``espeak-ng -v VOICE -s SPEED -w OUT.wav TEXT`` (no shell)."""

    def __init__(
        self,
        voice: str = "cmn-latn-pinyin",
        speed: int = 140,
        *,
        executable: str = "espeak-ng",
        timeout_s: float = 15.0,
    ) -> None:
        self.voice = voice
        self.speed = speed
        self.executable = executable
        self.timeout_s = timeout_s

    @property
    def available(self) -> bool:
        """True if the program is installed."""
        return shutil.which(self.executable) is not None

    def synthesize(self, text: str, out: Path) -> None:
        """Write ``text`` spoken to the WAV file ``out``."""
        program = shutil.which(self.executable)
        if program is None:
            raise VoiceUnavailable(f"{self.executable} is not installed (Debian package espeak-ng)")
        # A leading "-" would be read as an option: a space in front is not spoken.
        spoken = " " + text if text.startswith("-") else text
        argv = [program, "-v", self.voice, "-s", str(self.speed), "-w", str(out), spoken]
        try:
            done = subprocess.run(argv, capture_output=True, timeout=self.timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise VoiceError(f"{self.executable} failed: {exc}") from exc
        if done.returncode != 0 or not out.exists():
            detail = done.stderr.decode("utf-8", "replace").strip()
            raise VoiceError(f"{self.executable} exited with {done.returncode}: {detail}")


# --- PCM and WAV --------------------------------------------------------------------------


@dataclass(frozen=True)
class Pcm:
    """Mono 16-bit samples at ``rate`` Hz."""

    rate: int
    samples: array.array[int]

    @property
    def seconds(self) -> float:
        """Duration."""
        return len(self.samples) / self.rate


def read_wav(path: Path) -> Pcm:
    """A 16-bit PCM WAV file (stereo is mixed down to mono)."""
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise VoiceError(f"cannot read {path}: {exc}") from exc
    if width != SAMPLE_WIDTH:
        raise VoiceError(f"{path}: {8 * width}-bit samples, expected 16-bit")
    data = array.array("h")
    data.frombytes(raw[: len(raw) - len(raw) % (width * channels)])
    if channels > 1:
        data = array.array(
            "h", (sum(data[i : i + channels]) // channels for i in range(0, len(data), channels))
        )
    return Pcm(rate, data)


def write_wav(path: Path, pcm: Pcm) -> None:
    """Write mono 16-bit PCM."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(SAMPLE_WIDTH)
        w.setframerate(pcm.rate)
        w.writeframes(pcm.samples.tobytes())


def silence(rate: int, seconds: float) -> array.array[int]:
    """``seconds`` of silence."""
    return array.array("h", bytes(2 * round(rate * seconds)))


@functools.lru_cache(maxsize=4)
def _chime(rate: int, level: float) -> bytes:
    out = array.array("h")
    for frequency, seconds in CHIME_TONES:
        n = round(rate * seconds)
        attack = max(1, round(rate * 0.005))
        for i in range(n):
            t = i / rate
            envelope = min(1.0, i / attack) * math.exp(-t / (seconds / 3))
            wave_value = math.sin(2 * math.pi * frequency * t)
            wave_value += 0.25 * math.sin(4 * math.pi * frequency * t)
            out.append(round(32767 * level * envelope * wave_value / 1.25))
    return out.tobytes()


def chime(rate: int = DEFAULT_RATE, level: float = 0.5) -> Pcm:
    """The two-tone chime played before a call."""
    samples = array.array("h")
    samples.frombytes(_chime(rate, level))
    return Pcm(rate, samples)


def compose(speech: Pcm, repeat: int = 2, *, with_chime: bool = True, gap_s: float = 0.7) -> Pcm:
    """Chime, pause, then ``speech`` ``repeat`` times with ``gap_s`` between."""
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat}")
    out = array.array("h")
    if with_chime:
        out += chime(speech.rate).samples
        out += silence(speech.rate, 0.2)
    for i in range(repeat):
        if i:
            out += silence(speech.rate, gap_s)
        out += speech.samples
    out += silence(speech.rate, 0.2)
    return Pcm(speech.rate, out)


def rms(samples: array.array[int]) -> float:
    """Root mean square of ``samples`` (0 for none)."""
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


class AnnouncementBuilder:
    """Text → one WAV file with chime and repeats."""

    def __init__(
        self,
        synthesizer: Synthesizer,
        *,
        template: str = DEFAULT_TEMPLATE,
        repeat: int = 2,
        with_chime: bool = True,
    ) -> None:
        self.synthesizer = synthesizer
        self.template = check_template(template)
        self.repeat = repeat
        self.with_chime = with_chime

    def text(self, number: str, window: int, *, service: str = "", window_name: str = "") -> str:
        """The words of one announcement."""
        return announcement_text(
            number, window, self.template, service=service, window_name=window_name
        )

    def build(self, text: str, out: Path) -> Pcm:
        """Synthesise ``text`` and write the whole announcement to ``out``."""
        speech_path = out.with_name(out.stem + ".speech.wav")
        try:
            self.synthesizer.synthesize(text, speech_path)
            speech = read_wav(speech_path)
        finally:
            speech_path.unlink(missing_ok=True)
        pcm = compose(speech, self.repeat, with_chime=self.with_chime)
        write_wav(out, pcm)
        return pcm
