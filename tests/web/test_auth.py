"""Accounts: registration, login/logout with session cookies and CSRF, argon2 passwords,
login rate limit, API tokens stored hashed, created and revoked on the account page."""

from __future__ import annotations

import hashlib

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
    response = register(client, "Alice@Example.org")
    assert response.status_code == 303 and response.headers["location"] == "/"
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
    response = register(fresh, "ALICE@example.org")
    assert response.status_code == 400
    assert "exists already" in response.text
    response = register(fresh, "bob@example.org", password="short")
    assert response.status_code == 400 and "at least 10 characters" in response.text
    response = register(fresh, "not-an-address")
    assert response.status_code == 400 and "valid e-mail" in response.text


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
