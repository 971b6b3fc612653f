"""The announcement queue: one at a time, in order, measured."""

from __future__ import annotations

import itertools
import logging
import shutil
from pathlib import Path

import pytest

from display.announcer import Announcer, CommandSink, NullSink, WavFileSink, default_sink
from display.voice import AnnouncementBuilder, EspeakSynthesizer, VoiceError, read_wav, rms
from tests.display.conftest import ToneSynthesizer


def announcer(
    tmp_path: Path, synth: ToneSynthesizer, realtime: float = 0.0, max_queue: int = 20
) -> Announcer:
    builder = AnnouncementBuilder(synth, repeat=1)
    sink = WavFileSink(tmp_path / "out", realtime_factor=realtime)
    return Announcer(builder, sink, max_queue=max_queue)


def test_announcements_never_overlap_and_keep_their_order(tmp_path: Path) -> None:
    """GIVEN playback that takes time, WHEN calls arrive together, THEN they play one by one."""
    a = announcer(tmp_path, ToneSynthesizer(), realtime=0.1)
    a.start()
    try:
        for window, number in [(1, "A001"), (2, "B001"), (3, "C001")]:
            a.announce(number, window)
        assert a.wait_idle(10)
    finally:
        a.stop()
    played = a.history
    assert [p.announcement.number for p in played] == ["A001", "B001", "C001"]
    intervals = [(p.started, p.ended) for p in played]
    assert all(s is not None and e is not None and e - s >= 0.1 for s, e in intervals)
    for (_, end), (start, _) in itertools.pairwise(intervals):
        assert end is not None and start is not None and end <= start
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["00001-A001-w1.wav", "00002-B001-w2.wav", "00003-C001-w3.wav"]


def test_latency_runs_from_enqueue_to_playback_start(tmp_path: Path) -> None:
    a = announcer(tmp_path, ToneSynthesizer(delay_s=0.05))
    a.start()
    try:
        a.announce("A001", 1)
        assert a.wait_idle(5)
    finally:
        a.stop()
    (played,) = a.history
    assert played.latency is not None and 0.05 <= played.latency < 1.0


def test_a_call_already_waiting_is_not_queued_twice(tmp_path: Path) -> None:
    a = announcer(tmp_path, ToneSynthesizer())  # not started: everything stays queued
    assert a.announce("A001", 1) is not None
    assert a.announce("A001", 1) is None
    assert a.announce("A001", 2) is not None
    assert a.pending == 2


def test_a_full_queue_drops_the_oldest_call(tmp_path: Path) -> None:
    a = announcer(tmp_path, ToneSynthesizer(), max_queue=2)
    for n in range(3):
        a.announce(f"A00{n}", 1)
    assert [p.announcement.number for p in a.history] == ["A000"]
    assert a.history[0].error.startswith("dropped")


def test_a_failing_synthesiser_is_logged_and_the_queue_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    synth = ToneSynthesizer(fail=True)
    a = announcer(tmp_path, synth)
    a.start()
    try:
        a.announce("A001", 1)
        a.announce("A002", 1)
        assert a.wait_idle(5)
    finally:
        a.stop()
    assert [p.error for p in a.history] == ["synthesiser broken"] * 2
    assert "A001" in caplog.text


def test_without_a_player_the_null_sink_says_so_once(caplog: pytest.LogCaptureFixture) -> None:
    sink = NullSink()
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            sink.play(Path("x.wav"), None)  # type: ignore[arg-type]
    assert caplog.text.count("no sound device") == 1
    if not (shutil.which("paplay") or shutil.which("aplay")):
        assert isinstance(default_sink(), NullSink)


def test_a_failing_player_raises_a_voice_error(tmp_path: Path) -> None:
    with pytest.raises(VoiceError, match="exited with 1"):
        CommandSink(["false"]).play(tmp_path / "x.wav", None)  # type: ignore[arg-type]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_espeak_announcements_land_as_wav_files(tmp_path: Path) -> None:
    builder = AnnouncementBuilder(EspeakSynthesizer(), repeat=2)
    a = Announcer(builder, WavFileSink(tmp_path / "out"))
    a.start()
    try:
        a.announce("A012", 3)
        assert a.wait_idle(10)
    finally:
        a.stop()
    (played,) = a.history
    assert played.error == "" and played.wav is not None
    wav = read_wav(played.wav)
    assert wav.seconds > 4 and rms(wav.samples) > 500
    assert played.latency is not None and played.latency < 0.3
