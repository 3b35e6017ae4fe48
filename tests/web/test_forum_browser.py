"""The forum in a real browser (Debian's chromium via Playwright) against ``fakelens
serve`` in a subprocess, on SQLite and on PostgreSQL.

Three people: Alice (the first account: admin and moderator), Bob and Carol. Bob analyses
a photo and shares it with a hostile title and body; Carol votes and replies quoting him;
Bob is notified, likes and accepts her answer; Carol posts spam, Bob and Dave flag it
until it is hidden; Alice reviews it and silences Carol, who is told and sees why she
cannot reply instead of the form; search finds what was posted.
Every XSS payload must stay inert in the rendered DOM (no dialog, no handler, no
javascript: link); CSRF and authorization hold in the browser too. Pages are captured at
desktop and phone width (``FAKELENS_SCREENSHOTS``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browserhelpers import DESKTOP, capture, log_in_after_sign_up
from servers import Service, service_env
from webhelpers import PASSWORD

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

XSS_TITLE = '<img src=x onerror="window.__xss=1;alert(1)"> Is this portrait real?'
XSS_BODY = ("Please check it. <script>window.__xss=2;alert(2)</script>\n\n"
            "[harmless looking](javascript:window.__xss=3;alert(3)) "
            '<a href="#" onmouseover="alert(4)">hover</a> '
            "![pixel](https://tracker.example/p.gif) **thanks**")
SPAM = "BUY FOLLOWERS NOW at [cheap](https://spam.example) #spamword"
DOM_PROBE = """() => ({
  xss: window.__xss || 0,
  handlers: [...document.querySelectorAll('*')].flatMap(el => [...el.attributes]
      .filter(a => a.name.startsWith('on')).map(a => el.tagName + ' ' + a.name)),
  scripts: [...document.scripts].map(s => s.src || 'inline'),
  badLinks: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))
      .filter(h => /^(javascript|data|vbscript):/i.test(h.trim())),
  foreignImages: [...document.images].map(i => i.getAttribute('src') || '')
      .filter(s => /^(https?:)?\\/\\//.test(s)),
  iframes: document.querySelectorAll('iframe, object, embed').length,
})"""


@pytest.fixture
def server(tmp_path: Path, database_url, model_dir, tiny_detector):
    env = service_env(tmp_path / "data", database_url, workers=1, forum_flag_threshold=2)
    with Service(["serve", "--threads", "1"], env, tmp_path / "serve.log") as service:
        yield service


class Person:
    """One browser context (own cookies) for one account."""

    def __init__(self, browser, server, name: str, dialogs: list[str], problems: list[str]):
        self.name, self.server = name, server
        self.context = browser.new_context(viewport=DESKTOP)
        self.page = self.context.new_page()
        self.page.on("dialog", lambda d: (dialogs.append(f"{name}: {d.message}"), d.dismiss()))
        self.page.on("pageerror", lambda exc: problems.append(f"{name}: {exc}"))

        def console(message) -> None:  # the 403/404 pages the test asks for are expected
            if message.type == "error" and not re.search(r"\b40[34]\b", message.text):
                problems.append(f"{name}: {message.text}")

        self.page.on("console", console)

    def go(self, path: str):
        self.page.goto(self.server.url + path)
        return self.page

    def register(self) -> None:
        page = self.go("/register")
        page.fill("#email", f"{self.name}@example.org")
        page.fill("#username", self.name)
        page.fill("#password", PASSWORD)
        page.click("button:has-text('Create account')")
        log_in_after_sign_up(page, self.server.url, PASSWORD)


def assert_inert(page) -> None:
    found = page.evaluate(DOM_PROBE)
    assert found["xss"] == 0, found
    assert found["handlers"] == [], found
    assert all(src.endswith("/static/app.js") for src in found["scripts"]), found
    assert found["badLinks"] == [] and found["foreignImages"] == [], found
    assert found["iframes"] == 0, found


def test_three_people_share_discuss_flag_and_review(browser, server, shots, videos,
                                                     tiny_detector):
    dialogs: list[str] = []
    problems: list[str] = []
    alice, bob, carol, dave = (Person(browser, server, n, dialogs, problems)
                               for n in ("alice", "bob", "carol", "dave"))
    try:
        for person in (alice, bob, carol, dave):
            person.register()

        # Bob analyses a video and shares the result with a hostile title and body
        page = bob.page
        page.set_input_files("#file", str(videos / "ffpp_original_004.mp4"))
        page.fill("#frames", "4")
        page.select_option("#model", tiny_detector)
        page.click("button:has-text('Analyse')")
        page.wait_for_selector("section.verdict", timeout=120_000)
        assert page.locator("#job").count() == 0  # shown finished: it no longer polls
        page.click("a:has-text('Share on the forum')")
        page.wait_for_url("**/share")
        page.fill("#title", XSS_TITLE)
        page.fill("#body", XSS_BODY)
        page.fill("#tags", "portrait face-swap")
        page.click("button:has-text('Share')")
        page.wait_for_url(re.compile(r".*/forum/t/\d+$"))
        topic_url = page.url.removeprefix(server.url)
        assert page.locator("h1.topic-title").inner_text() == XSS_TITLE
        assert page.locator("#share .thumbs img").count() >= 2  # a face and its heatmap
        assert page.locator("#share svg.timeline").count() == 1
        assert page.locator(".post-body strong").inner_text() == "thanks"
        assert_inert(page)
        capture(page, shots, "forum-topic-shared")

        # Carol finds it in the list, votes FAKE, and replies quoting Bob
        page = carol.go("/forum")
        capture(page, shots, "forum-index")
        page.click(f"a.topic-title[href='{topic_url}']")
        assert_inert(page)
        page.click("form.vote-form button[value=FAKE]")
        page.wait_for_url(f"**{topic_url}*")
        assert page.locator(".vote-count[data-vote=FAKE]").inner_text() == "Fake 1"
        assert page.locator("form.vote-form button[aria-pressed=true]").inner_text() == "Fake"
        page.click("#post-1 >> text=Quote")
        draft = page.locator("#reply-body").input_value()
        assert draft.startswith("> **@bob** wrote (post 1):")
        page.fill("#reply-body", draft + "The left ear is blurred in every frame, @bob.")
        page.click("button:has-text('Post reply')")
        page.wait_for_selector("#post-2")
        assert page.locator("#post-2 blockquote").count() == 1
        assert "in reply to" in page.locator("#post-2 header").inner_text()

        # Bob is notified, follows the link, likes and accepts Carol's answer
        page = bob.go("/forum")
        # quoted and mentioned in one post: one notification
        assert page.locator("#nav-notifications .badge").inner_text() == "1"
        page.click("#nav-notifications")
        assert "@carol quoted your post" in page.locator("ul.notifications").inner_text()
        capture(page, shots, "forum-notifications")
        page.click("ul.notifications a >> nth=0")
        page.wait_for_selector("#post-2")
        page.click("#post-2 button:has-text('Like')")
        page.wait_for_selector("#post-2 button:has-text('Unlike')")
        page.click("#post-2 button:has-text('Accept as answer')")
        page.wait_for_selector("#post-2.accepted")
        assert "Accepted answer" in page.locator("#post-2 header").inner_text()

        # Carol cannot edit Bob's post, nor reach the review queue; a forged form post
        # (her cookie, no CSRF token) does not land
        page = carol.go(topic_url)
        assert page.locator("#post-1 >> text=Edit").count() == 0
        assert carol.go("/forum/review").locator("h1").inner_text() == "Not allowed"
        page = carol.page
        page.set_content(f'<form id="x" method="post" action="{server.url}{topic_url}/reply">'
                         f'<input name="body" value="forged reply"></form>')
        with page.expect_navigation() as forged:  # a form without the session's CSRF token
            page.evaluate("document.getElementById('x').submit()")
        assert forged.value.status == 403
        assert "forged reply" not in carol.go(topic_url).content()

        # Carol spams; Bob and Dave flag it (threshold 2): hidden for everyone else
        page.fill("#reply-body", SPAM)
        page.click("button:has-text('Post reply')")
        page.wait_for_selector("#post-3")
        for person in (bob, dave):
            page = person.go(topic_url)
            page.click("#post-3 summary:has-text('Flag')")
            page.check("#post-3 input[value=spam]")
            page.click("#post-3 button:has-text('Flag post')")
            page.wait_for_selector(".notice")
        assert "hidden until a moderator" in dave.page.locator(".notice").inner_text()
        assert "BUY FOLLOWERS" not in bob.go(topic_url).locator("#post-3").inner_text()

        # Alice reviews the queue and silences Carol
        page = alice.go("/forum")
        assert page.locator("#nav-review .badge").inner_text() == "1"
        page.click("#nav-review")
        assert "BUY FOLLOWERS" in page.locator(".review-item").inner_text()
        capture(page, shots, "forum-review")
        page.click("button:has-text('Hide and silence @carol')")
        page.wait_for_selector("text=Nothing to review")
        page = carol.go(topic_url)
        assert page.locator("#reply-body").count() == 0
        assert "silenced your account until" in page.locator("#reply .alert").inner_text()
        assert "(hidden by a moderator" in page.locator("#post-3").inner_text()
        page = carol.go("/forum/notifications")
        assert "A moderator hid your post" in page.locator(".notifications").inner_text()

        # search finds Carol's reply by a word in it, not the hidden spam
        page = bob.go("/forum")
        page.fill("#q", "blurred ear")
        page.click("form.search button")
        page.wait_for_url("**/forum/search?q=*")
        hits = page.locator("li.hit")
        assert hits.count() == 1 and "Is this portrait real?" in hits.inner_text()
        assert page.locator("li.hit mark").count() >= 1
        capture(page, shots, "forum-search")
        page.fill("#q", "spamword")
        page.click("form.search button")
        assert "Nothing found" in page.content()

        page = alice.go(topic_url)
        assert_inert(page)
        assert dialogs == [], dialogs
        assert problems == [], problems
    finally:
        for person in (alice, bob, carol, dave):
            person.context.close()


def test_two_people_topic_edit_delete_and_authorization(browser, server, shots):
    """Dana opens a topic from the form (tags, hostile link text), Eve replies; Dana edits
    (marked edited) and deletes her reply; Eve sees no edit/delete controls on Dana's posts
    and cannot open her edit page."""
    dialogs: list[str] = []
    problems: list[str] = []
    dana, eve = (Person(browser, server, n, dialogs, problems) for n in ("dana", "eve"))
    try:
        dana.register()
        eve.register()
        page = dana.go("/forum")
        page.click("text=New topic")
        page.select_option("#category", "methods-and-tools")
        page.fill("#title", "Which detectors handle lip-sync fakes?")
        page.fill("#body", 'See [this "paper"](https://example.org/p?a=1&b=<x>) and '
                           "[a trap](javascript:alert(document.cookie)).")
        page.fill("#tags", "lip-sync Datasets")
        page.click("button:has-text('Create topic')")
        page.wait_for_url(re.compile(r".*/forum/t/\d+$"))
        topic_url = page.url.removeprefix(server.url)
        assert page.locator("a.tag").all_inner_texts() == ["#datasets", "#lip-sync"]
        link = page.locator(".post-body a").first
        assert link.get_attribute("href") == "https://example.org/p?a=1&b=%3Cx%3E"
        assert "nofollow" in link.get_attribute("rel")
        assert_inert(page)

        page = eve.go(topic_url)
        assert page.locator("#post-1 >> text=Edit").count() == 0
        assert page.locator("#post-1 button:has-text('Delete')").count() == 0
        page.fill("#reply-body", "Try the **lip-sync** benchmark.")
        page.click("button:has-text('Post reply')")
        page.wait_for_selector("#post-2")
        post_id = page.locator("#post-1").get_attribute("data-post-id")
        assert eve.go(f"/forum/p/{post_id}/edit").locator("h1").inner_text() == "Not allowed"

        page = dana.go(topic_url)
        page.click("#post-1 >> text=Edit")
        page.fill("#body", "See the FaceForensics++ paper instead.")
        page.click("button:has-text('Save')")
        page.wait_for_selector("#post-1 .edited")
        assert "FaceForensics++ paper instead" in page.locator("#post-1 .post-body").inner_text()
        page = eve.go(topic_url)
        page.click("#post-2 button:has-text('Delete')")
        page.wait_for_selector("#post-2 .placeholder")
        assert "lip-sync benchmark" not in page.locator("#post-2").inner_text()
        capture(page, shots, "forum-topic-two-people")
        assert dialogs == [] and problems == [], (dialogs, problems)
    finally:
        for person in (dana, eve):
            person.context.close()
