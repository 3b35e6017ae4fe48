"""The job page's reload in a real browser (Debian's chromium via Playwright) against
``fakelens serve`` whose analyses wait for the test's word (``slow_worker.py``).

A page shown while the job runs polls the job and reloads itself once when it ends. That
reload must not cancel a link the user followed meanwhile (the job ending while the next
page is on its way), and a page shown finished must neither poll nor reload.

The race is not left to timing: the job's status answers and the followed link's answer
are held by the test (``page.route``) and let go in a fixed order. The finished page is
watched for 3 s (two polls' time): a slow machine can only miss a stray poll, never fail."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from browserhelpers import DESKTOP, sign_up, watch_problems
from servers import Service, service_env
from webhelpers import PASSWORD

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

SLOW_SERVE = Path(__file__).with_name("slow_worker.py")
VIDEO = "ffpp_original_004.mp4"
STATUS = "**/api/v1/analyses/*"
DONE = {"status": "done", "stage": "done", "progress": 100}
# the job page's status line, told on the console as it changes: the page cannot be asked
# (page.evaluate) while a navigation is on its way
TELL_STATUS = """document.addEventListener("DOMContentLoaded", () => {
  const stage = document.getElementById("job-stage");
  if (stage) new MutationObserver(() => console.log("job-stage: " + stage.textContent))
    .observe(stage, { childList: true, characterData: true, subtree: true });
});"""


@pytest.fixture
def release(tmp_path: Path) -> Path:
    return tmp_path / "release"


@pytest.fixture
def server(tmp_path: Path, release: Path, model_dir, tiny_detector):
    env = service_env(tmp_path / "data", None, workers=1)
    env.update(SLOW_JOB_RELEASE=str(release), SLOW_JOB_SILENT="0")
    with Service(["serve", "--threads", "1"], env, tmp_path / "serve.log",
                 script=SLOW_SERVE) as service:
        yield service


def until(page, ready, what: str, timeout_s: float = 60) -> None:
    """Wait for ``ready()``. Not with Playwright's own waits: they wait for the
    navigation the test holds to finish."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        assert time.monotonic() < deadline, f"waited in vain for {what}"
        page.wait_for_timeout(50)  # lets Playwright deliver events and routes


def held(page, routes: list, what: str) -> object:
    """The first request ``page.route`` held in ``routes``, once the page has sent it."""
    until(page, lambda: routes, f"the page to ask for {what}")
    return routes[0]


def test_a_link_followed_as_the_job_ends_is_not_cancelled(browser, server, release, videos,
                                                           tiny_detector):
    # the service worker would answer the navigation itself, out of page.route's sight
    context = browser.new_context(viewport=DESKTOP, service_workers="block")
    page = context.new_page()
    problems = watch_problems(page)
    said: list[str] = []
    page.on("console", lambda message: said.append(message.text))
    page.add_init_script(TELL_STATUS)
    try:
        sign_up(page, server.url, PASSWORD)
        statuses: list = []
        page.route(STATUS, lambda route: statuses.append(route))  # the polls wait for us
        page.set_input_files("#file", str(videos / VIDEO))
        page.fill("#frames", "4")
        page.select_option("#model", tiny_detector)
        page.click("button:has-text('Analyse')")
        page.wait_for_url("**/analyses/*")
        job_url = page.url
        assert page.locator("#job").count() == 1  # shown running: it polls
        poll = held(page, statuses, "the job's status")

        # the user follows a link; its page is on its way (held) when the job ends
        followed: list = []
        page.route("**/history", lambda route: followed.append(route))
        # a real click (the mouse: page.click would wait for the held page)
        box = page.locator("nav >> text=History").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        held(page, followed, "the history page")
        poll.fulfill(json=DONE)
        until(page, lambda: any(s.startswith("job-stage: Status: done") for s in said),
              "the page to read it")
        followed[0].continue_()
        page.wait_for_url("**/history")
        assert VIDEO in page.locator("table").inner_text()
        page.unroute("**/history")
        page.unroute(STATUS)

        # the job ends for real; its page, shown running, reloads itself once to the result
        release.touch()
        page.goto(job_url)
        page.wait_for_selector("section.verdict", timeout=240_000)
        status_url = server.url + "/api/v1/analyses/" + job_url.rsplit("/", 1)[1]
        polls: list[str] = []
        page.on("request", lambda r: r.url == status_url and polls.append(r.url))
        # shown finished: no poll, no reload (this document stays; longer than two polls)
        page.evaluate("() => { window.__marker = 1; }")
        assert page.locator("#job").count() == 0
        page.wait_for_timeout(3000)
        assert page.evaluate("() => window.__marker") == 1, "the finished page reloaded itself"
        assert polls == [], polls
        assert page.url == job_url
        assert not problems, problems
    finally:
        release.touch()  # the server's job thread stops waiting
        context.close()
