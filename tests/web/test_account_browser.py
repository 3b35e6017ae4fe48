"""Accounts in a real browser (chromium, Playwright) against ``fakelens serve``: a weak
password is refused with a reason, a strong one creates the account, a second browser
logs in, and "Log out everywhere" on the account page ends both sessions."""

from __future__ import annotations

from pathlib import Path

import pytest
from browserhelpers import DESKTOP, capture, log_in_after_sign_up
from servers import Service, service_env
from webhelpers import PASSWORD

pytestmark = [pytest.mark.slow]


@pytest.fixture
def server(tmp_path: Path):
    env = service_env(tmp_path / "data", None, workers=0)
    with Service(["serve", "--threads", "0"], env, tmp_path / "serve.log") as service:
        yield service


def test_weak_password_then_log_out_everywhere(browser, server, shots):
    phone, laptop = (browser.new_context(viewport=DESKTOP) for _ in range(2))
    try:
        page = phone.new_page()
        page.goto(server.url + "/register")
        page.fill("#email", "alice@example.org")
        page.fill("#username", "alice")
        page.fill("#password", "password12")
        page.click("button:has-text('Create account')")
        assert "very common password" in page.content()
        capture(page, shots, "register-weak-password")
        page.fill("#password", PASSWORD)
        page.click("button:has-text('Create account')")
        log_in_after_sign_up(page, server.url, PASSWORD)

        other = laptop.new_page()
        other.goto(server.url + "/login")
        other.fill("#email", "alice@example.org")
        other.fill("#password", PASSWORD)
        other.click("form[action='/login'] button:has-text('Log in')")
        other.wait_for_url(server.url + "/")

        page.goto(server.url + "/account")
        assert page.locator("#sessions tbody tr").count() == 2
        assert "(this browser)" in page.locator("#sessions").inner_text()
        capture(page, shots, "account-sessions")
        page.click("#log-out-everywhere button[value=keep]")
        page.wait_for_url("**/login?out=sessions")
        assert "API tokens still work" in page.locator(".notice").inner_text()
        for p in (page, other):
            p.goto(server.url + "/account")
            assert "/login" in p.url
    finally:
        phone.close()
        laptop.close()
