"""Reports of the voice check (issue 30): an audio file's report is about its speech (no
face wording), with the speech windows' scores over time; a video's report carries a Voice
section beside its faces."""

from __future__ import annotations

import pytest
from test_reports import _check_reports, _pdf_text

from fakelens.reports import plots
from fakelens.types import AudioAnalysis, AudioStatus, AudioWindow, ScoreBand, SpeechSegment

pytestmark = pytest.mark.realdata


@pytest.mark.parametrize("clip", ["pub_0000.flac", "pub_0002.flac"])
def test_audio_file_report(samples, tmp_path, clip):
    from fakelens.analysis.pipeline import analyze_detailed

    detailed = analyze_detailed(samples / "audio" / clip)
    a = detailed.analysis
    assert a.media.kind == "audio" and a.audio.windows
    html, pages = _check_reports(detailed, tmp_path, "voice")
    assert "Voice score over time" in html and "fakelens-voice" in html
    assert "Face detector" not in html and "No face was found" not in html
    assert "Resolution" not in html and "Frames analysed" not in html
    assert "ElevenLabs" in html  # the voice check's known failures, not the faces'
    assert "the voice is checked" not in html  # only a video's soundtrack says that
    text = "".join(_pdf_text(tmp_path / "voice.pdf", n) for n in range(1, len(pages) + 1))
    assert "Voice" in text and "Sound" in text and "16,000 Hz" in text
    page1 = _pdf_text(tmp_path / "voice.pdf", 1)
    assert "fakelens-voice" in page1  # the banner says which detector decided, how good


def test_speech_timeline_draws_every_window():
    voice = AudioAnalysis(
        status=AudioStatus.ANALYSED, message="m", score=0.6, duration_s=65.0, speech_s=60.0,
        segments=[SpeechSegment(start_s=2.0, end_s=62.0, score=0.6)],
        windows=[AudioWindow(start_s=2.0 + i, end_s=4.0 + i, score=(i % 10) / 10)
                 for i in range(59)])
    png = plots.speech_timeline(voice, ScoreBand.around(0.5, 0.1))
    assert png.startswith(b"\x89PNG")
    svg = plots.speech_timeline(voice, ScoreBand.around(0.5, 0.1), fmt="svg").decode()
    assert "1:00" in svg  # a minute-long recording gets m:ss ticks


def test_video_report_without_sound_has_no_voice_section(videos, model_dir, tmp_path):
    from fakelens.analysis.pipeline import analyze_detailed

    detailed = analyze_detailed(videos / "ffpp_original_004.mp4", frames=4)
    assert detailed.analysis.audio.status is AudioStatus.NO_AUDIO
    html = _check_reports(detailed, tmp_path, "silent")[0]
    assert "<h2>Voice</h2>" not in html and "The audio track is not" in html
