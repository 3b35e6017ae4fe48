"""Audio files on the web (issue 30): the API and the upload form take audio in every format
the voice check reads; the result page shows the voice check in the verdicts' own words,
with its detector's model card and a timeline of the speech windows' scores."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from browserhelpers import DESKTOP, capture, log_in_after_sign_up
from servers import Service, service_env
from sqlalchemy import select
from test_audio import FORMATS, speechlike, write_audio
from webhelpers import PASSWORD, analysis_rows, csrf_from, login_token, upload, wait_for

from fakelens.analysis.caveats import VERDICT_LABELS
from fakelens.db.tables import AnalysisRow, Status
from fakelens.types import (
    Analysis,
    AudioAnalysis,
    AudioStatus,
    AudioWindow,
    MediaInfo,
    ModelInfo,
    SpeechSegment,
    StageTimings,
    Verdict,
)

CLIP = "pub_0000.flac"  # a real voice of the test role's neighbours (tortoise voice train_atkins)


@pytest.mark.parametrize(("name", "fmt", "codec", "rate"), FORMATS)
def test_every_audio_format_is_accepted(client, alice_token, tmp_path, name, fmt, codec, rate):
    path = write_audio(tmp_path / name, speechlike(1.5, seed=3), fmt=fmt, codec=codec,
                       rate=rate)
    accepted = upload(client, alice_token, content=path.read_bytes(), filename=name)
    assert accepted.status_code == 202, accepted.text
    body = client.get(accepted.json()["status_url"], headers=alice_token).json()
    assert body["media_kind"] == "audio" and body["frames"] is None
    assert [r.media_kind for r in analysis_rows(client)] == ["audio"]


def test_a_cut_audio_file_is_refused_or_fails_in_words(client, alice_token, tmp_path):
    """Garbage after a WAV header is no crash: refused now, or queued to fail in words."""
    path = write_audio(tmp_path / "clip.wav", speechlike(1.0, seed=1), fmt="wav",
                       codec="pcm_s16le", rate=16000)
    data = path.read_bytes()[:40]  # the header, without any sample
    response = upload(client, alice_token, content=data, filename="clip.wav")
    assert response.status_code in (202, 415, 422), response.text
    if response.status_code != 202:
        assert "clip.wav" in response.json()["error"]["message"]


def _audio_result(verdict: Verdict | None, score: float | None) -> Analysis:
    windows = [AudioWindow(start_s=t, end_s=t + 2.0, score=s)
               for t, s in ((0.0, 0.2), (1.0, 0.7), (2.0, 0.9))] if score is not None else []
    voice = AudioAnalysis(
        status=AudioStatus.ANALYSED if windows else AudioStatus.NO_SPEECH,
        message="Speech found: 4.0 s in 1 segment." if windows
        else "No speech was found in the audio.", verdict=verdict, score=score,
        model=ModelInfo(name="fakelens-voice", version="1", task="voice-clone", threshold=0.5)
        if windows else None, codec="flac", sample_rate=16000, channels=1, duration_s=5.0,
        speech_s=4.0 if windows else 0.0,
        segments=[SpeechSegment(start_s=0.0, end_s=4.0, score=score)] if windows else [],
        windows=windows)
    return Analysis(
        fakelens_version="test", verdict=verdict or Verdict.NO_SPEECH, score=score,
        threshold=0.5, uncertain_band=0.1, reason=f"Voice: {voice.message}",
        media=MediaInfo(path="call.flac", kind="audio", format="flac", size_bytes=1000,
                        sha256="cd" * 32, width=0, height=0, codec="flac", duration_s=5.0,
                        has_audio=True),
        tracks=[], models=[], face_detector="none (audio)", frames_sampled=0,
        sampling="audio only", audio=voice, timings=StageTimings(),
        created_at=datetime.now(UTC).isoformat())


def _stored(alice, result: Analysis) -> str:
    page = alice.get("/").text
    response = alice.post("/analyses", data={"csrf_token": csrf_from(page)}, files={
        "file": ("call.flac", _flac_bytes(), "application/octet-stream")},
        follow_redirects=False)
    assert response.status_code == 303, response.text
    job_url = response.headers["location"]
    with alice.app.state.sessions() as db:
        row = db.scalar(select(AnalysisRow).where(
            AnalysisRow.public_id == job_url.rsplit("/", 1)[1]))
        row.status, row.stage, row.progress = Status.DONE, "done", 100
        row.verdict, row.score, row.result_json = result.verdict, result.score, result.to_json()
        db.commit()
    return job_url


def _flac_bytes() -> bytes:
    from tempfile import TemporaryDirectory

    with TemporaryDirectory() as tmp:
        return write_audio(Path(tmp) / "call.flac", speechlike(1.0, seed=5), fmt="flac",
                           codec="flac", rate=16000).read_bytes()


@pytest.mark.parametrize(("verdict", "score"), [
    (Verdict.FAKE, 0.9), (Verdict.UNCERTAIN, 0.55), (Verdict.REAL, 0.1), (None, None)])
def test_result_page_of_an_audio_file(alice, verdict, score):
    page = alice.get(_stored(alice, _audio_result(verdict, score))).text
    words = VERDICT_LABELS[verdict or Verdict.NO_SPEECH]
    voice = re.search(r'<section id="voice">.*?</section>', page, re.S).group(0)
    assert f">{words}</span>" in voice  # the voice verdict in the verdicts' own words
    card = re.search(r'<section class="verdict.*?</section>', page, re.S).group(0)
    assert f">{words}</h2>" in card
    assert "Every face" not in page and "face detector" not in page  # no face wording
    assert "Dimensions" not in page and "Frames analysed" not in page
    assert "16,000 Hz" in page
    if verdict is None:
        assert "speech-timeline" not in page and "No speech was found" in voice
        return
    # the voice detector's model card beside its verdict: accuracy, and blind spots unless
    # it called the voice cloned
    assert "fakelens-voice" in card and "0.878 [0.814, 0.933]" in card
    assert ("Synthetic speech of fastspeech2" in card) == (verdict is not Verdict.FAKE)
    assert "ElevenLabs" in card  # the voice check's known failures, not the faces'
    svg = re.search(r'<svg class="timeline speech-timeline".*?</svg>', voice, re.S).group(0)
    assert svg.count("<circle") == 3 and "stroke-dasharray" in svg


def test_voice_section_beside_faces_carries_its_own_card(alice):
    """A video's soundtrack: the faces keep the verdict card, the voice section carries the
    voice detector's accuracy and blind spots itself."""
    from test_pages import _result

    video = _result("clip.mp4")
    voice = _audio_result(Verdict.REAL, 0.1).audio
    video = video.model_copy(update={"audio": voice})
    page = alice.get(_stored(alice, video)).text
    section = re.search(r'<section id="voice">.*?</section>', page, re.S).group(0)
    assert "No sign found by these detectors</span>" in section
    assert "How reliable:" in section and "0.878 [0.814, 0.933]" in section
    assert "Synthetic speech of tacotron2" in section
    assert "speech-timeline" in section


@pytest.mark.realdata
@pytest.mark.slow
def test_flac_through_the_api(app_factory, samples):
    client = app_factory(workers=1)
    headers = login_token(client)
    accepted = upload(client, headers, content=(samples / "audio" / CLIP).read_bytes(),
                      filename=CLIP)
    assert accepted.status_code == 202, accepted.text
    body = wait_for(client, accepted.json()["status_url"], headers, timeout_s=240)
    assert body["status"] == "done", body["error"]
    result = Analysis.model_validate(body["result"])
    assert result.media.kind == "audio" and result.media.path == CLIP
    assert result.audio.status is AudioStatus.ANALYSED and result.audio.windows
    assert result.verdict is result.audio.verdict and not result.tracks
    page = client.get(f"/analyses/{body['id']}").text
    assert 'id="voice"' in page and "speech-timeline" in page
    assert VERDICT_LABELS[result.verdict] in page
    html = client.get(body["status_url"] + "/report.html", headers=headers)
    assert html.status_code == 200 and VERDICT_LABELS[result.verdict] in html.text


@pytest.fixture
def server(tmp_path: Path, model_dir):
    env = service_env(tmp_path / "data", None, workers=1)
    with Service(["serve", "--threads", "1"], env, tmp_path / "serve.log") as service:
        yield service


@pytest.mark.realdata
@pytest.mark.slow
def test_upload_a_flac_in_the_browser(browser, server, shots, samples):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    try:
        page.goto(server.url + "/register")
        page.fill("#email", "alice@example.org")
        page.fill("#username", "alice")
        page.fill("#password", PASSWORD)
        page.click("button:has-text('Create account')")
        log_in_after_sign_up(page, server.url, PASSWORD)
        assert "audio/*" in page.get_attribute("#file", "accept")
        page.set_input_files("#file", str(samples / "audio" / CLIP))
        page.click("button:has-text('Analyse')")
        page.wait_for_url("**/analyses/*")
        page.wait_for_selector("section.verdict, .alert", timeout=240_000)
        assert page.locator(".alert").count() == 0, page.locator(".alert").inner_text()
        label = page.locator("section.verdict h2").inner_text()
        assert label in ("Likely manipulated", "No sign found by these detectors", "Uncertain")
        voice = page.locator("#voice")
        assert label in voice.inner_text()
        assert page.locator("#voice svg.speech-timeline").is_visible()
        assert "fakelens-voice" in page.locator("section.verdict").inner_text()
        capture(page, shots, "audio-result")
        assert not problems, problems
    finally:
        context.close()
