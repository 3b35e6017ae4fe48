"""Key frames for reverse image search and the magnifier in a real browser (Debian's
chromium driven by Playwright) against ``fakelens serve``: a clip of two shots (two real
faces) lists two key frames with downloads and search links; the mouse magnifies key
frames and heatmaps, the keyboard opens and moves the magnifier, and at 375 px a tap
opens the enlarged view and a tap closes it. Screenshots go to ``FAKELENS_SCREENSHOTS``."""

from __future__ import annotations

from pathlib import Path

import pytest
from browserhelpers import (
    DESKTOP,
    PHONE,
    assert_images_loaded,
    capture,
    sign_up,
    watch_problems,
)
from servers import Service, service_env
from synthetic_media import clip_frames, write_video
from webhelpers import PASSWORD

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

PUBLIC = "https://fakelens.example.org"


@pytest.fixture
def two_shots(tmp_path: Path, videos: Path) -> Path:
    """1.2 s of one real clip, then 1.2 s of another: a cut at 1.2 s."""
    first = clip_frames(videos / "ffpp_original_004.mp4", 30, (360, 360),
                        box=(280, 0, 720, 720))
    second = clip_frames(videos / "talking_head_d0.mp4", 30, (360, 360))
    return write_video(tmp_path / "two shots.mp4", first + second, fps=25)


@pytest.fixture
def server(tmp_path: Path, model_dir, tiny_detector):
    env = service_env(tmp_path / "data", None, workers=1, public_url=PUBLIC)
    with Service(["serve", "--threads", "1"], env, tmp_path / "serve.log") as service:
        yield service


def lens_shown(page, inside: str = "body > .lens") -> str | None:
    """The image the visible lens magnifies, or None when it is hidden."""
    return page.evaluate(f"""() => {{
        const lens = document.querySelector({inside!r});
        return lens && !lens.hidden && getComputedStyle(lens).display !== 'none'
            ? lens.style.backgroundImage : null; }}""")


def test_key_frames_and_the_magnifier(browser, server, shots, two_shots, tiny_detector):
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    problems = watch_problems(page)
    try:
        sign_up(page, server.url, PASSWORD)
        page.set_input_files("#file", str(two_shots))
        page.fill("#frames", "6")
        page.select_option("#model", tiny_detector)
        page.click("button:has-text('Analyse')")
        page.wait_for_url("**/analyses/*")
        page.wait_for_selector("section.verdict, .alert", timeout=240_000)
        assert page.locator(".alert").count() == 0, page.locator(".alert").inner_text()
        analysis_url = page.url
        # the key frames load with the page, not only once scrolled to (a full-page
        # capture or a print showed grey boxes for lazy ones below the fold)
        assert assert_images_loaded(page, "#reverse-search") == 2

        section = page.locator("#reverse-search")
        assert "Key frames for reverse image search" in section.inner_text()
        assert section.locator(".kf-time").all_inner_texts() == ["0:00.0", "0:01.2"]
        frames = section.locator("ul.keyframes a.zoom")
        assert frames.count() == 2
        searches = section.locator(".kf-search a")
        assert searches.count() == 8 and searches.first.inner_text() == "Google Lens"
        assert searches.first.get_attribute("href").endswith("/key-frames/0/search/google")
        section.scroll_into_view_if_needed()
        capture(page, shots, "key-frames")

        with page.expect_download() as info:
            section.locator("a:has-text('Download')").nth(1).click()
        assert info.value.suggested_filename == (
            "fakelens-two_shots_mp4-key-frame-02-at-0m01.2s.jpg")

        # the mouse over a key frame: the lens magnifies that frame
        assert lens_shown(page) is None
        frames.first.locator("img").hover()
        assert "/key-frames/0.jpg" in (lens_shown(page) or "")
        page.screenshot(path=str(shots / "magnifier-desktop.png"))
        page.mouse.move(5, 5)
        assert lens_shown(page) is None
        # ... and over a heatmap
        heatmap = page.locator("td.faces a.zoom img[src$='-heatmap.png']").first
        heatmap.scroll_into_view_if_needed()
        heatmap.hover()
        assert "-heatmap.png" in (lens_shown(page) or "")
        page.mouse.move(5, 5)

        # the keyboard: Enter on a key frame opens it enlarged, the magnifier at its
        # centre; the arrow keys move it; Escape closes
        frames.nth(1).focus()
        page.keyboard.press("Enter")
        dialog = page.locator("dialog#zoom")
        assert dialog.is_visible() and dialog.locator("img").count() == 1
        assert "/key-frames/1.jpg" in (lens_shown(page, "dialog .lens") or "")
        before = page.evaluate("document.querySelector('dialog .lens').style.left")
        page.keyboard.press("ArrowRight")
        after = page.evaluate("document.querySelector('dialog .lens').style.left")
        assert float(after.removesuffix("px")) > float(before.removesuffix("px"))
        page.screenshot(path=str(shots / "magnifier-keyboard-desktop.png"))
        page.keyboard.press("Escape")
        assert not dialog.is_visible()
        assert lens_shown(page, "dialog .lens") is None
        assert not problems, problems
    finally:
        context.close()

    # a phone: a tap opens the enlarged key frame, a tap on it closes it
    phone = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        page = phone.new_page()
        page.goto(server.url + "/login")
        page.fill("#email", "alice@example.org")
        page.fill("#password", PASSWORD)
        page.click("form button:has-text('Log in')")
        page.wait_for_url(server.url + "/")
        page.goto(analysis_url)
        assert assert_images_loaded(page, "#reverse-search") == 2
        frame = page.locator("#reverse-search ul.keyframes a.zoom").first
        frame.scroll_into_view_if_needed()
        capture(page, shots, "key-frames-touch")
        page.set_viewport_size(PHONE)
        frame.tap()
        dialog = page.locator("dialog#zoom")
        assert dialog.is_visible()
        big = dialog.locator(".zoom-body img")
        box = big.bounding_box()
        assert box["width"] >= 0.8 * PHONE["width"] - 40  # enlarged: nearly the screen
        assert lens_shown(page) is None  # a tap does not leave a lens behind
        page.screenshot(path=str(shots / "magnifier-phone.png"))
        big.tap()
        assert not dialog.is_visible()
    finally:
        phone.close()
