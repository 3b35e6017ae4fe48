"""Key frames in the JSON API: ``GET /api/v1/analyses/{id}`` lists them (index, time,
size, a download URL) and ``GET /api/v1/analyses/{id}/key-frames/{index}.jpg`` serves
one, to the analysis' owner only (token or session), like the rest of the API: 404 for
another user, an analysis in the trash, a frame that is not there; 401 signed out."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from synthetic_media import shot, write_video
from webhelpers import (
    create_token,
    csrf_from,
    login_token,
    other_client,
    register,
    upload,
    wait_for,
)

from fakelens.web.schemas import KeyFramePublic

ROOT = Path(__file__).resolve().parents[2]
ROUTE = "/api/v1/analyses/{analysis_id}/key-frames/{index}.jpg"


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def jpeg(content: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(content))
    assert img.format == "JPEG"
    return img.convert("RGB")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> bytes:
    """Two shots, red then green: a cut at 1.0 s."""
    frames = shot((200, 40, 40), 25, 1) + shot((40, 200, 40), 25, 2)
    return write_video(tmp_path_factory.mktemp("kfapi") / "c.mp4", frames).read_bytes()


def done(client, headers: dict[str, str], **kwargs) -> dict:
    accepted = upload(client, headers, **kwargs)
    assert accepted.status_code == 202, accepted.text
    body = wait_for(client, accepted.json()["status_url"], headers)
    assert body["status"] == "done", body["error"]
    return body


@pytest.mark.slow
def test_the_owner_lists_and_downloads_the_key_frames(app_factory, clip, model_dir,
                                                      tiny_detector):
    client = app_factory(immediate=True)
    alice = login_token(client)
    body = done(client, alice, content=clip, filename="São Paulo.mp4", frames=4,
                model=tiny_detector)
    analysis_id = body["id"]
    urls = [f"/api/v1/analyses/{analysis_id}/key-frames/{n}.jpg" for n in range(2)]
    assert body["key_frames"] == [
        {"index": 0, "time_s": 0.0, "width": 160, "height": 120, "url": urls[0]},
        {"index": 1, "time_s": 1.0, "width": 160, "height": 120, "url": urls[1]}]
    listed = client.get("/api/v1/analyses", headers=alice).json()["items"]
    assert [item["key_frames"] for item in listed] == [None]  # GET the analysis for them

    for frame in body["key_frames"]:
        response = client.get(frame["url"], headers=alice)
        assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
        image = jpeg(response.content)
        assert image.size == (frame["width"], frame["height"])
        # the same file the result page shows
        assert response.content == client.get(
            f"/analyses/{analysis_id}/key-frames/{frame['index']}.jpg").content
    r, g, b = np.asarray(image).reshape(-1, 3).mean(axis=0)
    assert g > r and g > b  # the second shot is the green one
    # a name in any script: an ASCII stand-in and the UTF-8 name, nothing else
    assert response.headers["content-disposition"] == (
        'attachment; filename="fakelens-Sao_Paulo_mp4-key-frame-02-at-0m01.0s.jpg"; '
        "filename*=UTF-8''fakelens-S%C3%A3o_Paulo_mp4-key-frame-02-at-0m01.0s.jpg")

    # a frame that is not there, an index that is no index: nothing
    for index in ("2", "-1", "1e0", "x", "99999999999999999999"):
        assert_error(client.get(f"/api/v1/analyses/{analysis_id}/key-frames/{index}.jpg",
                                headers=alice), 404, "not_found")
    # someone else: the same as no analysis; signed out: 401
    bob = other_client(client)
    assert register(bob, "bob@example.org").status_code == 303
    bob_token = {"Authorization": f"Bearer {create_token(bob)}"}
    for url in (body["status_url"], *urls):
        assert_error(bob.get(url, headers=bob_token), 404, "not_found")
        assert_error(other_client(client).get(url), 401, "unauthorized")

    # in the trash: gone from the API (the files are kept for a restore)
    page = f"/analyses/{analysis_id}"
    token = csrf_from(client.get(page).text)
    assert client.post(page + "/delete", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303
    for url in (body["status_url"], *urls):
        assert_error(client.get(url, headers=alice), 404, "not_found")
    assert client.post(page + "/restore", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303
    assert client.get(urls[1], headers=alice).content == response.content


@pytest.mark.slow
def test_a_still_is_its_own_key_frame(app_factory, model_dir, tiny_detector):
    client = app_factory(immediate=True)
    alice = login_token(client)
    body = done(client, alice, model=tiny_detector, filename="still.png")
    url = f"/api/v1/analyses/{body['id']}/key-frames/0.jpg"
    assert body["key_frames"] == [{"index": 0, "time_s": 0.0, "width": 48, "height": 48,
                                   "url": url}]
    assert jpeg(client.get(url, headers=alice).content).size == (48, 48)


def test_no_key_frames_before_the_analysis_is_done(client, alice_token):
    body = upload(client, alice_token).json()
    status = client.get(body["status_url"], headers=alice_token).json()
    assert status["status"] == "queued" and status["key_frames"] == []
    assert_error(client.get(body["status_url"] + "/key-frames/0.jpg", headers=alice_token),
                 404, "not_found")


def test_the_api_description_and_the_readme_name_them(client):
    spec = client.get("/openapi.json").json()
    get = spec["paths"][ROUTE]["get"]
    assert get["security"] == [{"apiToken": []}]
    assert list(get["responses"]["200"]["content"]) == ["image/jpeg"]
    index = next(p for p in get["parameters"] if p["name"] == "index")
    assert index["in"] == "path" and index["schema"]["minimum"] == 0
    fields = spec["components"]["schemas"]["KeyFramePublic"]["properties"]
    assert set(fields) == set(KeyFramePublic.model_fields)
    listed = spec["components"]["schemas"]["AnalysisPublic"]["properties"]["key_frames"]
    assert "#/components/schemas/KeyFramePublic" in str(listed)

    readme = (ROOT / "README.md").read_text()
    paragraph = readme.split("**Key frames for reverse image search.**")[1].split("\n\n")[0]
    assert "GET /api/v1/analyses/{id}/key-frames/{index}.jpg" in paragraph
    named = set(re.findall(r"`(\w+)`", paragraph.split("`key_frames`")[1].split(")")[0]))
    assert named == set(KeyFramePublic.model_fields), named
