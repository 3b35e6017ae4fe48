"""The phone layout (375 px wide) in a real browser (Debian's chromium via Playwright)
against ``fakelens serve``, issue 24 item 9: the forum's topic list (titles on their own
line, no word broken in the middle, the "analysis" pill one line high, the meta line
inside the screen), the account page's session list (the browser's name and "(this
browser)" inside the screen) and a failed upload (its error banner scrolled into view
and focused). Pages are captured at desktop and phone width (``FAKELENS_SCREENSHOTS``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browserhelpers import DESKTOP, PHONE, assert_no_sideways_scroll, capture, log_in_after_sign_up
from fastapi.testclient import TestClient
from forumhelpers import form, new_topic
from servers import Service, service_env
from webhelpers import PASSWORD, create_token, make_settings, register, upload

from fakelens.web.app import create_app

pytestmark = [pytest.mark.slow]

LONG_TITLE = "Is this interview with the transport minister a deepfake or a real recording?"
LONG_TOKEN = "https://example.org/" + "x" * 90  # one word wider than a phone: may break

# every element's box (its text's too: left, right) and the viewport's width
BOXES = """(selector) => ({
  width: window.innerWidth,
  scroll: document.scrollingElement.scrollWidth,
  boxes: [...document.querySelectorAll(selector)].map(el => {
    const r = el.getBoundingClientRect();
    const range = document.createRange();  // the text too, where it overflows the box
    range.selectNodeContents(el);
    const t = range.getBoundingClientRect();
    return {text: el.textContent.trim().slice(0, 60), left: Math.min(r.left, t.left),
            right: Math.max(r.right, t.right), top: r.top, bottom: r.bottom, height: r.height};
  }),
})"""


def assert_inside(page, selector: str, name: str) -> list[dict]:
    found = page.evaluate(BOXES, selector)
    assert found["scroll"] <= found["width"], f"{name}: the page scrolls sideways: {found}"
    assert found["boxes"], f"{name}: nothing matches {selector}"
    for box in found["boxes"]:
        assert box["left"] >= 0 and box["right"] <= found["width"] + 0.5, \
            f"{name}: {box['text']!r} leaves the screen ({box}, width {found['width']})"
    return found["boxes"]


def words_unbroken(page, selector: str) -> list[str]:
    """The words of ``selector``'s elements that the browser broke over two lines."""
    return page.evaluate("""(selector) => {
      const broken = [];
      for (const el of document.querySelectorAll(selector)) {
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const re = /\\S+/g;
          let m;
          while ((m = re.exec(node.data))) {
            if (m[0].length > 30) continue;  // a very long token may break anywhere
            const range = document.createRange();
            range.setStart(node, m.index);
            range.setEnd(node, m.index + m[0].length);
            const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
            if (tops.size > 1) broken.push(m[0]);
          }
        }
      }
      return broken;
    }""", selector)


def sign_up(page, base_url: str, name: str) -> None:
    page.goto(base_url + "/register")
    page.fill("#email", f"{name}@example.org")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Create account')")
    log_in_after_sign_up(page, base_url, PASSWORD)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def serve(data_dir: Path, log: Path) -> Service:
    return Service(["serve", "--threads", "0"], service_env(data_dir, None, workers=0), log)


@pytest.mark.realdata
def test_forum_topic_list_on_a_phone(browser, data_dir, tmp_path, shots, model_dir,
                                     face_image, tiny_detector):
    # Bob shares an analysis (the tiny detector, in the request) and starts two topics
    with TestClient(create_app(make_settings(data_dir, immediate=True))) as site:
        assert register(site, "bob@example.org", username="bob").status_code == 303
        headers = {"Authorization": f"Bearer {create_token(site)}"}
        accepted = upload(site, headers, content=face_image.read_bytes(),
                          filename="interview.jpg", model=tiny_detector)
        assert accepted.status_code == 202, accepted.text
        analysis = accepted.json()["id"]
        shared = form(site, f"/analyses/{analysis}/share", f"/analyses/{analysis}/share",
                      category="help-me-verify", title=LONG_TITLE, body="What do you think?",
                      tags="interview face-swap")
        assert shared.status_code == 303, shared.text
        new_topic(site, "Lip sync on a televised speech, frame by frame analysis",
                  "Look at the mouth.", tags="lip-sync")
        new_topic(site, "A link: " + LONG_TOKEN, "Too long to fit.")

    with serve(data_dir, tmp_path / "serve.log") as server:
        context = browser.new_context(viewport=PHONE)
        try:
            page = context.new_page()
            page.goto(server.url + "/forum")
            assert page.locator("table.topics tbody tr").count() == 3
            page.set_viewport_size(DESKTOP)
            capture(page, shots, "phone-forum-index")
            page.set_viewport_size(PHONE)
            assert_inside(page, "a.topic-title, table.topics .pill, table.topics .help",
                          "forum list")
            assert words_unbroken(page, "a.topic-title, table.topics .help") == []
            line = page.evaluate("parseFloat(getComputedStyle("
                                 "document.querySelector('a.topic-title')).fontSize)")
            for pill in assert_inside(page, "table.topics .pill", "pill"):
                assert pill["height"] <= 1.6 * line, f"the pill is not one line high: {pill}"
            # the meta line ("· by @bob") under the title, whole
            for meta in page.locator("table.topics .help").all():
                assert re.search(r"by @bob\b", meta.inner_text())
        finally:
            context.close()


def test_account_sessions_on_a_phone(browser, data_dir, tmp_path, shots):
    with serve(data_dir, tmp_path / "serve.log") as server:
        context = browser.new_context(viewport=PHONE)
        try:
            page = context.new_page()
            sign_up(page, server.url, "alice")
            page.goto(server.url + "/account")
            assert "(this browser)" in page.locator("#sessions").inner_text()
            page.set_viewport_size(DESKTOP)
            capture(page, shots, "phone-account-sessions")
            page.set_viewport_size(PHONE)
            assert_inside(page, "#sessions td[data-label=Browser] > *, #sessions strong",
                          "sessions")
            assert words_unbroken(page, "#sessions strong") == []
        finally:
            context.close()


def test_failed_upload_error_in_view_on_a_phone(browser, data_dir, tmp_path, shots):
    with serve(data_dir, tmp_path / "serve.log") as server:
        context = browser.new_context(viewport=PHONE)
        try:
            page = context.new_page()
            sign_up(page, server.url, "carol")
            page.set_input_files("#file", files=[{"name": "clip.mp4", "mimeType": "video/mp4",
                                                  "buffer": b"this is not a video at all"}])
            page.locator("#upload-form button:has-text('Analyse')").scroll_into_view_if_needed()
            assert page.evaluate("window.scrollY") > 0  # the banner's place is off the top
            page.click("#upload-form button:has-text('Analyse')")
            alert = page.locator(".alert[role=alert]")
            alert.wait_for()
            for _ in range(300):  # (wait_for_function evaluates a string: refused by the CSP)
                if page.evaluate("() => document.activeElement.matches('.alert')"):
                    break
                page.wait_for_timeout(100)
            else:
                pytest.fail("the error banner is not focused")
            box = page.evaluate("""() => {
              const r = document.querySelector('.alert').getBoundingClientRect();
              return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                      width: window.innerWidth, height: window.innerHeight};
            }""")
            assert -1 <= box["top"] and box["bottom"] <= box["height"] + 1, box
            assert -1 <= box["left"] and box["right"] <= box["width"] + 1, box
            assert_no_sideways_scroll(page, "failed upload")
            page.screenshot(path=str(shots / "phone-upload-error-phone.png"))
        finally:
            context.close()
