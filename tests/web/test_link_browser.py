"""The "Check a link" box in a real browser (Debian's chromium driven by Playwright)
against the real server (``fakelens serve`` in a subprocess): paste a link served by the
local link site, watch the download and the analysis, read where the video came from;
then ask for the second video of a page holding two copies of it: the earlier analysis
is reused, and the page says so and which video it is. Captured at desktop and phone
width (375 px) into ``FAKELENS_SCREENSHOTS``."""

from __future__ import annotations

from pathlib import Path

import pytest
from browserhelpers import DESKTOP, assert_images_loaded, capture, sign_up, watch_problems
from linkserver import site
from servers import Service, service_env
from webhelpers import PASSWORD

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

VIDEO = "ffpp_original_004.mp4"


@pytest.fixture
def server(tmp_path: Path, model_dir, tiny_detector):
    # the site listens on 127.0.0.2: a private address, which this server may fetch from
    env = service_env(tmp_path / "data", None, workers=1, fetch_allow_private=1,
                      default_frames=4)
    with Service(["serve", "--threads", "1"], env, tmp_path / "serve.log") as service:
        yield service


def test_paste_a_link_and_reach_the_result(browser, server, shots, videos, tiny_detector):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    problems = watch_problems(page)
    try:
        sign_up(page, server.url, PASSWORD)
        assert page.locator("#link-box h2").inner_text() == "Check a link"
        assert page.input_value("#link-item") == "1"
        capture(page, shots, "link-upload-page")

        with site(videos / VIDEO) as s:
            url = s.url("/page.html")
            page.fill("#link-url", url)
            page.select_option("#model", tiny_detector)  # the form's options apply
            page.click("button:has-text('Check the link')")
            page.wait_for_url("**/analyses/*")
            assert page.locator("h1").inner_text() == "127.0.0.2/page.html"
            assert page.locator("#job-progress").count() == 1, "no progress shown"
            capture(page, shots, "link-progress", reloads=True)
            page.wait_for_selector("section.verdict, .alert", timeout=240_000)
        assert page.locator(".alert").count() == 0, page.locator(".alert").inner_text()
        assert page.locator("h1").inner_text().startswith("A clip")  # the page's title
        source = page.locator("#link-source").inner_text()
        assert "Fetched from a link" in source and url in source and "re-encode" in source
        assert page.locator("section.verdict h2").inner_text() in (
            "Likely manipulated", "No sign found by these detectors", "Uncertain")
        assert page.locator("#reused").count() == 0
        assert assert_images_loaded(page, "#reverse-search") >= 1  # the key frames
        capture(page, shots, "link-result")
        first = page.url

        with site(videos / VIDEO) as s:  # the same video, as the 2nd of two on a page
            page.goto(server.url + "/")
            page.fill("#link-url", s.url("/two.html"))
            page.fill("#link-item", "2")
            page.select_option("#model", tiny_detector)
            page.click("button:has-text('Check the link')")
            page.wait_for_url("**/analyses/*")
            page.wait_for_selector("section.verdict, .alert", timeout=240_000)
        assert page.locator(".alert").count() == 0, page.locator(".alert").inner_text()
        notice = page.locator("#reused").inner_text()
        assert "This file was analysed before" in notice and "the result is reused" in notice
        assert page.locator("#link-item-note").inner_text() == "Video 2 of 2 behind this link."
        assert page.get_attribute("#reused a", "href") == first.removeprefix(server.url)
        assert assert_images_loaded(page, "#reverse-search") >= 1  # copied key frames
        capture(page, shots, "link-reused")
    finally:
        context.close()
    assert problems == [], problems
