"""Trust and first use: the public landing page, the verdict with its caveats (measured
accuracy read from the installed model cards, never written in a template), the trash and
undo for deletions, the installable app (manifest, service worker, share target), offline
/docs, plain error messages and long file names."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta

from forumhelpers import form, member, new_topic, post_ids
from sqlalchemy import select
from webhelpers import csrf_from, png_bytes

from fakelens.analysis.caveats import VERDICT_LABELS, caveat_lines, verdict_caveats
from fakelens.db.tables import AnalysisRow, Status
from fakelens.models.registry import DEFAULT_DETECTORS, get_detector, installed_detectors
from fakelens.types import (
    Analysis,
    Box,
    FrameScore,
    MediaInfo,
    ModelInfo,
    ModelScore,
    StageTimings,
    Track,
    Verdict,
)
from fakelens.web.uploads import display_name

# videos and photos have their own face-swap detector (E8, docs/training-log.md)
VIDEO, SWAP, SYNTH = DEFAULT_DETECTORS


def metrics(name: str, media: str = "video") -> dict[str, str]:
    """The model card's figures on one kind of media (what a result of that kind shows)."""
    return get_detector(name).config.accuracy_on(media).figures


def two_detector_result(swap: float, synth: float, verdict: Verdict,
                        kind: str = "video") -> Analysis:
    """A stored result as the pipeline writes it, from the shipped detectors (the
    face-swap detector of the media's kind)."""
    face_swap = VIDEO if kind == "video" else SWAP
    frames = [FrameScore(frame_index=i, timestamp_s=i * 0.5, box=Box(x=0, y=0, w=120, h=120),
                         landmarks=[], detector_confidence=0.9, score=swap)
              for i in range(4)]
    track = Track(track_id=0, frames=frames, frame_score=swap,
                  model_scores=[ModelScore(model=face_swap, score=swap),
                                ModelScore(model=SYNTH, score=synth)],
                  score=max(swap, synth), decisive=True)
    return Analysis(
        fakelens_version="0.1.0", verdict=verdict, score=max(swap, synth), threshold=0.5,
        uncertain_band=0.1, reason="numbers", tracks=[track],
        media=MediaInfo(path="clip.mp4" if kind == "video" else "photo.jpg", kind=kind,
                        format="mp4" if kind == "video" else "jpeg", size_bytes=1000,
                        sha256="ab" * 32, width=640, height=360,
                        duration_s=2.0 if kind == "video" else None),
        models=[ModelInfo(name=n, version="1", task="t", threshold=0.5)
                for n in (face_swap, SYNTH)],
        face_detector="yunet", frames_sampled=4, sampling="4 evenly spaced frames",
        timings=StageTimings(total_s=3.25), created_at=datetime.now(UTC).isoformat())


def stored(alice, result: Analysis, filename: str = "clip.png") -> str:
    """Upload through the form, then store ``result`` as the finished job would."""
    token = csrf_from(alice.get("/").text)
    url = alice.post("/analyses", data={"csrf_token": token},
                     files={"file": (filename, png_bytes(len(filename)), "image/png")},
                     follow_redirects=False).headers["location"]
    with alice.app.state.sessions() as db:
        row = db.scalar(select(AnalysisRow).where(AnalysisRow.public_id == url.rsplit("/")[-1]))
        row.status, row.stage, row.progress = Status.DONE, "done", 100
        row.verdict, row.score, row.result_json = result.verdict, result.score, result.to_json()
        db.commit()
    return url


def test_landing_page_is_public_and_reads_the_model_cards(client):
    page = client.get("/")
    assert page.status_code == 200
    text = html.unescape(page.text)
    for words in ("What it detects, and what it cannot", "What a score means",
                  "What happens to an upload", "How reliable it is today", "A sample result",
                  "evidence, not proof", 'href="/forum"', 'href="/register"'):
        assert words in text, words
    for name in installed_detectors():
        for acc in get_detector(name).config.accuracy_by_media():  # videos, stills apart
            assert (acc.heading if acc.figures else acc.missing) in text
            for label, figure in acc.figures.items():
                assert f"{label}: <span class=\"metric\">{figure}</span>" in text
        for spots in get_detector(name).config.blind_spots_by_media():  # per kind measured
            assert f"Mostly misses, {spots.heading.lower()}" in text
            for kind, measured in spots.spots.items():
                assert f"{kind}: {measured}" in text  # what it misses, beside what it catches
    floor = min(get_detector(n).config.uncertain_from for n in (VIDEO, SWAP))
    assert f"uncertain from\n    {floor:.2f} to 0.60" in text  # the sample obeys the rule
    assert client.get("/about").status_code == 200


def test_landing_page_shows_the_forum(client):
    author = member(client, "fay")
    new_topic(author, "Is the harbour video real?", "Shared yesterday on a messenger.")
    anonymous = client.__class__(client.app)
    page = anonymous.get("/").text
    forum = page[page.index('<section id="forum">'):]
    assert "Is the harbour video real?" in forum and 'href="/forum/t/' in forum


def test_caveats_name_the_deciding_detector_and_its_measured_accuracy():
    a = two_detector_result(swap=0.91, synth=0.2, verdict=Verdict.FAKE)
    c = verdict_caveats(a)
    assert c.label == VERDICT_LABELS[Verdict.FAKE]
    assert c.deciding_detector == VIDEO and c.deciding.metrics == metrics(VIDEO)
    assert c.contradicting == [SYNTH]
    assert (c.band_low, c.band_high) == (0.4, 0.6)
    lines = caveat_lines(a)
    assert all(figure in lines[0] for figure in metrics(VIDEO).values())
    assert f"{VIDEO} 0.91, {SYNTH} 0.20" in lines[1]
    assert any(f"Contradicted by {SYNTH}" in x for x in lines)
    assert lines[-1].startswith("Evidence, not proof")


def test_result_page_shows_caveats_and_detector_table(alice):
    url = stored(alice, two_detector_result(swap=0.3, synth=0.75, verdict=Verdict.UNCERTAIN,
                                            kind="image"))
    text = html.unescape(alice.get(url).text)
    card = text[text.index('<section class="verdict'):text.index('<section class="why">')]
    assert "Uncertain" in card and "uncertain from\n    0.40 to 0.60" in card
    assert f"<strong>{SYNTH}</strong>" in card  # the detector that decided
    assert all(figure in card for figure in metrics(SYNTH, "image").values())
    assert "Evidence, not proof" in card and "Known failure cases" in card
    table = text[text.index('<table class="detectors cards">'):]
    table = table[:table.index("</table>")]
    assert SWAP in table and SYNTH in table and "0.30" in table and "0.75" in table
    assert all(figure in table for name in (SWAP, SYNTH)
               for figure in metrics(name, "image").values())
    assert "Processing time 3.2 s" in text or "Processing time 3.3 s" in text


def verdict_card(alice, url: str) -> str:
    text = html.unescape(alice.get(url).text)
    return text[text.index('<section class="verdict'):text.index('<section class="why">')]


def test_a_photo_and_a_video_show_their_own_measured_accuracy(alice, tmp_path, monkeypatch):
    """The "How reliable" block shows the deciding detector's figures for the kind of media
    analysed (model card): still-photo figures for a photo, video figures for a video, and
    words, not the other kind's figures, when the card has none for that kind."""
    video, still = metrics(VIDEO, "video"), metrics(SWAP, "image")
    assert video and still and not set(video.values()) & set(still.values())
    photo = stored(alice, two_detector_result(0.3, 0.05, Verdict.UNCERTAIN, kind="image"))
    clip = stored(alice, two_detector_result(0.3, 0.05, Verdict.UNCERTAIN))
    for url, mine, other, words in ((photo, still, video, "still photos"),
                                    (clip, video, still, "videos")):
        card = verdict_card(alice, url)
        block = card[card.index('class="accuracy"'):card.index('<p class="evidence">')]
        assert f"Measured accuracy on {words}" in block
        assert all(f"{k}: <span class=\"metric\">{v}</span>" in block for k, v in mine.items())
        assert not any(v in card for v in other.values())
        assert "No measured accuracy" not in block

    # a card that records no still-photo figures: the photo's block says so in words
    folder = tmp_path / "weights"
    folder.mkdir()
    for name in DEFAULT_DETECTORS:
        det = get_detector(name)
        doc = json.loads(det.path(f"{name}.json").read_text())
        if name == SWAP:
            doc["metrics_by_media"] = {}
        (folder / f"{name}.json").write_text(json.dumps(doc))
        (folder / doc["frame_graph"]).symlink_to(det.path(doc["frame_graph"]))
    monkeypatch.setenv("FAKELENS_WEIGHTS_DIR", str(folder))
    card = verdict_card(alice, photo)
    assert '<p class="no-accuracy" data-media="image">No measured accuracy on still photos ' \
           "for this detector.</p>" in card
    assert not any(v in card for v in video.values())
    assert all(v in verdict_card(alice, clip) for v in video.values())


def test_a_heavily_compressed_video_gets_a_caveat_of_its_own(alice):
    from fakelens.analysis.caveats import heavily_compressed

    result = two_detector_result(swap=0.1, synth=0.05, verdict=Verdict.REAL)

    def at(bpp: float | None, kind: str = "video", size=(640, 360)) -> Analysis:
        media = result.media.model_copy(update={"bits_per_pixel": bpp, "kind": kind,
                                                "width": size[0], "height": size[1]})
        return result.model_copy(update={"media": media})

    heavy = at(0.008)
    lines = caveat_lines(heavy)
    assert any("heavily compressed (0.008 bits per pixel" in x for x in lines)
    assert verdict_caveats(heavy).media_warnings and lines[-1].startswith("Evidence")
    for fine in (at(0.1), at(None), at(0.008, kind="image")):
        assert not verdict_caveats(fine).media_warnings
        assert not any("heavily compressed" in x for x in caveat_lines(fine))
    # small frames need more bits per pixel for the same quality
    assert heavily_compressed(at(0.03, size=(224, 224)).media)
    assert not heavily_compressed(at(0.03, size=(1280, 720)).media)
    card = html.unescape(alice.get(stored(alice, heavy)).text)
    card = card[card.index('<section class="verdict'):card.index('<section class="why">')]
    assert "About this file:" in card and "0.008 bits per pixel" in card
    assert "About this file" not in html.unescape(alice.get(stored(alice, result)).text)


def shared_card(alice, url: str) -> str:
    """Share the analysis at ``url`` into the forum; the topic's share card, as text."""
    response = form(alice, f"{url}/share", f"{url}/share", category="help-me-verify",
                    title="Is this photo real?", body="Sent to me on a messenger.",
                    tags="photo")
    assert response.status_code == 303, response.text
    page = html.unescape(alice.get(response.headers["location"]).text)
    card = page[page.index('class="share-card"'):]
    return " ".join(re.sub(r"<[^>]+>", "", card).split())


def test_a_heavily_compressed_photo_gets_a_caveat_of_its_own(alice):
    """A JPEG re-saved at low quality (media.jpeg_quality, schema 1.8) is weak evidence: the
    result page and the forum share card (the same verdict card) say so; a PNG does not."""
    from fakelens.analysis.caveats import HEAVY_JPEG_QUALITY

    photo = two_detector_result(swap=0.1, synth=0.05, verdict=Verdict.REAL, kind="image")

    def saved_at(quality: int | None, fmt: str = "jpeg") -> Analysis:
        return photo.model_copy(update={"media": photo.media.model_copy(
            update={"jpeg_quality": quality, "format": fmt})})

    card = verdict_card(alice, stored(alice, saved_at(HEAVY_JPEG_QUALITY)))
    assert ("About this file: This photo is heavily compressed (saved at JPEG quality about "
            f"{HEAVY_JPEG_QUALITY}") in " ".join(re.sub(r"<[^>]+>", "", card).split())
    for fine in (saved_at(HEAVY_JPEG_QUALITY + 1), saved_at(None, "png")):
        assert "About this file" not in verdict_card(alice, stored(alice, fine))
    share = shared_card(alice, stored(alice, saved_at(25)))
    assert "This photo is heavily compressed (saved at JPEG quality about 25" in share


def test_blind_spots_stand_beside_every_verdict_that_is_not_fake(alice):
    """A low score is no clean bill of health: what the shipped detectors' model cards show
    as missed is on the card itself (not folded away), with a small face when it is one."""
    from fakelens.analysis.caveats import blind_spots

    missed = get_detector(VIDEO).config.blind_spots_on("video").spots
    assert missed, "the shipped video face-swap card records what it misses on videos"
    calm = two_detector_result(swap=0.05, synth=0.02, verdict=Verdict.REAL)
    spots = blind_spots(calm)
    assert all(any(kind in spot and measured in spot for spot in spots)
               for kind, measured in missed.items())
    assert not any("small" in spot for spot in spots)  # 120 px faces
    assert any(spot.startswith("Blind spot:") for spot in caveat_lines(calm))
    assert not blind_spots(two_detector_result(swap=0.9, synth=0.1, verdict=Verdict.FAKE))
    tiny = calm.model_copy(update={"tracks": [calm.tracks[0].model_copy(update={
        "frames": [f.model_copy(update={"box": Box(x=0, y=0, w=40, h=44)})
                   for f in calm.tracks[0].frames]})]})
    assert any("small (44 pixels" in spot for spot in blind_spots(tiny))
    text = html.unescape(alice.get(stored(alice, calm)).text)
    card = text[text.index('<section class="verdict'):text.index('<section class="why">')]
    assert VERDICT_LABELS[Verdict.REAL] == "No sign found by these detectors"
    shown = card[card.index('class="blind-spots"'):card.index('<div class="caveats">')]
    assert "<details" not in shown and all(kind in shown for kind in missed)


def test_a_photo_shows_the_blind_spots_measured_on_photos(alice):
    """The face-swap card's video blind spots (talking heads, swap tools) were measured on
    videos: beside a photo's verdict stand those measured on still photos instead."""
    on_video = get_detector(VIDEO).config.blind_spots_on("video")
    on_photos = get_detector(SWAP).config.blind_spots_on("image")
    assert on_photos.measured_on == "image" and on_photos.spots and not on_photos.note
    assert not set(on_video.spots) & set(on_photos.spots)
    photo = two_detector_result(swap=0.05, synth=0.02, verdict=Verdict.REAL, kind="image")
    text = html.unescape(alice.get(stored(alice, photo)).text)
    card = text[text.index('<section class="verdict'):text.index('<section class="why">')]
    shown = card[card.index('class="blind-spots"'):card.index('<div class="caveats">')]
    assert all(f"{kind}: {SWAP} often misses these ({measured})." in shown
               for kind, measured in on_photos.spots.items())
    assert not any(kind in text for kind in on_video.spots)  # nowhere on the page
    lines = caveat_lines(photo)  # the JSON result's caveats
    assert any(kind in line for kind in on_photos.spots for line in lines)
    assert not any(kind in line for kind in on_video.spots for line in lines)


def test_delete_asks_first_then_trash_and_restore(alice, app_factory):
    url = stored(alice, two_detector_result(0.2, 0.1, Verdict.REAL), "holiday.png")
    confirm = alice.get(url + "/delete")
    assert confirm.status_code == 200 and "Move to the trash" in confirm.text
    assert "share-warning" not in confirm.text  # not shared: nothing to warn about
    response = form(alice, url + "/delete", url + "/delete")
    assert response.headers["location"] == "/history#trash"
    history = alice.get("/history").text  # where the redirect leads
    assert "is in the trash" in history and 'id="trash"' in history
    assert alice.get(url).status_code == 404
    assert alice.get("/api/v1/analyses").json()["total"] == 0
    restored = form(alice, "/history", url + "/restore")
    assert restored.headers["location"] == url
    assert alice.get(url).status_code == 200 and 'id="trash"' not in alice.get("/history").text
    # a second restore has nothing to restore
    assert form(alice, "/history", url + "/restore").status_code == 404


def test_trash_is_purged_after_its_time(alice):
    url = stored(alice, two_detector_result(0.2, 0.1, Verdict.REAL))
    form(alice, url + "/delete", url + "/delete")
    with alice.app.state.sessions() as db:
        row = db.scalar(select(AnalysisRow))
        row.deleted_at = row.deleted_at - timedelta(days=8)
        db.commit()
    assert 'id="trash"' not in alice.get("/history").text
    with alice.app.state.sessions() as db:
        assert db.scalar(select(AnalysisRow)) is None


def test_manifest_service_worker_and_share_target(alice, client):
    manifest = alice.get("/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["display"] == "standalone" and body["start_url"] == "/"
    assert {i["sizes"] for i in body["icons"]} >= {"192x192", "512x512"}
    for icon in body["icons"]:
        assert alice.get(icon["src"]).status_code == 200
    target = body["share_target"]
    assert target["method"] == "POST" and target["enctype"] == "multipart/form-data"
    assert target["params"]["files"][0]["name"] == "file"
    sw = alice.get("/sw.js")
    assert sw.headers["service-worker-allowed"] == "/" and "caches" in sw.text
    assert "/analyses" not in sw.text and "/api/" not in sw.text  # never caches results
    assert 'rel="manifest"' in alice.get("/").text

    shared = alice.post(target["action"], files={"file": ("from-phone.png", png_bytes(3),
                                                          "image/png")},
                        headers={"Sec-Fetch-Site": "none"}, follow_redirects=False)
    assert shared.status_code == 303 and shared.headers["location"].startswith("/analyses/")
    assert "from-phone.png" in alice.get(shared.headers["location"]).text
    forged = alice.post(target["action"], files={"file": ("x.png", png_bytes(4), "image/png")},
                        headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False)
    assert forged.status_code == 403
    anonymous = client.__class__(client.app).post(
        target["action"], files={"file": ("x.png", png_bytes(5), "image/png")},
        follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_docs_use_local_assets(client):
    docs = client.get("/docs")
    assert docs.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert assets and all(a.startswith("/") for a in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_long_file_names_keep_their_extension(alice):
    assert display_name("a" * 300 + ".mp4").endswith("….mp4")
    assert len(display_name("a" * 300 + ".mp4")) == 200
    assert display_name("x" * 250) == "x" * 199 + "…"
    token = csrf_from(alice.get("/").text)
    response = alice.post("/analyses", data={"csrf_token": token},
                          files={"file": ("b" * 5000 + ".png", png_bytes(9), "image/png")},
                          follow_redirects=False)
    assert response.status_code == 303, response.text
    assert "….png" in alice.get(response.headers["location"]).text


def test_unusable_media_gets_plain_words(alice):
    token = csrf_from(alice.get("/").text)
    response = alice.post("/analyses", data={"csrf_token": token},
                          files={"file": ("cut.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
                                          "image/png")})
    assert response.status_code in (415, 422)
    alert = re.search(r'<div class="alert" role="alert">(.*?)</div>', response.text, re.S)[1]
    assert "cut.png: " in alert and "(" not in alert  # no decoder text in brackets


def test_flag_feedback_and_undo(client):
    author = member(client, "ann")
    flagger = member(client, "ben")
    topic = new_topic(author, "Is this clip real?", "It went viral yesterday.")
    post = post_ids(flagger, topic)[0]
    assert form(flagger, f"/forum/t/{topic}", f"/forum/p/{post}/flag",
                reason="spam").status_code == 303
    page = flagger.get(f"/forum/t/{topic}").text
    assert "You flagged this post" in page and f"/forum/p/{post}/unflag" in page
    assert form(flagger, f"/forum/t/{topic}", f"/forum/p/{post}/unflag").status_code == 303
    page = flagger.get(f"/forum/t/{topic}").text
    assert "Your flag was taken back." in page and f"/forum/p/{post}/unflag" not in page
    assert form(flagger, f"/forum/t/{topic}", f"/forum/p/{post}/unflag").status_code == 400


def test_undoing_the_flag_that_hid_a_post_shows_it_again(app_factory):
    site = app_factory(forum_flag_threshold=1)
    author, flagger = member(site, "cat"), member(site, "dan")
    reader = member(site, "eve")
    topic = new_topic(author, "Clip from the rally", "Looks edited to me.")
    reply = form(author, f"/forum/t/{topic}", f"/forum/t/{topic}/reply",
                 body="Here is the original upload.")
    assert reply.status_code == 303
    post = post_ids(flagger, topic)[-1]
    form(flagger, f"/forum/t/{topic}", f"/forum/p/{post}/flag", reason="off_topic")
    assert "Here is the original upload." not in reader.get(f"/forum/t/{topic}").text
    form(flagger, f"/forum/t/{topic}", f"/forum/p/{post}/unflag")
    assert "Here is the original upload." in reader.get(f"/forum/t/{topic}").text


def test_a_verdict_a_detector_pushed_up_names_its_known_false_alarm(alice):
    """Real video frames saved as photos (screenshots) are a known false alarm of both
    detectors (their cards, measured in docs/eval/synthetic-v2): a photo whose verdict one
    of them pushed up says so, with that detector's own figure, on the result page and the
    forum card; the other detector's figure stays out when it scored below its threshold,
    and a video (not the kind of media measured) gets none."""
    def text_of(result: Analysis) -> str:
        return " ".join(re.sub(r"<[^>]+>", "", verdict_card(alice, stored(alice, result)))
                        .split())

    (kind, synth_measured), = get_detector(SYNTH).config.false_alarms_by_media["image"].items()
    (swap_kind, swap_measured), = get_detector(SWAP).config.false_alarms_by_media[
        "image"].items()
    assert swap_kind == kind and swap_measured != synth_measured
    pushed = two_detector_result(swap=0.1, synth=0.97, verdict=Verdict.FAKE, kind="image")
    text = text_of(pushed)
    assert "Known false alarms that may apply here:" in text
    assert f"{kind}: {SYNTH} scored 0.97 here" in text and synth_measured in text
    assert SWAP + " scored" not in text and swap_measured not in text
    share = shared_card(alice, stored(alice, pushed))
    assert "Known false alarms that may apply here" in share
    by_swap = text_of(two_detector_result(swap=0.9, synth=0.02, verdict=Verdict.FAKE,
                                          kind="image"))
    assert f"{kind}: {SWAP} scored 0.90 here" in by_swap and swap_measured in by_swap
    assert f"{SYNTH} scored" not in by_swap
    both = text_of(two_detector_result(swap=0.6, synth=0.8, verdict=Verdict.FAKE, kind="image"))
    assert f"{SWAP} scored 0.60 here" in both and f"{SYNTH} scored 0.80 here" in both
    video = two_detector_result(swap=0.9, synth=0.02, verdict=Verdict.FAKE)
    assert "Known false alarm" not in verdict_card(alice, stored(alice, video))
    calm = two_detector_result(swap=0.05, synth=0.02, verdict=Verdict.REAL, kind="image")
    assert "Known false alarm" not in verdict_card(alice, stored(alice, calm))
    low = two_detector_result(swap=0.3, synth=0.02, verdict=Verdict.UNCERTAIN, kind="image")
    assert "Known false alarm" not in verdict_card(alice, stored(alice, low))  # below 0.50
