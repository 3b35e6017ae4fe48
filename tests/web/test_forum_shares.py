"""Sharing a real analysis (a face photo through the tiny detector, run inside the
request) into the forum, on SQLite and PostgreSQL: private until shared, an immutable
snapshot with public thumbnails, community votes apart from the model's verdict, an
expert's verified label, withdrawing (and deleting the analysis) removes the media."""

from __future__ import annotations

import re

import pytest
from forumhelpers import form, member
from webhelpers import create_token, other_client, register, upload

from fakelens.db.tables import AnalysisRow

pytestmark = [pytest.mark.realdata]


@pytest.fixture
def site(app_factory, model_dir, tiny_detector):
    return app_factory(immediate=True)


@pytest.fixture
def owner(site):
    assert register(site, "olga@example.org", username="olga").status_code == 303
    return site


@pytest.fixture
def analysis_id(owner, face_image, tiny_detector) -> str:
    headers = {"Authorization": f"Bearer {create_token(owner)}"}
    accepted = upload(owner, headers, content=face_image.read_bytes(), filename="Olga's clip.jpg",
                      model=tiny_detector)
    assert accepted.status_code == 202
    body = owner.get(accepted.json()["status_url"], headers=headers).json()
    assert body["status"] == "done" and body["result"]["tracks"], body
    return body["id"]


def share(owner, analysis_id: str, **fields) -> int:
    values = dict(category="help-me-verify", title="Is Olga's clip real?",
                  body="The detector says so; what do you think?", tags="portrait")
    values.update(fields)
    response = form(owner, f"/analyses/{analysis_id}/share", f"/analyses/{analysis_id}/share",
                    **values)
    assert response.status_code == 303, response.text
    return int(re.fullmatch(r"/forum/t/(\d+)", response.headers["location"])[1])


def thumbnails(page: str) -> list[str]:
    return re.findall(r'src="(/forum/s/[^"]+\.png)"', page)


def test_private_until_shared_then_a_public_snapshot(site, owner, analysis_id):
    stranger = other_client(site)
    assert register(stranger, "sam@example.org", username="sam").status_code == 303
    assert stranger.get(f"/analyses/{analysis_id}").status_code == 404
    assert stranger.get(f"/analyses/{analysis_id}/faces/0-face.png").status_code == 404
    assert form(stranger, "/forum", f"/analyses/{analysis_id}/share", category="help-me-verify",
                title="Stolen analysis", body="not mine").status_code == 404
    assert "Share on the forum" in owner.get(f"/analyses/{analysis_id}").text

    form_page = owner.get(f"/analyses/{analysis_id}/share").text
    assert "to <strong>everyone</strong>" in form_page and "Olga&#39;s clip.jpg" in form_page
    topic_id = share(owner, analysis_id)
    anonymous = other_client(site)
    page = anonymous.get(f"/forum/t/{topic_id}").text
    assert "Shared analysis" in page and "Olga&#39;s clip.jpg" in page
    assert "tiny-test" in page and "Fake score" in page and "svg" in page
    images = thumbnails(page)
    assert len(images) == 2  # the face and its heatmap
    for url in images:
        response = anonymous.get(url)
        assert response.status_code == 200 and response.content[:4] == b"\x89PNG"
    # shared once: the share page leads to the topic, the analysis page links it
    again = owner.get(f"/analyses/{analysis_id}/share", follow_redirects=False)
    assert again.headers["location"] == f"/forum/t/{topic_id}"
    assert f'href="/forum/t/{topic_id}"' in owner.get(f"/analyses/{analysis_id}").text
    assert "analysis" in anonymous.get("/forum").text  # marked in the topic list


def test_votes_and_verified_label(site, owner, analysis_id):
    topic_id = share(owner, analysis_id)
    url = f"/forum/t/{topic_id}"
    share_id = re.search(r'/forum/s/([\w-]+)/vote', owner.get(url).text)[1]
    bob, carol = member(site, "bob"), member(site, "carol")
    assert form(bob, url, f"/forum/s/{share_id}/vote", value="FAKE").status_code == 303
    assert form(carol, url, f"/forum/s/{share_id}/vote", value="REAL").status_code == 303
    assert form(bob, url, f"/forum/s/{share_id}/vote", value="UNSURE").status_code == 303
    assert form(bob, url, f"/forum/s/{share_id}/vote", value="MAYBE").status_code == 400
    page = bob.get(url).text
    assert ">Real 1<" in page and ">Fake 0<" in page and ">Unsure 1<" in page
    assert "Your vote (unsure)" in page
    assert "Model's verdict" in page  # the model's verdict is shown apart from the votes
    assert "Evidence, not proof" in page  # with its caveats

    assert form(bob, url, f"/forum/s/{share_id}/verify", label="FAKE").status_code == 403
    carol_expert = member(site, "erik", role="expert")
    assert form(carol_expert, url, f"/forum/s/{share_id}/verify", label="FAKE",
                note="the original is on the broadcaster's site").status_code == 303
    page = bob.get(url).text
    assert "Verified: <strong>FAKE</strong>" in page and "@erik" in page
    assert "broadcaster&#39;s site" in page


def test_withdrawing_removes_the_media(site, owner, analysis_id):
    topic_id = share(owner, analysis_id)
    url = f"/forum/t/{topic_id}"
    page = owner.get(url).text
    images = thumbnails(page)
    share_id = re.search(r'/forum/s/([\w-]+)/unshare', page)[1]
    bob = member(site, "bob")
    assert form(bob, url, f"/forum/s/{share_id}/unshare").status_code == 403
    assert form(owner, url, f"/forum/s/{share_id}/unshare").status_code == 303
    page = bob.get(url).text
    assert "withdrew its media" in page and "Olga&#39;s clip.jpg" not in page
    assert thumbnails(page) == []
    for image in images:
        assert bob.get(image).status_code == 404
    assert form(bob, url, f"/forum/s/{share_id}/vote", value="FAKE").status_code == 400
    assert "The detector says so" in page  # the discussion stays

    # shared again, then the analysis is deleted: that snapshot loses its media too
    second = share(owner, analysis_id, title="Second try at this")
    images = thumbnails(owner.get(f"/forum/t/{second}").text)
    assert images and all(bob.get(i).status_code == 200 for i in images)
    assert form(owner, f"/analyses/{analysis_id}", f"/analyses/{analysis_id}/delete"
                ).status_code == 303
    assert all(bob.get(i).status_code == 404 for i in images)
    notice = bob.get(f"/forum/t/{second}").text  # says what happened, honestly
    assert "deleted it on" in notice and "withdrew its media" not in notice


def test_only_finished_analyses_can_be_shared(site, owner, analysis_id):
    with site.app.state.sessions() as db:
        row = db.query(AnalysisRow).filter_by(public_id=analysis_id).one()
        row.status, row.result_json = "running", None
        db.commit()
    response = form(owner, "/forum", f"/analyses/{analysis_id}/share",
                    category="help-me-verify", title="Too early", body="still running")
    assert response.status_code == 400 and "finished analysis" in response.text
