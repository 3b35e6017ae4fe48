"""The server-rendered pages: login required, upload form, job page, result page (from a
real stored result), history, deletion, escaping, and errors as HTML."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from provenance_media import png_with_text
from sqlalchemy import select
from webhelpers import csrf_from, other_client, png_bytes, register

from fakelens.db.tables import AnalysisRow, Status
from fakelens.provenance import inspect_provenance
from fakelens.types import (
    SCHEMA_VERSION,
    Analysis,
    Box,
    FrameScore,
    MediaInfo,
    ModelInfo,
    StageTimings,
    Track,
    Verdict,
)


def form_upload(client, content=None, filename="clip.png", **fields):
    token = csrf_from(client.get("/").text)
    return client.post("/analyses", data={"csrf_token": token, **fields},
                       files={"file": (filename, content or png_bytes(), "image/png")},
                       follow_redirects=False)


def test_pages_need_login(client):
    assert "What it detects, and what it cannot" in client.get("/").text  # public landing
    for path in ("/history", "/account", "/analyses/abc"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"


def test_upload_page_form(alice):
    page = alice.get("/")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    assert '<label for="file">' in page.text and 'id="file"' in page.text
    assert 'name="viewport"' in page.text


def test_upload_then_job_page_then_history(alice):
    response = form_upload(alice, filename="<img src=x onerror=alert(1)>.png", frames="4")
    assert response.status_code == 303
    job_url = response.headers["location"]
    analysis_id = job_url.rsplit("/", 1)[1]
    page = alice.get(job_url)
    assert page.status_code == 200
    assert f'data-status-url="/api/v1/analyses/{analysis_id}"' in page.text
    assert "<progress" in page.text
    assert "<img src=x" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in page.text
    history = alice.get("/history").text
    assert job_url in history and "queued" in history


def test_upload_errors_are_shown_on_the_form(alice):
    response = form_upload(alice, content=b"plain text, no media\n" * 5, filename="a.txt")
    assert response.status_code == 415
    assert 'role="alert"' in response.text
    assert "a.txt: this is not a video or image that fakelens can read" in response.text
    response = form_upload(alice, frames="0")
    assert response.status_code == 422 and "Frames must be" in response.text
    forged = alice.post("/analyses", data={"csrf_token": "forged"},
                        files={"file": ("a.png", png_bytes(), "image/png")})
    assert forged.status_code == 403
    assert alice.get("/api/v1/analyses").json()["total"] == 0


def test_other_users_get_404_pages(alice):
    job_url = form_upload(alice).headers["location"]
    bob = other_client(alice)
    register(bob, "bob@example.org")
    response = bob.get(job_url)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "No such analysis." in response.text
    response = bob.post(job_url + "/delete", data={"csrf_token": csrf_from(bob.get("/").text)})
    assert response.status_code == 404
    assert alice.get(job_url).status_code == 200


def test_delete_from_the_job_page(alice):
    job_url = form_upload(alice).headers["location"]
    token = csrf_from(alice.get(job_url).text)
    response = alice.post(job_url + "/delete", data={"csrf_token": token},
                          follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/history#trash"
    assert alice.get(job_url).status_code == 404
    assert "Nothing yet" in alice.get("/history").text


def _result(filename: str) -> Analysis:
    def frame(i: int, score: float) -> FrameScore:
        return FrameScore(frame_index=i * 10, timestamp_s=i * 0.4, box=Box(x=1, y=2, w=50, h=60),
                          landmarks=[(1.0, 2.0)] * 5, detector_confidence=0.9, score=score)

    tracks = [Track(track_id=0, frames=[frame(i, s) for i, s in enumerate((0.2, 0.9, 0.8))],
                    frame_score=0.8, model_scores=[], score=0.81, decisive=True),
              Track(track_id=1, frames=[frame(1, 0.1)], frame_score=0.1, score=0.1,
                    decisive=False)]
    return Analysis(
        schema_version=SCHEMA_VERSION, fakelens_version="0.1.0", verdict=Verdict.FAKE,
        score=0.81, threshold=0.5, uncertain_band=0.1, reason="Face 1 looks manipulated.",
        media=MediaInfo(path=filename, kind="video", format="mp4", size_bytes=123456,
                        sha256="ab" * 32, width=640, height=360, codec="h264", fps=25.0,
                        duration_s=1.0, frame_count=25),
        tracks=tracks, models=[ModelInfo(name="tiny-test", version="0", task="face-swap",
                                         threshold=0.5)],
        face_detector="yunet", frames_sampled=3, sampling="3 evenly spaced frames",
        timings=StageTimings(), created_at=datetime.now(UTC).isoformat())


def test_result_page(alice):
    """A finished analysis (result stored as the job stores it) renders in plain words."""
    job_url = form_upload(alice, filename="clip.mp4").headers["location"]
    analysis_id = job_url.rsplit("/", 1)[1]
    with alice.app.state.sessions() as db:
        row = db.scalar(select(AnalysisRow).where(AnalysisRow.public_id == analysis_id))
        row.status, row.stage, row.progress = Status.DONE, "done", 100
        row.verdict, row.score = "FAKE", 0.81
        row.result_json = _result("clip.mp4").to_json()
        db.commit()
    page = alice.get(job_url).text
    assert "Likely manipulated" in page
    assert "Fake score <strong>0.81</strong>" in page
    assert "Face 1 looks manipulated." in page
    assert "no (seen too briefly)" in page
    svg = re.search(r"<svg class=\"timeline\".*?</svg>", page, re.S).group(0)
    assert svg.count("<circle") == 4 and svg.count("<polyline") == 1
    assert "stroke-dasharray" in svg  # the threshold line
    assert "640 × 360 pixels" in page and "h264" in page
    assert 'id="job"' not in page  # no polling once finished
    download = alice.get(f"/api/v1/analyses/{analysis_id}/result.json")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == (
        'attachment; filename="fakelens-clip_mp4.json"')
    assert Analysis.model_validate_json(download.content).verdict == Verdict.FAKE


def _store(alice, job_url: str, result: Analysis) -> None:
    analysis_id = job_url.rsplit("/", 1)[1]
    with alice.app.state.sessions() as db:
        row = db.scalar(select(AnalysisRow).where(AnalysisRow.public_id == analysis_id))
        row.status, row.stage, row.progress = Status.DONE, "done", 100
        row.verdict, row.score, row.result_json = result.verdict, result.score, result.to_json()
        db.commit()


def test_result_page_shows_provenance(alice, tmp_path):
    png = png_with_text(tmp_path / "sd.png", {
        "parameters": "<script>alert(1)</script> a cat\nSteps: 20, Sampler: Euler a, Seed: 7"})
    result = _result("sd.png").model_copy(update={"provenance": inspect_provenance(png)})
    job_url = form_upload(alice, filename="sd.png").headers["location"]
    _store(alice, job_url, result)
    page = alice.get(job_url).text
    section = page[page.index('<section id="provenance">'):page.index("<h2>Media</h2>")]
    for text in ("<h2>Provenance</h2>", "No content credentials",
                 "Stable Diffusion generation parameters", "Does not prove:",
                 "All metadata tags (1)", "None of this changes the detectors"):
        assert text in section, text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in section

    old = form_upload(alice, filename="old.png").headers["location"]
    _store(alice, old, _result("old.png"))  # stored before provenance existed
    assert "Not checked: this analysis was made before" in alice.get(old).text


def test_failed_analysis_page(alice):
    job_url = form_upload(alice).headers["location"]
    with alice.app.state.sessions() as db:
        row = db.scalar(select(AnalysisRow))
        row.status, row.error_code, row.error_message = (Status.FAILED, "corrupt_media",
                                                         "clip.png: damaged")
        db.commit()
    page = alice.get(job_url).text
    assert "The analysis failed." in page and "clip.png: damaged" in page


def test_unknown_page_is_html(client):
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


def test_static_assets(client):
    css = client.get("/static/style.css")
    assert css.status_code == 200 and "cache-control" not in css.headers
    assert "pollJob" in client.get("/static/app.js").text


LIVE_LABEL = "Live check (camera), 2026-01-01 10:00 UTC"


def _saved_live_check(alice, media: MediaInfo) -> str:
    """A live check stored as the live page saves it (no file: no hash, no size)."""
    from fakelens.db.tables import User, utcnow

    result = _result(LIVE_LABEL).model_copy(update={"media": media, "provenance": None})
    with alice.app.state.sessions() as db:
        user = db.scalar(select(User))
        row = AnalysisRow(user_id=user.id, status=Status.DONE, stage="done", progress=100,
                          filename=LIVE_LABEL, media_sha256="", media_size=0,
                          media_kind="video", frames=3, verdict="FAKE", score=0.81,
                          result_json=result.to_json(), finished_at=utcnow(),
                          updated_at=utcnow())
        db.add(row)
        db.commit()
        return row.public_id


def _live_media(**changes) -> MediaInfo:
    from fakelens.types import LiveSource

    values = dict(path=LIVE_LABEL, kind="video", format="live", size_bytes=None,
                  sha256=None, width=640, height=360, fps=5.0, duration_s=41.6,
                  frame_count=3, live=LiveSource(source="camera", duration_s=42.4))
    values.update(changes)
    return MediaInfo(**values)


def test_a_saved_live_check_says_what_it_is(alice):
    """No 'made before fakelens read provenance', no '0 bytes', no hash of no file: the
    page, the API, the JSON result and the reports say it was a live session."""
    from fakelens.analysis.pipeline import DetailedAnalysis
    from fakelens.reports import render_html
    from fakelens.web.uploads import delete_analysis

    public_id = _saved_live_check(alice, _live_media())
    page = alice.get(f"/analyses/{public_id}").text
    assert "before fakelens read provenance" not in page
    assert ("Not applicable: a live session of 42 s from a camera. No file was kept"
            in page)
    assert "A live session of 42 s from a camera" in page  # its type
    assert "<dt>SHA-256</dt>" not in page and "<dt>Size</dt>" not in page
    assert "0 bytes" not in page and "video (live)" not in page

    body = alice.get(f"/api/v1/analyses/{public_id}").json()
    assert body["sha256"] is None and body["size_bytes"] is None
    result = Analysis.model_validate_json(
        alice.get(f"/api/v1/analyses/{public_id}/result.json").content)
    assert result.media.sha256 is None and result.media.size_bytes is None
    assert result.media.live.source == "camera" and result.provenance is None

    detailed = DetailedAnalysis(result.model_copy(update={"tracks": []}), {})
    report = render_html(detailed)
    assert "Not applicable: a live session of 42 s from a camera" in report
    assert "before fakelens read provenance" not in report
    assert ">SHA-256<" not in report and ">Size<" not in report and "0 bytes" not in report

    with alice.app.state.sessions() as db:  # no file to remove with it
        delete_analysis(db, alice.app.state.settings, db.scalar(
            select(AnalysisRow).where(AnalysisRow.public_id == public_id)))
    assert alice.get(f"/analyses/{public_id}").status_code == 404


def test_a_live_check_saved_before_schema_1_6_is_recognised(alice):
    """Saved earlier: format 'live', a made-up hash, size 0, no ``live`` section."""
    public_id = _saved_live_check(alice, _live_media(size_bytes=0, sha256="ab" * 32,
                                                     live=None))
    page = alice.get(f"/analyses/{public_id}").text
    assert "Not applicable: a live session of 42 s from a camera" in page
    assert "ab" * 32 not in page and "0 bytes" not in page
