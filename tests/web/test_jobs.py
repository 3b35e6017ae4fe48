"""Jobs: a real Huey consumer thread runs ``fakelens.analyze`` end to end; jobs survive a
restart (Huey's SQLite queue + startup recovery); failures are stored, not raised."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from webhelpers import analysis_rows, eventually, login_token, upload, wait_for

from fakelens.analysis.caveats import verdict_label
from fakelens.db.tables import AnalysisRow, Status, utcnow
from fakelens.jobs.tasks import AnalysisJob, Cancelled, recover
from fakelens.types import Analysis

VIDEO = "ffpp_original_004.mp4"


@pytest.mark.realdata
@pytest.mark.slow
def test_video_end_to_end(app_factory, videos, model_dir, tiny_detector):
    client = app_factory(workers=1)
    written: list[tuple[str, int]] = []  # progress as the job writes it to the database

    @event.listens_for(client.app.state.engine, "before_cursor_execute")
    def _record(conn, cursor, statement, parameters, context, executemany) -> None:
        if re.match(r"UPDATE analyses SET stage=\S+, progress=", statement):
            params = context.compiled_parameters[0]  # the same on every dialect
            written.append((params["stage"], params["progress"]))

    headers = login_token(client)
    content = (videos / VIDEO).read_bytes()
    accepted = upload(client, headers, content=content, filename=VIDEO, frames=4,
                      model=tiny_detector)
    assert accepted.status_code == 202, accepted.text
    body = wait_for(client, accepted.json()["status_url"], headers)
    assert body["status"] == "done", body["error"]
    assert (body["stage"], body["progress"]) == ("done", 100)
    stages = [stage for stage, _ in written]
    assert "decode" in stages and "model" in stages
    assert [p for _, p in written] == sorted(p for _, p in written)
    assert all(0 < p < 100 for _, p in written)
    result = Analysis.model_validate(body["result"])
    assert result.media.path == VIDEO  # never the server's storage path
    assert result.media.kind == "video" and result.frames_sampled == 4
    assert [m.name for m in result.models] == [tiny_detector]
    assert body["verdict"] == result.verdict.value and body["score"] == result.score
    assert result.tracks, "the test video shows a face"

    page = client.get(f"/analyses/{body['id']}").text
    assert '<svg class="timeline"' in page and "Download the JSON result" in page
    download = client.get(body["status_url"] + "/result.json", headers=headers)
    assert Analysis.model_validate_json(download.content) == result
    html = client.get(body["status_url"] + "/report.html", headers=headers)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert verdict_label(result.verdict) in html.text and VIDEO in html.text
    assert "data:image/png;base64," in html.text  # thumbnails, heatmaps, plots embedded
    pdf = client.get(body["status_url"] + "/report.pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    as_json = client.get(body["status_url"] + "/report.json", headers=headers)
    assert Analysis.model_validate_json(as_json.content) == result
    assert client.get(body["status_url"] + "/report.exe", headers=headers).status_code == 422
    for kind in ("face", "heatmap"):  # the result page shows each track's key face
        assert f"/faces/0-{kind}.png" in page
        image = client.get(f"/analyses/{body['id']}/faces/0-{kind}.png")
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert client.get(f"/analyses/{body['id']}/faces/7-face.png").status_code == 404
    assert client.delete(body["status_url"], headers=headers).status_code == 204
    assert not any(client.app.state.settings.reports_dir.iterdir())  # report removed too


@pytest.mark.realdata
@pytest.mark.slow
def test_queued_job_survives_a_restart(app_factory, videos, model_dir, tiny_detector):
    first = app_factory(workers=0)  # accepts uploads, runs nothing
    headers = login_token(first)
    accepted = upload(first, headers, content=(videos / VIDEO).read_bytes(), frames=4,
                      model=tiny_detector).json()
    assert first.app.state.huey.pending_count() == 1
    first.__exit__(None, None, None)

    second = app_factory(workers=1)  # same data dir: same database and queue
    body = wait_for(second, accepted["status_url"], headers)
    assert body["status"] == "done", body["error"]
    assert analysis_rows(second)[0].attempts == 1  # the duplicate enqueued by recovery did nothing


def _mark_running(client, attempts: int, minutes_ago: float = 0) -> None:
    """As if a worker died during the analysis, its last progress ``minutes_ago``."""
    with client.app.state.sessions() as db:
        row = db.scalar(select(AnalysisRow))
        row.status, row.stage, row.progress, row.attempts = Status.RUNNING, "decode", 40, attempts
        row.updated_at = utcnow() - timedelta(minutes=minutes_ago)
        db.commit()


def test_interrupted_job_is_queued_again(app_factory):
    first = app_factory()
    headers = login_token(first)
    upload(first, headers)
    _mark_running(first, attempts=1, minutes_ago=60)
    first.__exit__(None, None, None)

    second = app_factory()  # workers=0: other workers may exist, stale jobs only
    [row] = analysis_rows(second)
    assert (row.status, row.stage, row.progress, row.attempts) == ("queued", "queued", 0, 1)
    assert second.app.state.huey.pending_count() >= 1


def test_job_interrupted_too_often_fails_with_a_reason(app_factory):
    first = app_factory(max_attempts=2)
    headers = login_token(first)
    url = upload(first, headers).json()["status_url"]
    _mark_running(first, attempts=2, minutes_ago=60)
    first.__exit__(None, None, None)

    second = app_factory(max_attempts=2)
    body = second.get(url, headers=headers).json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "interrupted"
    assert "interrupted 2 times" in body["error"]["message"]


def test_stale_running_jobs_only_with_a_cutoff(client):
    headers = login_token(client)
    upload(client, headers)
    _mark_running(client, attempts=1)
    enqueued: list[str] = []
    sessions = client.app.state.sessions
    # with other workers possibly alive: fresh progress means "still running"
    assert recover(sessions, enqueued.append, 3, stale_after_s=600) == (0, 0)
    assert analysis_rows(client)[0].status == "running"
    assert recover(sessions, enqueued.append, 3, stale_after_s=None) == (1, 0)
    assert enqueued == [analysis_rows(client)[0].public_id]


def test_failed_analysis_is_stored_with_its_reason(app_factory, data_dir):
    """The stored file disappeared: the job fails with a clear, path-free message."""
    first = app_factory(workers=0)
    headers = login_token(first)
    url = upload(first, headers, filename="holiday.png").json()["status_url"]
    first.__exit__(None, None, None)
    for blob in (data_dir / "uploads").rglob("*"):
        if blob.is_file():
            blob.unlink()
    client = app_factory(workers=1)
    body = wait_for(client, url, headers, timeout_s=60)
    assert body["status"] == "failed"
    assert body["error"]["code"] == "media_not_found"
    assert "holiday.png" in body["error"]["message"]
    assert str(data_dir) not in body["error"]["message"]
    assert not re.search(r"[0-9a-f]{64}", body["error"]["message"])


def test_a_job_runs_once(client):
    headers = login_token(client)
    upload(client, headers)
    job = AnalysisJob(client.app.state.settings, client.app.state.sessions)
    with client.app.state.sessions() as db:
        row = db.scalar(select(AnalysisRow))
        row.status, row.finished_at = Status.DONE, utcnow()
        db.commit()
    job(row.public_id)  # already done: nothing is claimed or changed
    assert analysis_rows(client)[0].attempts == 0 and analysis_rows(client)[0].status == "done"
    job("no-such-id")  # deleted meanwhile: nothing happens


def test_immediate_mode_runs_inside_the_request(app_factory, tiny_detector):
    client = app_factory(immediate=True)
    headers = login_token(client)
    accepted = upload(client, headers, model=tiny_detector, filename="still.png")
    assert accepted.status_code == 202
    body = client.get(accepted.json()["status_url"], headers=headers).json()
    assert body["status"] == "done", body["error"]
    assert body["result"]["media"]["kind"] == "image"
    assert body["result"]["media"]["path"] == "still.png"


@pytest.mark.realdata
def test_uploaded_file_keeps_its_provenance(app_factory, samples, tiny_detector, data_dir):
    """Uploads are stored under their hash, without a name or suffix: the credentials are
    still found (from the content), and no server path reaches the result."""
    client = app_factory(immediate=True)
    headers = login_token(client)
    content = (samples / "provenance" / "XCA.jpg").read_bytes()
    accepted = upload(client, headers, model=tiny_detector, content=content,
                      filename="photo.jpg")
    body = client.get(accepted.json()["status_url"], headers=headers).json()
    assert body["status"] == "done", body["error"]
    provenance = body["result"]["provenance"]
    assert provenance["credentials"]["state"] == "tampered"
    assert "changed after signing" in body["result"]["reason"]
    assert str(data_dir) not in json.dumps(body["result"])


def test_recent_running_job_is_left_to_its_worker(app_factory):
    """Without its own consumer threads, serve cannot know whether a separate worker still
    runs a job: one with recent progress is left alone."""
    first = app_factory()
    upload(first, login_token(first))
    _mark_running(first, attempts=1, minutes_ago=0.1)  # between two heartbeats
    first.__exit__(None, None, None)
    assert analysis_rows(app_factory())[0].status == "running"


def test_deleting_a_running_analysis_cancels_it(client):
    headers = login_token(client)
    url = upload(client, headers).json()["status_url"]
    job = AnalysisJob(client.app.state.settings, client.app.state.sessions)
    row = job._claim(url.rsplit("/", 1)[1])
    assert row is not None and row.status == "running" and row.attempts == 1
    job._write_progress(row.public_id, "decode", 30)
    assert client.get(url, headers=headers).json()["progress"] == 30
    assert client.delete(url, headers=headers).status_code == 204
    with pytest.raises(Cancelled):  # at the next progress report the job stops
        job._write_progress(row.public_id, "decode", 40)


def test_heartbeat_keeps_a_quiet_job_alive(app_factory):
    """A job in a long stage without progress still shows it lives (so no sweeper takes it
    for an orphan); a deleted analysis is left alone."""
    # serve's own sweeper waits a minute, so a beat delayed on a loaded machine cannot let
    # it take the job; the job itself beats every 0.2 s
    client = app_factory(stale_after_s=60)
    upload(client, login_token(client))
    settings = client.app.state.settings.model_copy(update={"stale_after_s": 1.0})
    job = AnalysisJob(settings, client.app.state.sessions)
    row = job._claim(analysis_rows(client)[0].public_id)
    claimed_at = analysis_rows(client)[0].updated_at
    with job._heartbeat(row.public_id):
        assert eventually(lambda: analysis_rows(client)[0].updated_at > claimed_at)
    assert analysis_rows(client)[0].status == "running"


def test_sweeper_requeues_the_job_of_a_dead_worker(app_factory):
    """The sweeper that ``serve`` runs (embedded mode too) takes the job back."""
    client = app_factory(stale_after_s=1)
    upload(client, login_token(client))
    before = client.app.state.huey.pending_count()
    _mark_running(client, attempts=1, minutes_ago=60)
    # the row is committed queued just before its task is enqueued: wait for both
    eventually(lambda: analysis_rows(client)[0].status == "queued"
               and client.app.state.huey.pending_count() == before + 1, 60)
    [row] = analysis_rows(client)
    assert (row.status, row.attempts) == ("queued", 1)
    assert client.app.state.huey.pending_count() == before + 1
