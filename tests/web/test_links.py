"""Links in the web app and the API (issue 26): ``POST /api/v1/analyses`` with
``{"url": ...}`` and the upload page's "Check a link" box. The link is checked at submit
time (the fetch guard), counted against the user's fetch limits, and fetched by the job
worker from a local site (no test reaches the internet), stored by sha256 like an upload,
then analysed; a fetch that fails fails its job with a reason and stores nothing."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from linkserver import HOST, public_loopback, site
from sqlalchemy import event
from webhelpers import analysis_rows, csrf_from, login_token, png_bytes, upload, wait_for

from fakelens.types import Analysis

VIDEO = "ffpp_original_004.mp4"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    return error


def send_link(client, headers, url: str, **fields):
    return client.post("/api/v1/analyses", headers=headers, json={"url": url, **fields})


def stored_files(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "uploads").rglob("*") if p.is_file()]


def leftovers(data_dir: Path) -> list[Path]:
    """What a fetch may have left in the data dir's tmp/ (nothing, ever)."""
    tmp = data_dir / "tmp"
    return list(tmp.iterdir()) if tmp.is_dir() else []


@pytest.mark.realdata
@pytest.mark.slow
def test_link_is_fetched_stored_by_content_and_analysed(app_factory, videos, model_dir,
                                                        tiny_detector, data_dir,
                                                        monkeypatch):
    public_loopback(monkeypatch)  # the local site stands for the internet
    client = app_factory(workers=1)
    written: list[tuple[str, int]] = []

    @event.listens_for(client.app.state.engine, "before_cursor_execute")
    def _record(conn, cursor, statement, parameters, context, executemany) -> None:
        if re.match(r"UPDATE analyses SET stage=\S+, progress=", statement):
            params = context.compiled_parameters[0]
            written.append((params["stage"], params["progress"]))

    headers = login_token(client)
    clip = videos / VIDEO
    digest = hashlib.sha256(clip.read_bytes()).hexdigest()
    with site(clip) as s:
        url = s.url("/page.html")
        accepted = send_link(client, headers, url, frames=4, model=tiny_detector)
        assert accepted.status_code == 202, accepted.text
        assert accepted.headers["location"] == accepted.json()["status_url"]
        body = wait_for(client, accepted.json()["status_url"], headers)
        assert body["status"] == "done", body["error"]
        # the same video behind another link: stored once (by its sha256), analysed once
        again = send_link(client, headers, s.url("/clip.mp4"), frames=4, model=tiny_detector)
        second = wait_for(client, again.json()["status_url"], headers)
        assert second["status"] == "done", second["error"]

    # each run: downloading, then the analysis' stages (the second: its download only,
    # then the first's result), the progress only growing
    starts = [i for i, (stage, _) in enumerate(written)
              if stage == "downloading" and (i == 0 or written[i - 1][0] != "downloading")]
    assert len(starts) == 2 and starts[0] == 0
    for run in (written[:starts[1]], written[starts[1]:]):
        assert [p for _, p in run] == sorted(p for _, p in run)
        assert all(0 <= p < 100 for _, p in run)
    assert [stage for stage, _ in written[:starts[1]]][-1] == "model"
    assert "decode" in dict(written[:starts[1]])
    assert {stage for stage, _ in written[starts[1]:]} == {"downloading"}
    assert body["reused_from"] is None and second["reused_from"] == body["id"]
    assert body["sha256"] == digest and body["size_bytes"] == clip.stat().st_size
    assert body["media_kind"] == "video" and body["frames"] == 4
    # named by the page's title, not the storage name
    assert body["filename"].startswith("A clip") and body["filename"].endswith(".mp4")
    result = Analysis.model_validate(body["result"])
    source = result.provenance.source
    assert source.url == url and source.site == HOST and source.sha256 == digest
    assert result.media.path == url and result.media.sha256 == digest
    assert any("re-encode" in c for c in result.caveats)
    assert [m.name for m in result.models] == [tiny_detector]
    assert second["sha256"] == digest and second["score"] == body["score"]

    assert stored_files(data_dir) == [data_dir / "uploads" / digest[:2] / digest]
    assert leftovers(data_dir) == []
    page = client.get(f"/analyses/{body['id']}").text
    assert "Fetched from a link" in page and url in page
    report = client.get(body["status_url"] + "/report.html", headers=headers)
    assert report.status_code == 200 and url in report.text


def test_refused_links_at_submit_time(client, alice_token, data_dir):
    headers = alice_token
    error = assert_error(send_link(client, headers, "http://127.0.0.1:9/clip.mp4"), 422,
                         "link_refused")
    assert "loopback" in error["message"] and "FAKELENS_FETCH_ALLOW_PRIVATE" in error["message"]
    assert "private" in assert_error(send_link(client, headers, "http://10.0.0.8/a.mp4"), 422,
                                     "link_refused")["message"]
    assert "only http" in assert_error(send_link(client, headers, "file:///etc/passwd"), 422,
                                       "link_refused")["message"]
    assert_error(send_link(client, headers, "ftp://example.org/a.mp4"), 422, "link_refused")
    assert_error(send_link(client, headers, "http:///nohost"), 422, "link_refused")
    assert_error(send_link(client, headers, ""), 422, "invalid_request")
    assert_error(send_link(client, headers, "http://10.0.0.8/a.mp4", item=0), 422,
                 "invalid_request")
    assert_error(send_link(client, headers, "http://10.0.0.8/a.mp4", cookie="x"), 422,
                 "invalid_request")
    assert_error(client.post("/api/v1/analyses", content=b"{not json",
                             headers={**headers, "Content-Type": "application/json"}),
                 400, "invalid_json")
    assert_error(client.post("/api/v1/analyses", headers=headers, json=["x"]), 422,
                 "invalid_request")
    assert analysis_rows(client) == [] and stored_files(data_dir) == []
    # uploads still work beside links
    assert upload(client, headers).status_code == 202


def test_private_addresses_when_allowed(app_factory):
    client = app_factory(fetch_allow_private=True)
    headers = login_token(client)
    accepted = send_link(client, headers, " http://127.0.0.1:9/clip.mp4 ", item=2, frames=8)
    assert accepted.status_code == 202, accepted.text
    body = client.get(accepted.json()["status_url"], headers=headers).json()
    assert body["status"] == "queued" and body["sha256"] is None
    assert body["filename"] == "127.0.0.1/clip.mp4" and body["media_kind"] == "link"
    (row,) = analysis_rows(client)
    assert (row.source_url, row.source_item, row.frames) == ("http://127.0.0.1:9/clip.mp4",
                                                              2, 8)
    # cloud metadata addresses stay refused
    assert_error(send_link(client, headers, "http://169.254.169.254/latest/"), 422,
                 "link_refused")


def test_failed_fetches_fail_their_job_and_store_nothing(app_factory, data_dir, monkeypatch,
                                                         tmp_path):
    public_loopback(monkeypatch)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is no video at all " * 400)
    client = app_factory(workers=1, fetch_socket_timeout_s=10, fetch_timeout_s=60)
    headers = login_token(client)
    with site(junk) as s:
        ids = {path: send_link(client, headers, s.url(path)).json()["status_url"]
               for path in ("/missing.mp4", "/novideo.html", "/clip.mp4",
                            "/redirect-loopback")}
        bodies = {path: wait_for(client, url, headers, timeout_s=120)
                  for path, url in ids.items()}
    for body in bodies.values():
        assert body["status"] == "failed" and body["stage"] == "failed"
        assert body["result"] is None and body["sha256"] is None
    missing = bodies["/missing.mp4"]["error"]
    assert missing["code"] == "link_unsupported" and "404" in missing["message"]
    assert "no video" in bodies["/novideo.html"]["error"]["message"].lower()
    junk_error = bodies["/clip.mp4"]["error"]
    assert junk_error["code"] == "unsupported_media", junk_error
    assert "data" not in junk_error["message"] and "tmp" not in junk_error["message"]
    refused = bodies["/redirect-loopback"]["error"]
    assert refused["code"] == "link_refused" and "loopback" in refused["message"]
    assert stored_files(data_dir) == [] and leftovers(data_dir) == []
    page = client.get(f"/analyses/{bodies['/missing.mp4']['id']}").text
    assert "The analysis failed." in page and "404" in page


def test_link_limits_per_hour_and_per_day(app_factory):
    client = app_factory(fetch_allow_private=True, fetch_per_hour=2, fetch_per_day=3)
    headers = login_token(client)
    link = "http://127.0.0.1:9/clip.mp4"
    # a refused link is not counted
    assert_error(send_link(client, headers, "http://169.254.169.254/"), 422, "link_refused")
    assert [send_link(client, headers, link).status_code for _ in range(2)] == [202, 202]
    response = send_link(client, headers, link)
    error = assert_error(response, 429, "fetch_limit")
    assert "2 links this hour" in error["message"]
    assert error["message"].endswith("Try again in 60 minutes.")
    assert 0 < int(response.headers["retry-after"]) <= 3601
    assert upload(client, headers).status_code == 202  # files are not links

    # the hour is over: one more link, then the day's quota holds
    from datetime import timedelta

    from sqlalchemy import update

    from fakelens.db.auth_tables import AuthThrottle
    from fakelens.db.tables import utcnow

    def hour_started(ago: timedelta) -> None:
        with client.app.state.sessions() as db:
            db.execute(update(AuthThrottle).where(AuthThrottle.key.like("fetch-hour:%"))
                       .values(window_start=utcnow() - ago))
            db.commit()

    # half a minute of the hour left: one minute, not "1 minutes"
    hour_started(timedelta(minutes=59, seconds=30))
    response = send_link(client, headers, link)
    assert assert_error(response, 429, "fetch_limit")["message"].endswith(
        "Try again in 1 minute.")
    assert int(response.headers["retry-after"]) <= 31
    hour_started(timedelta(days=1))
    assert send_link(client, headers, link).status_code == 202
    response = send_link(client, headers, link)
    message = assert_error(response, 429, "fetch_limit")["message"]
    assert "3 links this day" in message and re.search(r"Try again in 2[34] hours\.$", message)
    assert 3600 < int(response.headers["retry-after"]) <= 86401
    assert len(analysis_rows(client)) == 4  # three links and the upload


@pytest.mark.parametrize(("seconds", "words"), [
    (0.5, "1 minute"), (60, "1 minute"), (61, "2 minutes"), (45 * 60, "45 minutes"),
    (89 * 60, "89 minutes"), (90 * 60, "2 hours"), (23.2 * 3600, "24 hours")])
def test_waits_in_words(seconds, words):
    from fakelens.web.links import wait_words

    assert wait_words(seconds) == words


def test_upload_page_limit_in_words(app_factory):
    """The upload form's rate limit says its wait like the link limits (not "1 minutes")."""
    client = app_factory(uploads_per_hour=1)
    login_token(client)
    token = csrf_from(client.get("/").text)

    def send():
        return client.post("/analyses", data={"csrf_token": token},
                           files={"file": ("a.png", png_bytes(), "image/png")})

    assert send().status_code == 200  # accepted: the browser follows to its page
    refused = send()
    assert refused.status_code == 429
    assert re.search(r"Too many uploads\. Try again in (60|59) minutes\.", refused.text)


def test_check_a_link_box(app_factory):
    client = app_factory(fetch_allow_private=True)
    login_token(client)
    page = client.get("/").text
    assert 'id="link-box"' in page and "Check a link" in page
    token = csrf_from(page)
    assert client.post("/links", data={"url": "http://127.0.0.1:9/a.mp4"},
                       follow_redirects=False).status_code == 403
    refused = client.post("/links", follow_redirects=False,
                          data={"url": "http://169.254.169.254/x", "csrf_token": token})
    assert refused.status_code == 422
    assert "cloud metadata address" in refused.text
    assert 'value="http://169.254.169.254/x"' in refused.text  # the link stays in the box
    empty = client.post("/links", data={"url": " ", "csrf_token": token})
    assert empty.status_code == 422 and "Paste a link" in empty.text
    bad = client.post("/links", data={"url": "http://127.0.0.1:9/a.mp4", "frames": "0",
                                      "csrf_token": token})
    assert bad.status_code == 422 and "Frames must be" in bad.text
    assert 'id="link-item"' in page and 'name="item"' in page and 'value="1"' in page
    for item in ("0", "1001", "two", "1.5"):
        bad = client.post("/links", data={"url": "http://127.0.0.1:9/a.mp4", "item": item,
                                          "csrf_token": token})
        assert bad.status_code == 422 and "Which video must be a whole number" in bad.text
        assert 'id="link-item" name="item"' in bad.text and f'value="{item}"' in bad.text
    # the upload form's options come along (the file field, empty, is ignored)
    sent = client.post("/links", follow_redirects=False,
                       data={"url": "http://127.0.0.1:9/a.mp4", "csrf_token": token,
                             "frames": "6", "model": "", "file": "", "item": "3"})
    assert sent.status_code == 303 and sent.headers["location"].startswith("/analyses/")
    job = client.get(sent.headers["location"]).text
    assert 'id="job-progress"' in job and "127.0.0.1/a.mp4" in job
    assert "Video 3 behind this link." in job  # how many: once the link is fetched
    # an empty box is the first video
    client.post("/links", data={"url": "http://127.0.0.1:9/b.mp4", "csrf_token": token,
                                "item": ""})
    assert [(r.source_url, r.frames, r.source_item) for r in analysis_rows(client)] == [
        ("http://127.0.0.1:9/a.mp4", 6, 3),
        ("http://127.0.0.1:9/b.mp4", client.app.state.settings.default_frames, 1)]
