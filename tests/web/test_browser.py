"""The whole flow in a real browser (Debian's chromium driven by Playwright) against the
real server (``fakelens serve`` in a subprocess): register, upload a video, watch the
progress, read the verdict and the timeline, download the JSON report, log out.

Every page is captured at desktop and phone width (375 px) into ``FAKELENS_SCREENSHOTS``
(default: the test's temporary dir); at phone width no page may scroll sideways."""

from __future__ import annotations

from pathlib import Path

import pytest
from browserhelpers import DESKTOP, capture, log_in_after_sign_up
from servers import Service, service_env
from webhelpers import PASSWORD

from fakelens.types import Analysis

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

VIDEO = "ffpp_original_004.mp4"


@pytest.fixture
def server(tmp_path: Path, model_dir, tiny_detector):
    env = service_env(tmp_path / "data", None, workers=1)
    with Service(["serve", "--threads", "1"], env, tmp_path / "serve.log") as service:
        yield service


def test_register_upload_result_download_logout(browser, server, shots, videos,
                                                tiny_detector, tmp_path):
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []  # script errors, CSP violations, failed requests
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    try:
        page.goto(server.url + "/register")
        capture(page, shots, "register")
        page.fill("#email", "alice@example.org")
        page.fill("#username", "alice")
        page.fill("#password", PASSWORD)
        page.click("button:has-text('Create account')")
        log_in_after_sign_up(page, server.url, PASSWORD)

        capture(page, shots, "upload")
        page.set_input_files("#file", str(videos / VIDEO))
        page.fill("#frames", "4")
        page.select_option("#model", tiny_detector)
        page.click("button:has-text('Analyse')")
        page.wait_for_url("**/analyses/*")
        assert page.locator("h1").inner_text() == VIDEO

        # the job page shows the progress and reloads itself once the analysis is done
        assert page.locator("#job-progress").count() == 1, "no progress shown"
        capture(page, shots, "progress", reloads=True)
        page.wait_for_selector("section.verdict, .alert", timeout=240_000)
        assert page.locator(".alert").count() == 0, page.locator(".alert").inner_text()
        verdict = page.locator("section.verdict h2").inner_text()
        assert verdict in ("Likely manipulated", "No sign found by these detectors", "Uncertain")
        assert page.locator("svg.timeline").is_visible()
        assert page.locator("svg.timeline circle").count() >= 1
        assert "Face 1" in page.locator("table.cards").last.inner_text()  # the faces
        provenance = page.locator("#provenance").inner_text()
        assert "No content credentials" in provenance and "Converter: FFmpeg" in provenance
        capture(page, shots, "result")

        with page.expect_download() as info:
            page.click("text=Download the JSON result")
        download = info.value
        assert download.suggested_filename == "fakelens-ffpp_original_004_mp4.json"
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        report = Analysis.model_validate_json(saved.read_text())
        assert report.media.path == VIDEO and report.frames_sampled == 4
        assert [m.name for m in report.models] == [tiny_detector]

        page.click("nav >> text=History")
        page.wait_for_url("**/history")
        assert VIDEO in page.locator("table").inner_text()
        capture(page, shots, "history")
        page.click("nav >> text=Account")
        page.wait_for_url("**/account")
        assert "alice@example.org" in page.content()
        page.fill("#token-name", "laptop script")
        page.click("button:has-text('Create token')")
        assert len(page.locator("#new-token").input_value()) > 40  # shown once
        assert "laptop script" in page.locator("table").first.inner_text()  # tokens
        capture(page, shots, "account")

        page.click("form[action='/logout'] button")
        page.wait_for_url("**/login")
        capture(page, shots, "login")
        page.goto(server.url + "/history")
        assert "/login" in page.url  # logged out: pages lead to the login form
        assert not problems, problems
    finally:
        context.close()
