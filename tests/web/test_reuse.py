"""Identical media reuses its earlier analysis (issue 26): a user's upload, or link, whose
file has the sha256 of one of their own earlier finished analyses with the same options
takes that result (and a copy of its report and images) instead of running again, and
the page says so; another user's analyses, trashed ones, other options and results of
other detector versions are never reused. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from linkserver import public_loopback, site
from sqlalchemy import select, update
from webhelpers import create_token, login_token, other_client, register, upload, wait_for

from fakelens.db.tables import AnalysisRow, Status, utcnow
from fakelens.jobs.reuse import CHOOSE_WEB, copy_files, find_reusable
from fakelens.types import Analysis

VIDEO = "ffpp_original_004.mp4"


def done(client, headers, accepted) -> dict:
    assert accepted.status_code == 202, accepted.text
    body = wait_for(client, accepted.json()["status_url"], headers)
    assert body["status"] == "done", body["error"]
    return body


def never_analyse(monkeypatch) -> None:
    """From now on a run of the detectors fails the test."""
    def analysed(*args, **kwargs):
        raise AssertionError("the file was analysed again")

    monkeypatch.setattr("fakelens.analysis.pipeline.analyze_detailed", analysed)


def stored(reports: Path, public_id: str) -> dict[str, bytes]:
    """An analysis' stored files (report, images), by name without the id (an index's
    bytes aside: it holds a secret of its own)."""
    return {p.name[len(public_id):]: b"" if p.suffix == ".json" else p.read_bytes()
            for p in reports.iterdir() if p.name.startswith(public_id)}


def without_path(result: dict) -> dict:
    return {**result, "media": {**result["media"], "path": None}}


def test_the_same_file_again_reuses_the_earlier_result(app_factory, tiny_detector,
                                                       monkeypatch):
    client = app_factory(immediate=True)
    headers = login_token(client)
    reports = client.app.state.settings.reports_dir
    first = done(client, headers, upload(client, headers, model=tiny_detector,
                                         filename="first.png"))
    assert first["reused_from"] is None

    never_analyse(monkeypatch)
    second = done(client, headers, upload(client, headers, model=tiny_detector,
                                          filename="again.png"))
    assert second["reused_from"] == first["id"] and second["id"] != first["id"]
    assert (second["verdict"], second["score"]) == (first["verdict"], first["score"])
    assert second["result"]["media"]["path"] == "again.png"  # this upload's name
    assert without_path(second["result"]) == without_path(first["result"])
    assert stored(reports, second["id"]) == stored(reports, first["id"])  # report copied
    assert ".html" in stored(reports, second["id"])

    page = client.get(f"/analyses/{second['id']}").text
    made = Analysis.model_validate(first["result"]).created_at[:10]
    assert "This file was analysed before, on " + made in page
    assert "the result is reused" in page and f'href="/analyses/{first["id"]}"' in page
    assert 'id="reused"' not in client.get(f"/analyses/{first['id']}").text

    # each stands alone: deleting the earlier one leaves the later whole
    assert client.delete(first["status_url"], headers=headers).status_code == 204
    report = client.get(second["status_url"] + "/report.html", headers=headers)
    assert report.status_code == 200
    page = client.get(f"/analyses/{second['id']}").text
    assert "the earlier analysis has since been deleted" in page
    assert f'href="/analyses/{first["id"]}"' not in page


def test_other_users_and_other_options_are_analysed_again(app_factory, tiny_detector):
    client = app_factory(immediate=True)
    alice = login_token(client)
    first = done(client, alice, upload(client, alice, model=tiny_detector))
    # another user's analysis of the same file is never reused (nor told of)
    bob_client = other_client(client)
    assert register(bob_client, "bob@example.org").status_code == 303
    bob = {"Authorization": f"Bearer {create_token(bob_client)}"}
    theirs = done(client, bob, upload(client, bob, model=tiny_detector))
    assert theirs["reused_from"] is None and theirs["sha256"] == first["sha256"]
    assert 'id="reused"' not in bob_client.get(f"/analyses/{theirs['id']}").text
    # the default detectors are not the tiny one: analysed again
    with client.app.state.sessions() as db:
        row = db.scalar(select(AnalysisRow).where(AnalysisRow.public_id == first["id"]))
        probe = AnalysisRow(user_id=row.user_id, filename="x.png", media_sha256=row.media_sha256,
                            media_size=row.media_size, media_kind="image", frames=row.frames,
                            model=None)
        db.add(probe)
        db.commit()
        db.refresh(probe)
    settings, sessions = client.app.state.settings, client.app.state.sessions
    assert find_reusable(sessions, settings, probe) is None
    probe.model = tiny_detector
    earlier, _ = find_reusable(sessions, settings, probe)
    assert earlier.public_id == first["id"]
    probe.frames += 5  # frames mean nothing to an image
    assert find_reusable(sessions, settings, probe)[0].public_id == first["id"]


def _change(client, public_id: str, **values) -> None:
    with client.app.state.sessions() as db:
        db.execute(update(AnalysisRow).where(AnalysisRow.public_id == public_id)
                   .values(**values))
        db.commit()


def test_which_earlier_results_may_be_reused(app_factory, tiny_detector):
    """Only finished, live analyses of this fakelens and these detector versions, with
    the same frames for a video, whose report is still there."""
    client = app_factory(immediate=True)
    headers = login_token(client)
    first = done(client, headers, upload(client, headers, model=tiny_detector))
    settings, sessions = client.app.state.settings, client.app.state.sessions
    with sessions() as db:
        earlier = db.scalar(select(AnalysisRow).where(AnalysisRow.public_id == first["id"]))
        db.expunge(earlier)
    probe = AnalysisRow(public_id="probe", user_id=earlier.user_id,
                        media_sha256=earlier.media_sha256, media_kind="image",
                        frames=earlier.frames, model=tiny_detector)

    def reusable() -> bool:
        return find_reusable(sessions, settings, probe) is not None

    assert reusable()
    original = earlier.result_json
    result = json.loads(original)
    for key, value in (("fakelens_version", "0.0.1"), ("schema_version", "1.0")):
        _change(client, first["id"], result_json=json.dumps({**result, key: value}))
        assert not reusable(), key
    retrained = {**result, "models": [{**m, "version": m["version"] + "-old"}
                                      for m in result["models"]]}
    _change(client, first["id"], result_json=json.dumps(retrained))
    assert not reusable()
    _change(client, first["id"], result_json=original)
    assert reusable()
    for values in ({"status": Status.FAILED}, {"deleted_at": utcnow()},
                   {"media_kind": "video", "frames": earlier.frames + 1}):
        _change(client, first["id"], **values)
        probe.media_kind = "video" if "frames" in values else "image"
        assert not reusable(), values
        _change(client, first["id"], status=Status.DONE, deleted_at=None,
                media_kind="image", frames=earlier.frames)
    probe.media_kind = "image"
    assert reusable()
    (settings.reports_dir / f"{first['id']}.html").unlink()
    assert not reusable()  # its report is gone: analysed again


def test_copied_files_get_their_own_secrets(tmp_path):
    from fakelens.web.settings import WebSettings

    settings = WebSettings(data_dir=tmp_path)
    reports = settings.reports_dir
    reports.mkdir(parents=True)
    (reports / "old.html").write_text("<html>")
    (reports / "old-0-face.png").write_bytes(b"png")
    (reports / "old-k0.jpg").write_bytes(b"jpg")
    (reports / "old-keyframes.json").write_text(json.dumps({"frames": [1], "link_key": "k"}))
    (reports / "older.html").write_text("another analysis")  # not a file of 'old'
    made = copy_files(settings, "old", "new")
    assert sorted(p.name for p in made) == ["new-0-face.png", "new-k0.jpg",
                                            "new-keyframes.json", "new.html"]
    assert (reports / "new-k0.jpg").read_bytes() == b"jpg"
    index = json.loads((reports / "new-keyframes.json").read_text())
    assert index["frames"] == [1] and index["link_key"] not in ("k", "")
    (reports / "old-0-face.png").unlink()  # hard links: the copy stays
    assert (reports / "new-0-face.png").read_bytes() == b"png"


@pytest.mark.realdata
@pytest.mark.slow
def test_links_to_the_same_video_reuse_its_analysis(app_factory, videos, model_dir,
                                                    tiny_detector, monkeypatch):
    """An uploaded video, then two links to it (one a page holding two videos, the
    second asked for): fetched each time, analysed once; each result names its own link
    and says which video of it was analysed."""
    public_loopback(monkeypatch)
    client = app_factory(immediate=True)
    headers = login_token(client)
    clip = videos / VIDEO
    options = {"frames": 4, "model": tiny_detector}
    first = done(client, headers, upload(client, headers, content=clip.read_bytes(),
                                         filename=VIDEO, **options))
    never_analyse(monkeypatch)
    with site(clip) as s:
        page_url, two_url = s.url("/page.html"), s.url("/two.html")
        linked = done(client, headers, client.post("/api/v1/analyses", headers=headers,
                                                   json={"url": page_url, **options}))
        del s.requested[:]
        second = done(client, headers, client.post(
            "/api/v1/analyses", headers=headers, json={"url": two_url, "item": 2, **options}))
        assert "/copy.mp4" in s.requested and "/clip.mp4" not in s.requested
    digest = hashlib.sha256(clip.read_bytes()).hexdigest()
    assert linked["reused_from"] == first["id"] and linked["sha256"] == digest
    assert second["reused_from"] in (first["id"], linked["id"])
    for body, url in ((linked, page_url), (second, two_url)):
        result = Analysis.model_validate(body["result"])
        assert result.provenance.source.url == url and result.media.path == url
        assert result.score == first["score"]
        notes = [c for c in result.caveats if c.startswith("Downloaded from")]
        assert notes == [result.provenance.source.note]  # this link's, once
    source = Analysis.model_validate(second["result"]).provenance.source
    assert (source.item, source.items) == (2, 2)
    assert [w for w in second["result"]["warnings"] if "link holds" in w] == [
        f"this link holds 2 videos: video 2 was analysed (choose another with {CHOOSE_WEB})"]
    assert linked["result"]["warnings"] == []
    page = client.get(f"/analyses/{second['id']}").text
    assert "Video 2 of 2 behind this link." in page and "video 2 of 2 behind this link" in page
    assert "This file was analysed before" in page and "Fetched from a link" in page
