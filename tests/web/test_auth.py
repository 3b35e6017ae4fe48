"""Accounts: registration, login/logout with session cookies and CSRF, argon2 passwords,
login rate limit, API tokens stored hashed, created and revoked on the account page."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select
from webhelpers import PASSWORD, create_token, csrf_from, other_client, register

from fakelens.db.tables import ApiToken, User


def login(client, email, password=PASSWORD, next_="/"):
    token = csrf_from(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password, "next": next_,
                                       "csrf_token": token}, follow_redirects=False)


def db_session(client):
    return client.app.state.sessions()


def test_register_login_logout(client):
    response = register(client, "Alice@Example.org", log_in=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/account", follow_redirects=False).status_code == 303  # not logged in
    page = client.get("/login").text
    assert 'value="alice@example.org"' in page and "log in with the password you chose" in page
    response = login(client, "alice@example.org")
    cookie = response.headers["set-cookie"].lower()
    assert "fakelens_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "alice@example.org" in client.get("/account").text

    page = client.get("/")
    response = client.post("/logout", data={"csrf_token": csrf_from(page.text)},
                           follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/account", follow_redirects=False).status_code == 303

    assert login(client, "alice@example.org").status_code == 303
    assert client.get("/account").status_code == 200


def test_passwords_are_hashed_with_argon2(client):
    register(client, "alice@example.org")
    with db_session(client) as db:
        user = db.scalar(select(User))
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_registration_errors(client):
    register(client, "alice@example.org")
    fresh = other_client(client)
    response = register(fresh, "alice@example.org", username="alice")
    assert response.status_code == 400 and "username is taken" in response.text  # public
    response = register(fresh, "bob@example.org", password="short")
    assert response.status_code == 400 and "at least 10 characters" in response.text
    response = register(fresh, "not-an-address")
    assert response.status_code == 400 and "valid e-mail" in response.text


def _signed_up_page(browser, email: str, username: str, password: str) -> tuple[int, str]:
    """Sign up and follow to where it leads: (status of the sign-up, that page's text with
    the address and its per-session tokens taken out)."""
    response = register(browser, email, password=password, username=username, log_in=False)
    page = browser.get(response.headers.get("location", "/register")).text
    return response.status_code, re.sub(r'value="[^"]*"', "", page.replace(email.lower(), "EMAIL"))


def test_sign_up_does_not_tell_whether_an_address_is_registered(client):
    register(other_client(client), "alice@example.org")
    taken_browser, free_browser = other_client(client), other_client(client)
    other_password = "purple tractor sings loudly"
    taken = _signed_up_page(taken_browser, "Alice@Example.org", "mallory", other_password)
    free = _signed_up_page(free_browser, "newcomer@example.org", "newcomer", other_password)
    assert taken == free and taken[0] == 303
    assert "If EMAIL had no account, it has one now" in taken[1]
    for browser in (taken_browser, free_browser):  # no session from either answer
        assert browser.get("/account", follow_redirects=False).status_code == 303
    # the registered account is untouched: its password, and no second account
    assert login(other_client(client), "alice@example.org", other_password).status_code == 400
    assert login(other_client(client), "alice@example.org").status_code == 303
    assert login(other_client(client), "newcomer@example.org",
                 other_password).status_code == 303
    with db_session(client) as db:
        assert sorted(db.scalars(select(User.username))) == ["alice", "newcomer"]


@pytest.mark.parametrize("name", ["admin", "Admin", "MODERATOR", "fakelens", "root",
                                  "Support", "admin_2", "root1", "fakelens_team", "mod"])
def test_reserved_usernames_are_refused(client, name):
    response = register(client, "someone@example.org", username=name)
    assert response.status_code == 400 and "This username is reserved" in response.text
    assert register(client, "someone@example.org", username="administrable").status_code == 303


def test_log_out_everywhere_keeps_or_revokes_api_tokens(client):
    register(client, "alice@example.org")
    token = create_token(client)
    headers = {"Authorization": f"Bearer {token}"}
    page = client.get("/account").text
    assert "programs using an API token keep working" in page
    assert "Log out everywhere and revoke all API tokens" in page
    response = client.post("/account/sessions/revoke-all", data={
        "csrf_token": csrf_from(page), "tokens": "keep"}, follow_redirects=False)
    assert response.status_code == 303
    assert "API tokens still work" in client.get(response.headers["location"]).text
    assert client.get("/account", follow_redirects=False).status_code == 303
    api = other_client(client)
    assert api.get("/api/v1/analyses", headers=headers).status_code == 200

    login(client, "alice@example.org")
    response = client.post("/account/sessions/revoke-all", data={
        "csrf_token": csrf_from(client.get("/account").text), "tokens": "revoke"},
        follow_redirects=False)
    assert response.status_code == 303
    assert "every API token of the account was revoked" in client.get(
        response.headers["location"]).text
    assert client.get("/account", follow_redirects=False).status_code == 303
    assert api.get("/api/v1/analyses", headers=headers).status_code == 401


def test_lockout_keeps_the_form_and_counts_seconds_properly(app_factory):
    client = app_factory(login_free_failures=1)
    register(other_client(client), "alice@example.org")
    for _ in range(12):  # one free mistake, then locks of 1, 2, 4 ... s (any machine speed)
        response = login(client, "alice@example.org", "wrong password!")
        if response.status_code == 429:
            break
        assert response.status_code == 400
    assert response.status_code == 429 and int(response.headers["retry-after"]) >= 1
    assert re.search(r"try again in (1 second|[2-9] seconds)\.", response.text), response.text
    assert "1 seconds" not in response.text
    assert 'action="/login"' in response.text and 'value="alice@example.org"' in response.text
    from fakelens.web.routes.auth import wait_words

    assert [wait_words(s) for s in (0.2, 1, 2, 59.5, 60, 61, 125, 900)] == [
        "1 second", "1 second", "2 seconds", "1 minute", "1 minute", "1 minute 1 second",
        "2 minutes 5 seconds", "15 minutes"]


def test_wrong_password_and_unknown_user_look_the_same(client):
    register(other_client(client), "alice@example.org")
    wrong = login(client, "alice@example.org", "wrong password!")
    unknown = login(client, "nobody@example.org")
    assert wrong.status_code == unknown.status_code == 400
    assert "Wrong e-mail address or password." in wrong.text
    assert "Wrong e-mail address or password." in unknown.text


def test_forms_need_the_csrf_token(client):
    response = client.post("/register", data={"email": "a@example.org", "password": PASSWORD})
    assert response.status_code == 403
    assert "reload the page" in response.text
    response = client.post("/login", data={"email": "a@example.org", "password": PASSWORD,
                                           "csrf_token": "forged"})
    assert response.status_code == 403


def test_login_rate_limit(app_factory):
    client = app_factory(login_per_minute=3)
    codes = [login(client, "x@example.org", "bad password").status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]
    assert "Too many login attempts" in login(client, "x@example.org").text


def test_login_redirects_only_inside_the_site(client):
    register(other_client(client), "alice@example.org")
    assert login(client, "alice@example.org", next_="/history").headers["location"] == (
        "/history")
    client.cookies.clear()
    assert login(client, "alice@example.org", next_="//evil.example/").headers[
        "location"] == "/"
    client.cookies.clear()
    assert login(client, "alice@example.org", next_="https://evil.example/").headers[
        "location"] == "/"


def test_api_tokens_are_shown_once_and_stored_hashed(alice):
    token = create_token(alice, "my script")
    assert token.startswith("fl_") and len(token) > 40
    page = alice.get("/account").text
    assert "my script" in page and token not in page and token[:10] in page
    with db_session(alice) as db:
        row = db.scalar(select(ApiToken))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.last_used_at is None

    headers = {"Authorization": f"Bearer {token}"}
    anonymous = other_client(alice)
    assert anonymous.get("/api/v1/analyses", headers=headers).status_code == 200
    with db_session(alice) as db:
        assert db.scalar(select(ApiToken)).last_used_at is not None


def test_revoked_tokens_stop_working(alice):
    token = create_token(alice)
    headers = {"Authorization": f"Bearer {token}"}
    with db_session(alice) as db:
        token_id = db.scalar(select(ApiToken.id))
    # another user cannot revoke it
    bob = other_client(alice)
    register(bob, "bob@example.org")
    response = bob.post(f"/account/tokens/{token_id}/revoke",
                        data={"csrf_token": csrf_from(bob.get("/account").text)})
    assert response.status_code == 404
    assert bob.get("/api/v1/analyses", headers=headers).status_code == 200

    response = alice.post(f"/account/tokens/{token_id}/revoke",
                          data={"csrf_token": csrf_from(alice.get("/account").text)},
                          follow_redirects=False)
    assert response.status_code == 303
    response = bob.get("/api/v1/analyses", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_session_cookie_is_signed(client):
    register(client, "alice@example.org")
    forged = other_client(client)
    forged.cookies.set("fakelens_session", "eyJ1c2VyX2lkIjogMX0=.forged.sig")
    assert forged.get("/account", follow_redirects=False).status_code == 303
