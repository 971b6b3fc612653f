"""Voice: the spoken text, the chime, and whole announcements as WAV files.

The WAV tests run espeak-ng for real (Debian package espeak-ng) and check the file:
duration, not silence, the chime at its start. Nothing is played.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from display.voice import (
    CHIME_TONES,
    AnnouncementBuilder,
    EspeakSynthesizer,
    Pcm,
    VoiceError,
    VoiceUnavailable,
    announcement_text,
    chime,
    compose,
    digits_as_hanzi,
    natural_number,
    read_wav,
    rms,
    write_wav,
)

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="needs espeak-ng (Debian package espeak-ng)"
)


@pytest.mark.parametrize(
    ("number", "spoken"),
    [
        ("A012", "A零一二"),
        ("a012", "a零一二"),
        ("B100", "B一零零"),
        ("AB0999", "AB零九九九"),
    ],
)
def test_ticket_digits_are_read_one_by_one(number: str, spoken: str) -> None:
    assert digits_as_hanzi(number) == spoken


@pytest.mark.parametrize(
    ("value", "spoken"),
    [
        (0, "零"),
        (3, "三"),
        (10, "十"),
        (12, "十二"),
        (20, "二十"),
        (21, "二十一"),
        (100, "一百"),
        (105, "一百零五"),
        (110, "一百一十"),
        (999, "九百九十九"),
        (1010, "一千零一十"),
    ],
)
def test_window_numbers_are_read_naturally(value: int, spoken: str) -> None:
    assert natural_number(value) == spoken


def test_the_default_template_makes_the_usual_call() -> None:
    assert announcement_text("A012", 3) == "请A零一二号到三号窗口办理"
    assert announcement_text("c007", 12) == "请C零零七号到十二号窗口办理"


def test_a_template_may_name_the_service_and_window() -> None:
    text = announcement_text(
        "A1", 2, "{number}号请到{window_name}办理{service}", service="税务", window_name="2号窗口"
    )
    assert text == "A一号请到2号窗口办理税务"


@pytest.mark.parametrize("template", ["请{who}办理", "请{}号", "请{number号"])
def test_a_bad_template_is_refused(template: str) -> None:
    with pytest.raises(VoiceError):
        announcement_text("A1", 1, template)


def goertzel(samples: list[int], rate: int, frequency: float) -> float:
    """Power of ``frequency`` in ``samples``."""
    coeff = 2 * math.cos(2 * math.pi * frequency / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def test_the_chime_is_two_tones() -> None:
    pcm = chime(22050)
    (f1, d1), (f2, _) = CHIME_TONES
    first = list(pcm.samples[: int(22050 * d1 * 0.8)])
    second = list(pcm.samples[int(22050 * d1) + 200 :])
    assert goertzel(first, 22050, f1) > 50 * goertzel(first, 22050, f2)
    assert goertzel(second, 22050, f2) > 50 * goertzel(second, 22050, f1)
    assert 0.8 < pcm.seconds < 1.0


def test_compose_puts_the_chime_first_and_repeats_the_speech(tmp_path: Path) -> None:
    speech = Pcm(8000, chime(8000).samples[:4000])
    once, twice = compose(speech, 1), compose(speech, 2, gap_s=0.5)
    assert twice.seconds == pytest.approx(once.seconds + 0.5 + speech.seconds, abs=1e-3)
    assert compose(speech, 1, with_chime=False).seconds == pytest.approx(speech.seconds + 0.2)
    write_wav(tmp_path / "x.wav", twice)
    assert read_wav(tmp_path / "x.wav") == twice
    with pytest.raises(ValueError):
        compose(speech, 0)


def test_a_missing_synthesiser_is_named(tmp_path: Path) -> None:
    synth = EspeakSynthesizer(executable="no-such-espeak")
    assert not synth.available
    with pytest.raises(VoiceUnavailable, match="espeak-ng"):
        synth.synthesize("请", tmp_path / "x.wav")


def test_an_unreadable_wav_is_a_voice_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....WAVEjunk")
    with pytest.raises(VoiceError):
        read_wav(bad)


@needs_espeak
def test_an_announcement_is_chime_then_speech_twice(tmp_path: Path) -> None:
    builder = AnnouncementBuilder(EspeakSynthesizer(speed=140), repeat=2)
    text = builder.text("A012", 3)
    assert text == "请A零一二号到三号窗口办理"
    pcm = builder.build(text, tmp_path / "call.wav")
    wav = read_wav(tmp_path / "call.wav")
    assert wav == pcm
    assert wav.rate == 22050
    assert 4.0 < wav.seconds < 20.0
    assert rms(wav.samples) > 500  # not silence
    chime_len = int(wav.rate * CHIME_TONES[0][1] * 0.8)
    head = list(wav.samples[:chime_len])
    assert goertzel(head, wav.rate, CHIME_TONES[0][0]) > 50 * goertzel(head, wav.rate, 300)
    once = AnnouncementBuilder(EspeakSynthesizer(speed=140), repeat=1).build(
        text, tmp_path / "1.wav"
    )
    speech = once.seconds - chime(wav.rate).seconds - 0.4
    assert speech > 1.0
    assert wav.seconds == pytest.approx(once.seconds + 0.7 + speech, abs=0.05)
    assert not list(tmp_path.glob("*.speech.wav"))


@needs_espeak
def test_a_leading_dash_is_spoken_not_taken_as_an_option(tmp_path: Path) -> None:
    EspeakSynthesizer().synthesize("-请", tmp_path / "dash.wav")
    assert read_wav(tmp_path / "dash.wav").seconds > 0.1
