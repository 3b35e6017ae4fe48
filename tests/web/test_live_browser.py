"""The Live check page in a real browser: Chromium's fake camera plays a .y4m made with
ffmpeg from a live-swap clip; the page shows boxes and scores over the video, the rolling
verdict and timeline; stopping saves an analysis with a timeline. Plumbing only: the scores
are recorded (printed), accuracy belongs to the detector tests."""

from __future__ import annotations

import contextlib
import json
import re
import time
from pathlib import Path

import pytest
from browserhelpers import (
    DESKTOP,
    PHONE,
    assert_no_sideways_scroll,
    capture,
    launch_browser,
    log_in_after_sign_up,
)
from livemedia import CLIP, make_clip
from servers import Service, service_env
from webhelpers import PASSWORD

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture
def server(tmp_path: Path, model_dir):
    env = service_env(tmp_path / "data", None, workers=1)
    with Service(["serve", "--threads", "1"], env, tmp_path / "serve.log") as service:
        yield service


@pytest.fixture
def camera_browser(playwright, samples: Path, tmp_path: Path):
    """Chromium whose camera is the clip (looped), permission granted without a prompt."""
    y4m = make_clip(samples / CLIP, tmp_path / "camera.y4m", 6, fps=15)
    chromium = launch_browser(playwright, ["--use-fake-device-for-media-stream",
                                           "--use-fake-ui-for-media-stream",
                                           f"--use-file-for-fake-video-capture={y4m}"])
    yield chromium
    chromium.close()


def _poll(check, timeout_s: float) -> None:
    """Wait in Python (the page's CSP forbids Playwright's evaluated predicates)."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_live_check_with_a_fake_camera(camera_browser, server, shots):
    context = camera_browser.new_context(viewport=DESKTOP)
    context.grant_permissions(["camera"], origin=server.url)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: msg.type == "error"
            and problems.append(f"{page.url}: {msg.text}"))
    try:
        page.goto(server.url + "/register")
        page.fill("#email", "alice@example.org")
        page.fill("#username", "alice")
        page.fill("#password", PASSWORD)
        page.click("button:has-text('Create account')")
        log_in_after_sign_up(page, server.url, PASSWORD)
        page.click("nav >> text=Live check")
        page.wait_for_url(server.url + "/live")
        page.click("#live-camera")
        # the first session loads the live models: a loaded machine takes its time
        _poll(lambda: int(page.get_attribute("#live", "data-frames") or 0) >= 10, 180)
        _poll(lambda: page.locator("#live-verdict").inner_text().startswith("Now:"), 30)
        with contextlib.suppress(AssertionError):  # an alert depends on the detector
            _poll(lambda: page.locator("#live-alert").is_visible(), 8)
        verdict = page.locator("#live-verdict").inner_text()
        stats = page.locator("#live-stats").inner_text()
        latency = int(page.get_attribute("#live", "data-latency-ms"))
        # boxes and scores were drawn over the video (the overlay shows the last analysed
        # frame's faces, so wait for one with a face rather than read one snapshot)
        def drawn() -> int:
            return page.evaluate("""() => {
                const c = document.getElementById('live-overlay');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
                return n; }""")
        _poll(lambda: drawn() > 500, 30)
        print(f"live check page: {verdict}; {stats}; last latency {latency} ms")
        # the app's wording of a verdict, never the JSON's labels
        assert not re.search(r"\b(FAKE|REAL|UNCERTAIN|NO_FACE)\b", verdict), verdict
        capture(page, shots, "live")
        # on a phone the face labels stay inside the video, the page inside the screen
        page.set_viewport_size(PHONE)
        seen = int(page.get_attribute("#live", "data-frames"))
        _poll(lambda: int(page.get_attribute("#live", "data-frames")) >= seen + 3, 30)
        labels = json.loads(page.get_attribute("#live", "data-labels"))
        assert labels["width"] <= PHONE["width"], labels
        for x, y, w, h in labels["boxes"]:
            assert 0 <= x and x + w <= labels["width"] and 0 <= y and y + h <= labels[
                "height"], labels
        # a face at the right edge, and one at the top: the label moves inside
        for box in ({"x": labels["width"] - 20, "y": 40, "w": 60, "h": 60},
                    {"x": 0, "y": 0, "w": 60, "h": 60}):
            at = page.evaluate("([b, W, H]) => window.fakelensLivePlaceLabel(b, 150, 13, W, H)",
                               [box, labels["width"], labels["height"]])
            assert at["x"] >= 0 and at["x"] + at["w"] <= labels["width"], at
            assert at["y"] >= 0 and at["y"] + at["h"] <= labels["height"], at
        assert_no_sideways_scroll(page, "live at 375 px")
        stage = page.locator(".live-stage").bounding_box()
        assert stage["x"] >= 0 and stage["x"] + stage["width"] <= PHONE["width"], stage
        page.screenshot(path=str(shots / "live-labels-phone.png"))
        page.set_viewport_size(DESKTOP)
        page.click("#live-stop")
        page.wait_for_selector("#live-saved-link", timeout=60_000)
        page.click("#live-saved-link")
        page.wait_for_url("**/analyses/*")
        assert "Live check (camera)" in page.locator("h1").inner_text()
        assert page.locator("svg.timeline").is_visible()
        assert page.locator("svg.timeline circle").count() >= 5
        capture(page, shots, "live-saved")
        # (the result page is another page's business: only the Live check page is judged)
        assert not [p for p in problems if "/live:" in p or "page error" in p], problems
    finally:
        context.close()
