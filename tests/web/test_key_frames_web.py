"""Key frames for reverse image search in the web app: the job stores them, the result
page lists them with downloads (JPEG), one-click searches only with FAKELENS_PUBLIC_URL
(through a signed, expiring public link), and nobody but the owner gets at them."""

from __future__ import annotations

import io
import re
import time
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select
from synthetic_media import shot, write_video
from webhelpers import login_token, other_client, register, upload, wait_for

from fakelens.db.tables import AnalysisRow, utcnow
from fakelens.jobs.files import key_frame_path, read_key_frames
from fakelens.web.keyframes import LINK_TTL_S, public_link
from fakelens.web.settings import WebSettings

PUBLIC = "https://fakelens.example.org/base"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> bytes:
    """Three shots: cuts at 1.0 s and 2.4 s."""
    frames = (shot((200, 40, 40), 25, 1) + shot((40, 200, 40), 35, 2)
              + shot((40, 40, 200), 40, 3))
    return write_video(tmp_path_factory.mktemp("kf") / "c.mp4", frames).read_bytes()


def analysed(client, clip: bytes, tiny_detector: str) -> tuple[str, dict]:
    headers = login_token(client)
    accepted = upload(client, headers, content=clip, filename="three shots.mp4", frames=4,
                      model=tiny_detector)
    assert accepted.status_code == 202, accepted.text
    body = wait_for(client, accepted.json()["status_url"], headers)
    assert body["status"] == "done", body["error"]
    return body["id"], headers


def section(page: str) -> str:
    start = page.index('<section id="reverse-search">')
    return page[start:page.index("</section>", start)]


def jpeg(content: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(content))
    assert img.format == "JPEG"
    return img.convert("RGB")


def test_key_frames_are_downloads_without_a_public_address(app_factory, clip, model_dir,
                                                          tiny_detector):
    client = app_factory(immediate=True)
    analysis_id, _ = analysed(client, clip, tiny_detector)
    part = section(client.get(f"/analyses/{analysis_id}").text)
    base = f"/analyses/{analysis_id}/key-frames"
    assert re.findall(r'<img src="([^"]+)"', part) == [f"{base}/{n}.jpg" for n in range(3)]
    assert re.findall(r'class="kf-time">([^<]+)<', part) == ["0:00.0", "0:01.0", "0:02.4"]
    assert "2 scene changes found" in part
    # no one-click search: the engines' upload pages, and why
    assert "/search/" not in part and "no public address" in part
    for page in ("https://lens.google.com/", "https://tineye.com/"):
        assert f'href="{page}"' in part

    download = client.get(f"{base}/1.jpg?download=1")
    assert download.status_code == 200 and download.headers["content-type"] == "image/jpeg"
    assert download.headers["content-disposition"] == (
        'attachment; filename="fakelens-three_shots_mp4-key-frame-02-at-0m01.0s.jpg"')
    frame = jpeg(download.content)
    assert frame.size == (160, 120)
    r, g, b = np.asarray(frame).reshape(-1, 3).mean(axis=0)
    assert g > r and g > b  # the second shot is the green one
    shown = client.get(f"{base}/1.jpg")
    assert "content-disposition" not in shown.headers and shown.content == download.content
    assert client.get(f"{base}/3.jpg").status_code == 404  # only three
    assert client.get(f"{base}/1/search/google", follow_redirects=False).status_code == 404

    # someone else's key frames look like nothing; signed out: the login page
    bob = other_client(client)
    assert register(bob, "bob@example.org").status_code == 303
    for url in (f"{base}/1.jpg", f"{base}/1.jpg?download=1"):
        assert bob.get(url).status_code == 404
        anonymous = other_client(client).get(url, follow_redirects=False)
        assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]


def test_one_click_search_through_an_expiring_public_link(app_factory, clip, model_dir,
                                                         tiny_detector, data_dir):
    client = app_factory(immediate=True, public_url=PUBLIC + "/")
    settings = client.app.state.settings
    analysis_id, _ = analysed(client, clip, tiny_detector)
    part = section(client.get(f"/analyses/{analysis_id}").text)
    base = f"/analyses/{analysis_id}/key-frames"
    searches = re.findall(r'<a href="([^"]+/search/[a-z]+)" target="_blank" '
                          r'rel="noopener noreferrer"', part)
    assert searches[:4] == [f"{base}/0/search/{e}" for e in
                            ("google", "bing", "tineye", "yandex")]
    assert len(searches) == 12 and "no public address" not in part
    assert "https://" not in "".join(searches)  # nothing leaves before the click

    go = client.get(f"{base}/2/search/google", follow_redirects=False)
    assert go.status_code == 303
    target = urlsplit(go.headers["location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "lens.google.com",
                                                           "/uploadbyurl")
    link = parse_qs(target.query)["url"][0]
    assert link.startswith(f"{PUBLIC}/public/key-frames/{analysis_id}/2/")
    for engine, host in (("bing", "www.bing.com"), ("tineye", "tineye.com"),
                         ("yandex", "yandex.com")):
        location = client.get(f"{base}/2/search/{engine}",
                              follow_redirects=False).headers["location"]
        assert urlsplit(location).netloc == host and "%2Fpublic%2Fkey-frames%2F" in location

    # what the search engine fetches: no login, the very frame
    path = urlsplit(link).path.removeprefix("/base")
    engine = other_client(client)
    fetched = engine.get(path)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/jpeg"
    assert fetched.content == key_frame_path(settings, analysis_id, 2).read_bytes()
    # a changed signature, another frame with this signature, an expired link: nothing
    head, sig = path.rsplit("/", 1)
    forged = sig[:-5] + ("0" if sig[-5] != "0" else "1") + sig[-4:]
    assert engine.get(f"{head}/{forged}").status_code == 404
    assert engine.get(path.replace("/key-frames/" + analysis_id + "/2/",
                                   "/key-frames/" + analysis_id + "/1/")).status_code == 404
    index = read_key_frames(settings, analysis_id)
    old = public_link(settings, index, analysis_id, 2, time.time() - LINK_TTL_S - 5)
    assert engine.get(urlsplit(old).path.removeprefix("/base")).status_code == 404

    # another site cannot make the owner's browser hand a frame to an engine
    cross = client.get(f"{base}/2/search/google", follow_redirects=False,
                       headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    # someone else cannot use the owner's search route
    bob = other_client(client)
    assert register(bob, "bob@example.org").status_code == 303
    assert bob.get(f"{base}/2/search/google", follow_redirects=False).status_code == 404

    # in the trash: the public link is dead at once
    with client.app.state.sessions() as db:
        row = db.scalar(select(AnalysisRow).where(AnalysisRow.public_id == analysis_id))
        row.deleted_at = utcnow()
        db.commit()
    assert engine.get(path).status_code == 404


def test_a_still_is_its_own_key_frame(app_factory, model_dir, tiny_detector):
    client = app_factory(immediate=True)
    headers = login_token(client)
    accepted = upload(client, headers, model=tiny_detector, filename="still.png")
    body = wait_for(client, accepted.json()["status_url"], headers)
    part = section(client.get(f"/analyses/{body['id']}").text)
    assert "The image itself" in part and 'class="kf-time"' not in part
    assert len(re.findall(r"<img ", part)) == 1
    shown = client.get(f"/analyses/{body['id']}/key-frames/0.jpg")
    assert jpeg(shown.content).size == (48, 48)


@pytest.mark.parametrize("value, problem", [
    ("ftp://fakelens.example.org", "http:// or https://"),
    ("fakelens.example.org", "http:// or https://"),
    ("https://user:secret@fakelens.example.org", "plain address"),
    ("https://fakelens.example.org/?a=1", "plain address"),
])
def test_the_public_address_is_checked(tmp_path, value, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        WebSettings(data_dir=tmp_path, public_url=value)
    assert WebSettings(data_dir=tmp_path, public_url=" ").public_url is None
    assert WebSettings(data_dir=tmp_path,
                       public_url="https://x.example.org/fl/").public_url == (
        "https://x.example.org/fl")
