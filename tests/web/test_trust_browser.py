"""First use and trust in a real browser (Debian's chromium, Playwright) against
``fakelens serve`` with the shipped detectors, at 1366 and 375 px: the public landing
page, the result page with its caveats, detector table and key-frame strip, delete with
confirmation and restore, the installable app (manifest, service worker, share target),
and /docs with every request outside the server blocked.

Screenshots go to ``FAKELENS_SCREENSHOTS`` (default: the test's temporary dir)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browserhelpers import DESKTOP, PHONE, assert_no_sideways_scroll, capture, log_in_after_sign_up
from servers import Service, service_env
from webhelpers import PASSWORD

from fakelens.models.registry import get_detector, installed_detectors

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

VIDEO = "talking_head_d0.mp4"


@pytest.fixture
def server(tmp_path: Path, model_dir):
    env = service_env(tmp_path / "data", None, workers=1)
    env.pop("FAKELENS_WEIGHTS_DIR", None)  # the shipped detectors and their model cards
    with Service(["serve", "--threads", "1"], env, tmp_path / "serve.log") as service:
        yield service


def watch(page) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    return problems


def test_docs_render_offline(browser, server, shots):
    context = browser.new_context(viewport=DESKTOP)
    blocked: list[str] = []

    def only_the_server(route):
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_server)
    page = context.new_page()
    try:
        page.goto(server.url + "/docs")
        page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
        assert "fakelens" in page.locator(".swagger-ui .info .title").inner_text()
        assert page.locator(".opblock").count() > 3
        assert not blocked, blocked
        capture(page, shots, "docs")
    finally:
        context.close()


def test_first_use_landing_upload_result_delete_share(browser, server, shots, videos):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    problems = watch(page)
    try:
        # anonymous: the landing page says what fakelens is, with the model cards' figures
        page.goto(server.url + "/")
        assert "/login" not in page.url
        reliability = page.locator("#reliability").inner_text()
        for name in installed_detectors():
            for acc in get_detector(name).config.accuracy_by_media():
                assert all(figure in reliability for figure in acc.figures.values())
        assert page.locator("a[href='/forum']").first.is_visible()
        assert page.locator("#sample section.verdict").is_visible()
        capture(page, shots, "landing")

        page.click("text=Create a free account")
        page.fill("#email", "fact@example.org")
        page.fill("#username", "checker")
        page.fill("#password", PASSWORD)
        page.click("button:has-text('Create account')")
        log_in_after_sign_up(page, server.url, PASSWORD)

        # the upload page: explained options, camera capture, installable app
        assert page.locator("#frames-help").is_visible() and page.locator("#model-help").count()
        assert page.locator("input#camera[capture]").count() == 1
        manifest = page.evaluate("fetch(document.querySelector('link[rel=manifest]').href)"
                                 ".then(r => r.json())")
        assert manifest["share_target"]["action"] == "/share-target"
        scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
        assert scope == server.url + "/"
        capture(page, shots, "upload")

        page.set_input_files("#file", str(videos / VIDEO))
        page.fill("#frames", "6")
        page.click("button:has-text('Analyse')")
        page.wait_for_url("**/analyses/*")
        analysis_url = page.url
        page.wait_for_selector("section.verdict, .alert", timeout=400_000)
        assert page.locator(".alert").count() == 0, page.locator(".alert").inner_text()

        # the verdict with its caveats and the detector that decided
        verdict = page.locator("section.verdict").first
        card = verdict.inner_text()
        assert "Evidence, not proof" in card and "uncertain from" in card
        decided = page.locator("table.detectors tr.decided strong").inner_text().split()[0]
        for figure in get_detector(decided).config.accuracy_on("video").figures.values():
            assert figure in card  # a video: its detector's video figures
        rows = page.locator("table.detectors tbody tr")
        assert rows.count() >= 1
        strip = page.locator("#key-frames ul.strip a.zoom")
        assert strip.count() >= 2
        assert re.fullmatch(r"\d\.\d\d", page.locator("#key-frames .frame-score").first
                            .inner_text())
        assert page.locator("#timeline, svg.timeline").count() >= 1
        strip.first.click()
        dialog = page.locator("dialog#zoom")
        assert dialog.is_visible() and dialog.locator("img").count() == 2
        page.screenshot(path=str(shots / "zoom-desktop.png"))
        page.keyboard.press("Escape")
        assert not dialog.is_visible()
        capture(page, shots, "result")

        # the HTML report fits a phone too
        report = page.request.get(analysis_url.replace("/analyses/", "/api/v1/analyses/")
                                  + "/report.html")
        phone = context.new_page()
        phone.set_viewport_size(PHONE)
        phone.set_content(report.text())
        assert_no_sideways_scroll(phone, "report.html")
        phone.screenshot(path=str(shots / "report-phone.png"), full_page=True)
        phone.close()

        # delete asks first, says what happens, and can be undone
        page.click("#delete-link")
        page.wait_for_url("**/delete")
        assert "trash" in page.locator("main").inner_text()
        capture(page, shots, "delete")
        page.click("button:has-text('Move to the trash')")
        page.wait_for_url("**/history*")
        assert "is in the trash" in page.locator(".notice").inner_text()
        assert VIDEO in page.locator("#trash").inner_text()
        capture(page, shots, "trash")
        page.click("#trash button:has-text('Restore')")
        page.wait_for_url(analysis_url)
        assert page.locator("section.verdict").first.is_visible()

        # offline, the service worker shows its offline page: results are never cached
        context.set_offline(True)
        page.goto(analysis_url)
        assert "You are offline" in page.locator("h1").inner_text()
        assert page.locator("section.verdict").count() == 0
        context.set_offline(False)

        # a video shared from another app lands on its own analysis
        shared = page.request.post(server.url + "/share-target", max_redirects=0, multipart={
            "file": {"name": "from-gallery.mp4", "mimeType": "video/mp4",
                     "buffer": (videos / VIDEO).read_bytes()}})
        assert shared.status == 303, shared.text()
        page.goto(server.url + shared.headers["location"])
        assert page.locator("h1").inner_text() == "from-gallery.mp4"
        assert not problems, problems
    finally:
        context.close()
