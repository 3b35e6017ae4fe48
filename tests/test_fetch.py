"""Links (issue 26): fetched with yt-dlp from a local site (no test reaches the internet),
under the SSRF guard and the size, time and redirect caps, then analysed like a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from linkserver import make_hls, public_loopback, site

from fakelens.cli import main
from fakelens.config import get_settings
from fakelens.errors import LinkRefused, LinkTimeout, LinkTooLarge, LinkUnsupported
from fakelens.fetch.download import fetch_link
from fakelens.fetch.guard import check_link, is_link, refusal
from fakelens.types import SCHEMA_VERSION


@pytest.fixture(scope="module")
def clip(samples: Path) -> Path:
    return samples / "videos" / "ffpp_original_004.mp4"


@pytest.fixture
def web(clip, monkeypatch):
    public_loopback(monkeypatch)  # the site stands for the internet; 127.0.0.1 stays private
    with site(clip) as s:
        yield s


@pytest.fixture(scope="module")
def hls(clip, tmp_path_factory) -> Path:
    """The clip as an HLS playlist and its segments (made with ffmpeg, not re-encoded)."""
    return make_hls(clip, tmp_path_factory.mktemp("hls"))


@pytest.fixture
def stream_site(clip, hls, monkeypatch):
    public_loopback(monkeypatch)
    with site(clip, hls) as s:
        yield s


def _settings(**kw):
    return get_settings(**{"fetch_timeout_s": 60, "fetch_socket_timeout_s": 10, **kw})


def test_links_are_told_from_paths():
    assert is_link("https://example.org/v.mp4") and is_link("ftp://x/y")
    assert not is_link("clip.mp4") and not is_link("C:\\clip.mp4") and not is_link("/a://b")


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.10", "172.16.5.4",
                                     "169.254.1.1", "::1", "fe80::1", "fc00::1",
                                     "::ffff:127.0.0.1", "100.64.0.1", "0.0.0.0"])
def test_private_addresses_are_refused(address):
    assert refusal(address, allow_private=False)


def test_metadata_addresses_are_refused_even_when_private_ones_are_allowed():
    assert refusal("169.254.169.254", allow_private=True) == "a cloud metadata address"
    assert refusal("fd00:ec2::254", allow_private=True)
    assert refusal("127.0.0.1", allow_private=True) is None
    assert refusal("93.184.215.14", allow_private=False) is None


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/a.mp4",
                                 "gopher://x", "http://", "http://localhost:1/clip.mp4",
                                 "http://127.0.0.1:1/clip.mp4", "http://[::1]:1/x",
                                 "http://169.254.169.254/latest/meta-data/"])
def test_check_link_refuses_before_any_request(url):
    with pytest.raises(LinkRefused):
        check_link(url, allow_private=False)


def test_direct_link_is_fetched_whole_and_unchanged(web, clip, tmp_path):
    got = fetch_link(web.url("/clip.mp4"), tmp_path, _settings())
    assert got.path.read_bytes() == clip.read_bytes()
    import hashlib

    assert got.sha256 == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert got.size_bytes == clip.stat().st_size


def test_page_with_a_video_tag_and_a_redirect(web, clip, tmp_path):
    got = fetch_link(web.url("/page.html"), tmp_path / "a", _settings())
    assert got.size_bytes == clip.stat().st_size and got.info.get("title")
    got = fetch_link(web.url("/redirect"), tmp_path / "b", _settings())
    assert got.size_bytes == clip.stat().st_size


def test_several_videos_behind_one_link_say_how_many(web, tmp_path):
    got = fetch_link(web.url("/two.html"), tmp_path / "a", _settings(), item=2)
    assert got.items == 2 and got.item == 2
    assert got.entries == ["A clip (1)", "A clip (2)"]  # listed, the page's order
    assert "/copy.mp4" in web.requested and "/clip.mp4" not in web.requested  # the 2nd
    from fakelens.fetch.context import link_source
    from fakelens.reports.provenance import source_view

    source = link_source(web.url("/two.html"), got.info, got.sha256, got.size_bytes, 2,
                         got.items, got.entries)
    rows = dict(source_view(source)["rows"])
    assert rows["Which video"] == "video 2 of 2 behind this link"
    assert rows["Videos behind this link"] == "1. A clip (1) · 2. A clip (2)"
    one = fetch_link(web.url("/page.html"), tmp_path / "b", _settings())
    assert one.entries == [] and one.items is None  # one video: nothing to list


def _fails(web, path, tmp_path, cls, **kw):
    folder = tmp_path / "fetch"
    with pytest.raises(cls) as info:
        fetch_link(web.url(path), folder, _settings(**kw))
    assert list(folder.iterdir()) == []  # nothing half-stored
    assert web.url(path) in str(info.value) or "refused" in str(info.value)
    return str(info.value)


def test_redirect_to_loopback_is_refused(web, tmp_path):
    message = _fails(web, "/redirect-loopback", tmp_path, LinkRefused)
    assert "127.0.0.1 is a loopback address" in message


def test_redirect_to_loopback_is_followed_when_private_addresses_are_allowed(
        clip, tmp_path):
    # the site listens on 127.0.0.2 only: 127.0.0.1 is reached and answers nothing
    with site(clip) as s:
        with pytest.raises(LinkUnsupported, match="could not be reached|could not be "
                                                  "downloaded"):
            fetch_link(s.url("/redirect-loopback"), tmp_path,
                       _settings(fetch_allow_private=True))


def test_redirects_to_metadata_and_files_are_refused(web, tmp_path):
    assert "cloud metadata" in _fails(web, "/redirect-metadata", tmp_path, LinkRefused)
    assert "not http(s)" in _fails(web, "/redirect-file", tmp_path, LinkRefused)


def test_redirect_loop_stops(web, tmp_path):
    assert "redirects too many times" in _fails(web, "/loop", tmp_path, LinkUnsupported)


def test_page_without_video_and_missing_video(web, tmp_path):
    assert "no video" in _fails(web, "/novideo.html", tmp_path, LinkUnsupported)
    assert "404" in _fails(web, "/missing.mp4", tmp_path, LinkUnsupported)


@pytest.mark.parametrize(("path", "words"), [
    ("/private.mp4", "refused access (403): the video may be private, blocked in the "
                     "server's country or behind a login"),
    ("/login.mp4", "refused access (401): a login is needed"),
    ("/gone.mp4", "the video was deleted (410 Gone)"),
    ("/busy.mp4", "limiting requests (429): try again later"),
    ("/broken.mp4", "the site had an error: try again later")])
def test_refusing_sites_are_told_in_plain_words(web, tmp_path, path, words):
    message = _fails(web, path, tmp_path, LinkUnsupported)
    assert message.startswith(f"{web.url(path)}: ") and message.endswith(words)
    assert "Traceback" not in message and "ERROR" not in message


def test_oversized_and_endless_responses_are_cut(web, tmp_path):
    assert "larger than the 1 MB" in _fails(web, "/big.mp4", tmp_path, LinkTooLarge,
                                            fetch_max_mb=1)
    assert "larger than the 1 MB" in _fails(web, "/endless.mp4", tmp_path, LinkTooLarge,
                                            fetch_max_mb=1)


def test_slow_and_silent_sites_time_out(web, tmp_path):
    assert "took longer than" in _fails(web, "/slow.mp4", tmp_path, LinkTimeout,
                                        fetch_timeout_s=2)
    assert "did not answer" in _fails(web, "/stall.mp4", tmp_path, LinkTimeout,
                                      fetch_socket_timeout_s=1)


def test_long_videos_are_refused(web, tmp_path):
    assert "minutes" in _fails(web, "/clip.mp4", tmp_path, LinkTooLarge,
                               fetch_max_minutes=0.01)


def test_cli_refuses_a_private_address_with_exit_code_3(capsys, monkeypatch):
    monkeypatch.delenv("FAKELENS_FETCH_ALLOW_PRIVATE", raising=False)
    code = main(["detect", "http://127.0.0.1:9/clip.mp4", "--json"])
    out, err = capsys.readouterr()
    assert code == 3
    assert json.loads(out)["error"]["type"] == "LinkRefused"
    assert "refused: 127.0.0.1 is a loopback address" in err


def test_cli_link_scores_like_the_file_and_keeps_the_link(clip, model_dir, capsys,
                                                          monkeypatch, tmp_path):
    monkeypatch.setenv("FAKELENS_FETCH_ALLOW_PRIVATE", "1")
    report = tmp_path / "r.html"
    with site(clip, host="127.0.0.1") as s:  # the words: 127.0.0.1 itself
        url = s.url("/clip.mp4")
        assert main(["detect", url, "--json", "--frames", "8", "--report", str(report)]) == 0
        linked = json.loads(capsys.readouterr().out)
    html = report.read_text()
    assert "Fetched from a link" in html and url in html and "re-encode" in html
    assert "Key frames for reverse image search" in html  # a link's report has them too
    assert main(["detect", str(clip), "--json", "--frames", "8"]) == 0
    local = json.loads(capsys.readouterr().out)
    assert linked["score"] == local["score"] and linked["verdict"] == local["verdict"]
    source = linked["provenance"]["source"]
    assert source["url"] == url and source["site"] == "127.0.0.1"
    assert source["sha256"] == local["media"]["sha256"]
    assert linked["media"]["path"] == url
    assert linked["schema_version"] == SCHEMA_VERSION == "1.8"
    assert any("re-encode" in c for c in linked["caveats"])


def test_hls_playlist_is_fetched_to_a_playable_file(stream_site, clip, tmp_path):
    from fakelens.media import probe
    from fakelens.media.integrity import check_whole

    seen: list[float] = []
    got = fetch_link(stream_site.url("/hls/index.m3u8"), tmp_path, _settings(),
                     progress=lambda stage, fraction: seen.append(fraction))
    assert [p.name for p in tmp_path.iterdir()] == [got.path.name]
    assert got.path.suffix == ".mp4"  # the joined segments, put into MP4
    info, original = probe(got.path), probe(clip)
    assert info.kind == "video" and info.format == "mp4"
    assert info.frame_count == original.frame_count
    assert abs(info.duration_s - original.duration_s) < 0.1
    check_whole(got.path, info)  # decodes to the end
    assert got.size_bytes == got.path.stat().st_size and len(got.sha256) == 64
    assert {"/hls/seg0.ts", "/hls/seg1.ts"} <= set(stream_site.requested)
    assert seen and max(seen) > 0


def test_hls_caps_hold(stream_site, tmp_path):
    """The duration cap before any segment; the byte cap on the segments as they come."""
    assert "longer than the 0.1 minutes" in _fails(stream_site, "/hls/index.m3u8", tmp_path,
                                                   LinkTooLarge, fetch_max_minutes=0.1)
    assert not any(p.endswith(".ts") for p in stream_site.requested)
    assert "larger than the 0.1 MB" in _fails(stream_site, "/hls/index.m3u8", tmp_path,
                                              LinkTooLarge, fetch_max_mb=0.1)
    assert "/hls/seg0.ts" in stream_site.requested  # the first segment is over the cap
    assert "/hls/seg1.ts" not in stream_site.requested


@pytest.mark.parametrize("path", ["/live.m3u8", "/live.html"])
def test_live_playlist_stops_with_a_clear_message(stream_site, tmp_path, path):
    message = _fails(stream_site, path, tmp_path, LinkTooLarge)
    assert "live stream, which never ends" in message and "fakelens live" in message
    assert not any(p.endswith(".ts") for p in stream_site.requested)


def test_hls_segments_are_checked_like_links(stream_site, tmp_path):
    message = _fails(stream_site, "/hls-loopback.m3u8", tmp_path, LinkRefused)
    assert "127.0.0.1 is a loopback address" in message


def test_encrypted_hls_is_never_handed_to_ffmpeg(stream_site, tmp_path):
    """yt-dlp gives streams it cannot download itself to ffmpeg, which would connect
    past the guard: here the fetch fails and no segment is asked for."""
    message = _fails(stream_site, "/hls-encrypted.m3u8", tmp_path, LinkUnsupported)
    assert "encrypted" in message
    assert not any(p.startswith("/enc/") for p in stream_site.requested)


def test_cli_hls_link_scores_like_the_file(clip, hls, model_dir, capsys, monkeypatch):
    monkeypatch.setenv("FAKELENS_FETCH_ALLOW_PRIVATE", "1")
    with site(clip, hls) as s:
        url = s.url("/hls/index.m3u8")
        assert main(["detect", url, "--json", "--frames", "8"]) == 0
        linked = json.loads(capsys.readouterr().out)
    assert main(["detect", str(clip), "--json", "--frames", "8"]) == 0
    local = json.loads(capsys.readouterr().out)
    assert linked["score"] == local["score"] and linked["verdict"] == local["verdict"]
    assert linked["provenance"]["source"]["url"] == url and linked["warnings"] == []


def test_streams_for_external_programs_are_refused(web, tmp_path):
    """An rtmp:// video would be fetched by rtmpdump, past the guard: refused."""
    message = _fails(web, "/rtmp.html", tmp_path, LinkRefused)
    assert "served over rtmp, which the server does not download" in message
