"""Server-side sessions: the cookie is an opaque random id (the database keeps its hash),
logout and revocation end a copied cookie at once, the account page lists sessions and
logs out everywhere, expired rows are purged, and the cookie is Secure over HTTPS (also
behind a trusted proxy)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from webhelpers import PASSWORD, csrf_from, other_client, register

from fakelens.db.auth_tables import WebSession
from fakelens.db.tables import utcnow
from fakelens.web.sessions import SESSION_COOKIE, purge_expired_sessions


def login(client, email, password=PASSWORD):
    token = csrf_from(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token}, follow_redirects=False)


def copy_of(client: TestClient) -> TestClient:
    """Another browser holding a copy of ``client``'s session cookie."""
    thief = other_client(client)
    thief.cookies.set(SESSION_COOKIE, client.cookies.get(SESSION_COOKIE))
    return thief


def user_rows(client) -> list[WebSession]:
    with client.app.state.sessions() as db:
        return list(db.scalars(select(WebSession).where(WebSession.user_id.is_not(None))))


def test_cookie_is_an_opaque_id_stored_hashed(alice):
    value = alice.cookies.get(SESSION_COOKIE)
    assert len(value) >= 40 and "." not in value and "user_id" not in value
    [row] = user_rows(alice)
    assert row.token_hash == hashlib.sha256(value.encode()).hexdigest()
    assert value not in row.data


def test_logout_ends_a_copied_cookie(alice):
    thief = copy_of(alice)
    assert thief.get("/account").status_code == 200
    response = alice.post("/logout", data={"csrf_token": csrf_from(alice.get("/").text)},
                          follow_redirects=False)
    assert response.status_code == 303
    assert user_rows(alice) == []
    assert thief.get("/account", follow_redirects=False).status_code == 303


def test_login_gives_a_new_id(client):
    register(other_client(client), "alice@example.org")
    client.get("/login")
    before = client.cookies.get(SESSION_COOKIE)
    assert login(client, "alice@example.org").status_code == 303
    assert client.cookies.get(SESSION_COOKIE) != before
    fixated = other_client(client)
    fixated.cookies.set(SESSION_COOKIE, before)
    assert fixated.get("/account", follow_redirects=False).status_code == 303


def test_account_page_lists_and_revokes_sessions(alice):
    laptop = other_client(alice)
    assert login(laptop, "alice@example.org").status_code == 303
    page = alice.get("/account", headers={"user-agent": "PhoneBrowser/1"}).text
    assert "(this browser)" in page and page.count('action="/account/sessions/') == 3
    rows = user_rows(alice)
    assert len(rows) == 2
    laptop_row = next(r for r in rows if r.token_hash == hashlib.sha256(
        laptop.cookies.get(SESSION_COOKIE).encode()).hexdigest())

    # nobody else can revoke it
    bob = other_client(alice)
    register(bob, "bob@example.org")
    response = bob.post(f"/account/sessions/{laptop_row.id}/revoke",
                        data={"csrf_token": csrf_from(bob.get("/account").text)})
    assert response.status_code == 404
    assert laptop.get("/account").status_code == 200

    response = alice.post(f"/account/sessions/{laptop_row.id}/revoke",
                          data={"csrf_token": csrf_from(page)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/account"
    assert laptop.get("/account", follow_redirects=False).status_code == 303
    assert alice.get("/account").status_code == 200


def test_log_out_everywhere(alice):
    laptop = other_client(alice)
    login(laptop, "alice@example.org")
    thief = copy_of(alice)
    response = alice.post("/account/sessions/revoke-all",
                          data={"csrf_token": csrf_from(alice.get("/account").text)},
                          follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == (
        "/login?out=sessions")  # the default: API tokens are kept
    assert "max-age=0" in response.headers["set-cookie"].lower()
    for browser in (alice, laptop, thief):
        assert browser.get("/account", follow_redirects=False).status_code == 303
    assert user_rows(alice) == []


def test_csrf_still_required(alice):
    response = alice.post("/account/sessions/revoke-all", data={"csrf_token": "wrong"})
    assert response.status_code == 403
    response = alice.post("/api/v1/analyses", files={"file": ("a.png", b"x")})
    assert response.json()["error"]["code"] == "csrf_failed"
    assert alice.get("/account").status_code == 200


def test_expired_sessions_end_and_are_purged(alice):
    with alice.app.state.sessions() as db:
        db.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
    assert alice.get("/account", follow_redirects=False).status_code == 303
    with alice.app.state.sessions() as db:
        purge_expired_sessions(db)
        assert db.scalar(select(func.count()).select_from(WebSession)
                         .where(WebSession.expires_at <= utcnow())) == 0


def _cookie_of(client: TestClient, **headers) -> str:
    return client.get("/login", headers=headers).headers["set-cookie"].lower()


def test_secure_cookie_over_https_and_trusted_proxies(app_factory):
    plain = app_factory()
    assert "secure" not in _cookie_of(plain)
    assert "secure" not in _cookie_of(other_client(plain), **{"x-forwarded-proto": "https"})
    https = TestClient(plain.app, base_url="https://testserver")
    assert "; secure" in _cookie_of(https)

    proxied_app = app_factory(trusted_proxies="10.0.0.0/8").app
    via_proxy = TestClient(proxied_app, client=("10.0.0.2", 40000))
    assert "; secure" in _cookie_of(via_proxy, **{"x-forwarded-proto": "https"})
    assert "secure" not in _cookie_of(TestClient(proxied_app, client=("10.0.0.2", 40000)),
                                      **{"x-forwarded-proto": "http"})
    # the header from anyone else is not believed
    stranger = TestClient(proxied_app, client=("192.0.2.7", 40000))
    assert "secure" not in _cookie_of(stranger, **{"x-forwarded-proto": "https"})

    forced = app_factory(secure_cookies=True)
    assert "; secure" in _cookie_of(forced)
    never = TestClient(app_factory(secure_cookies=False).app, base_url="https://testserver")
    assert "secure" not in _cookie_of(never)


def test_client_address_behind_trusted_proxies():
    from fakelens.web.proxies import client_ip

    def scope(peer, forwarded):
        return {"type": "http", "client": (peer, 1),
                "headers": [(b"x-forwarded-for", forwarded.encode())]}

    trusted = "10.0.0.0/8"
    assert client_ip(scope("10.0.0.2", "203.0.113.9"), trusted) == "203.0.113.9"
    # a client cannot pick its address by sending the header itself
    assert client_ip(scope("10.0.0.2", "1.2.3.4, 203.0.113.9"), trusted) == "203.0.113.9"
    assert client_ip(scope("10.0.0.2", "203.0.113.9, 10.0.0.5"), trusted) == "203.0.113.9"
    assert client_ip(scope("192.0.2.7", "203.0.113.9"), trusted) == "192.0.2.7"
    assert client_ip(scope("10.0.0.2", "garbage"), trusted) == "10.0.0.2"
    assert client_ip(scope("10.0.0.2", "203.0.113.9"), "") == "10.0.0.2"


def test_revoking_this_browser_logs_it_out(alice):
    [row] = user_rows(alice)
    response = alice.post(f"/account/sessions/{row.id}/revoke",
                          data={"csrf_token": csrf_from(alice.get("/account").text)},
                          follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert alice.get("/account", follow_redirects=False).status_code == 303


def test_static_files_and_api_tokens_make_no_session(client):
    assert client.get("/static/favicon.svg").status_code == 200
    assert "set-cookie" not in client.get("/static/favicon.svg").headers
    assert "set-cookie" not in client.get("/api/v1/models").headers
    with client.app.state.sessions() as db:
        assert db.scalar(select(func.count()).select_from(WebSession)) == 0
