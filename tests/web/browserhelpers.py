"""Browser helpers of the web tests: Debian's chromium driven by Playwright (the
``browser`` and ``shots`` fixtures live in conftest.py) and full-page captures at desktop
and phone width."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = os.environ.get("FAKELENS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
DESKTOP = {"width": 1366, "height": 800}
PHONE = {"width": 375, "height": 740}


def launch_browser(pw, extra_args: list[str] | None = None):
    return pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=CHROMIUM_ARGS + (extra_args or []))


def assert_no_sideways_scroll(page, name: str) -> None:
    overflow = page.evaluate("Math.max(document.documentElement.scrollWidth"
                             " - document.documentElement.clientWidth,"
                             " document.documentElement.scrollWidth - window.innerWidth)")
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than the screen"


def assert_images_loaded(page, selector: str) -> int:
    """Every ``<img>`` under ``selector`` has loaded once the page has (naturalWidth > 0),
    without scrolling to it: what a full-page capture or a print shows. A lazy image
    below the fold, a 404 or a wrong content type leave it at 0 (a grey box). Returns how
    many images there are."""
    page.wait_for_load_state("load")
    images = page.evaluate("""(selector) => [...document.querySelectorAll(selector + ' img')]
        .map((img) => [img.getAttribute('src'), img.complete, img.naturalWidth])""", selector)
    broken = [(src, complete) for src, complete, width in images if width == 0]
    assert not broken, f"{selector}: images not loaded (src, complete): {broken}"
    return len(images)


def watch_problems(page) -> list[str]:
    """The page's script errors, console errors and failed (>= 400) responses, as they
    happen: a test ends with ``assert not problems, problems``."""
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    return problems


def sign_up(page, base_url: str, password: str, username: str = "alice",
            email: str = "alice@example.org") -> None:
    """Create an account in the browser and log in with it."""
    page.goto(base_url + "/register")
    page.fill("#email", email)
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button:has-text('Create account')")
    log_in_after_sign_up(page, base_url, password)


def log_in_after_sign_up(page, base_url: str, password: str) -> None:
    """Sign-up leads to the login form with the address filled in (it never logs in, so
    that its answer does not tell whether an address is registered): log in there."""
    page.wait_for_url(base_url + "/login")
    page.fill("#password", password)
    page.click("form button:has-text('Log in')")
    page.wait_for_url(base_url + "/")


def capture(page, shots: Path, name: str, reloads: bool = False) -> None:
    """Full-page screenshots at both widths; the phone layout must not scroll sideways.
    ``reloads``: the page may reload itself meanwhile (a job page when the job ends);
    then a capture cut short by the reload is not an error."""
    from playwright.sync_api import Error

    try:
        page.screenshot(path=str(shots / f"{name}-desktop.png"), full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(shots / f"{name}-phone.png"), full_page=True)
        assert_no_sideways_scroll(page, name)
    except Error:
        if not reloads:
            raise
    finally:
        page.set_viewport_size(DESKTOP)


