"""Account rules: password strength (zxcvbn, with its common-password dictionaries),
e-mail syntax (email-validator, no DNS), the registration limit, and the login limits kept
in the database: exponential backoff per (account, address), and address- or
account-wide limits that stop guessers but let a known address log in with the right
password (a newsroom behind one NAT address)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from webhelpers import PASSWORD, csrf_from, register

from fakelens.db.auth_tables import AuthThrottle
from fakelens.db.tables import utcnow
from fakelens.web import throttle
from fakelens.web.credentials import normalize_email, password_problems
from fakelens.web.routes import auth

NAT = "203.0.113.10"


def browser_at(client: TestClient, ip: str) -> TestClient:
    """A new browser on ``client``'s app, calling from address ``ip``."""
    return TestClient(client.app, client=(ip, 40000))


def login(client, email, password=PASSWORD):
    token = csrf_from(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token}, follow_redirects=False)


@pytest.mark.parametrize("password", [" " * 10, "aaaaaaaaaa", "password12", "qwertyuiop",
                                      "alice12345", "1234567890", "iloveyou12"])
def test_weak_passwords_are_refused(client, password):
    response = register(client, "alice@example.org", password=password, username="alice")
    assert response.status_code == 400
    assert "password" in response.text.lower()
    assert password_problems(password, "alice@example.org", "alice")


def test_strong_password_is_accepted():
    assert password_problems(PASSWORD, "alice@example.org", "alice") == []
    assert password_problems("Tr0ub4dor&3-violet", "a@example.org", "a") == []
    assert password_problems("x" * 1024 + "Q7!vz") != []  # long but a repeat


@pytest.mark.parametrize("email", ["a b@c d", "<img>@x", "alice@", "@example.org",
                                   "alice@@example.org", "alice@example", "al ice@example.org"])
def test_invalid_addresses_are_refused(client, email):
    assert normalize_email(email) is None
    response = register(client, email, username="alice")
    assert response.status_code == 400 and "valid e-mail address" in response.text


def test_valid_address_is_normalised(client):
    assert normalize_email("  Alice.Smith@Example.ORG ") == "alice.smith@example.org"
    assert register(client, "Alice.Smith@Example.ORG", username="alice").status_code == 303


def test_registrations_are_limited_per_address(app_factory):
    client = app_factory(registrations_per_hour=2)
    codes = [register(browser_at(client, "198.51.100.1"), f"user{i}@example.org").status_code
             for i in range(3)]
    assert codes == [303, 303, 429]
    assert register(browser_at(client, "198.51.100.2"), "user9@example.org").status_code == 303


def test_backoff_schedule_doubles_from_one_second():
    settings = SimpleNamespace(login_free_failures=2)
    assert throttle._lock_for(2, settings) is None
    assert [throttle._lock_for(n, settings) for n in (3, 4, 5)] == [
        timedelta(seconds=1), timedelta(seconds=2), timedelta(seconds=4)]
    assert throttle._lock_for(60, settings) == throttle.MAX_LOCK


def test_backoff_per_account_and_address(app_factory, monkeypatch):
    # The first lock lasts 1 s (the schedule is checked above): on a loaded machine the
    # next attempts can come after it. A long lock keeps this test on who is locked out.
    monkeypatch.setattr(throttle, "_lock_for", lambda failures, settings: (
        timedelta(minutes=15) if failures > settings.login_free_failures else None))
    client = app_factory(login_free_failures=2)
    register(browser_at(client, "198.51.100.1"), "alice@example.org")
    attacker = browser_at(client, NAT)
    codes = [login(attacker, "alice@example.org", "wrong password!").status_code
             for _ in range(4)]
    assert codes == [400, 400, 400, 429]  # two free mistakes, then locked (1 s, 2 s ...)
    response = login(attacker, "alice@example.org")
    assert response.status_code == 429 and int(response.headers["retry-after"]) >= 1
    # the owner elsewhere is not locked out
    assert login(browser_at(client, "192.0.2.50"), "alice@example.org").status_code == 303
    # once the lock is over, the right password works and clears the count
    with client.app.state.sessions() as db:
        db.execute(update(AuthThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
        db.commit()
    assert login(attacker, "alice@example.org").status_code == 303
    assert login(browser_at(client, NAT), "alice@example.org", "wrong again!").status_code == 400


def test_guesses_behind_a_nat_do_not_lock_out_colleagues(app_factory):
    client = app_factory(login_per_minute=3)
    for name in ("alice", "bob", "carol"):
        register(browser_at(client, "198.51.100.1"), f"{name}@example.org")
    # alice and bob have logged in from the newsroom before
    assert login(browser_at(client, NAT), "alice@example.org").status_code == 303
    assert login(browser_at(client, NAT), "bob@example.org").status_code == 303
    guesser = browser_at(client, NAT)
    codes = [login(guesser, f"nobody{i}@example.org", "bad password").status_code
             for i in range(4)]
    assert codes == [400, 400, 400, 429]
    assert login(guesser, "carol@example.org", "bad password").status_code == 429
    # right passwords of known accounts still work from the limited address
    assert login(browser_at(client, NAT), "alice@example.org").status_code == 303
    assert login(browser_at(client, NAT), "bob@example.org").status_code == 303
    # a wrong one for a known account is only a mistake (counted for that pair)
    assert login(browser_at(client, NAT), "bob@example.org", "bad password").status_code == 400


def test_account_wide_limit_spares_known_addresses(app_factory):
    client = app_factory(login_account_failures=3)
    register(browser_at(client, "198.51.100.1"), "alice@example.org")
    assert login(browser_at(client, "192.0.2.50"), "alice@example.org").status_code == 303
    for i in range(3):  # a botnet: one guess from each address
        assert login(browser_at(client, f"198.18.0.{i}"), "alice@example.org",
                     "bad password").status_code == 400
    assert login(browser_at(client, "198.18.1.1"), "alice@example.org").status_code == 429
    assert login(browser_at(client, "192.0.2.50"), "alice@example.org").status_code == 303


def test_limits_are_shared_by_server_processes(app_factory):
    first = app_factory(login_per_minute=2)
    second = app_factory(login_per_minute=2)  # another process on the same database
    assert login(browser_at(first, NAT), "x@example.org", "bad password").status_code == 400
    assert login(browser_at(second, NAT), "x@example.org", "bad password").status_code == 400
    assert login(browser_at(first, NAT), "x@example.org", "bad password").status_code == 429


@pytest.mark.parametrize(("limits", "email", "address", "allowed"), [
    # one account from one address: the free mistakes, then the one that starts the lock
    ({"login_free_failures": 3}, lambda i: "alice@example.org", lambda i: NAT, 4),
    # unknown accounts from one address: the address' limit a minute
    ({"login_per_minute": 5}, lambda i: f"nobody{i}@example.org", lambda i: NAT, 5),
    # one account from many addresses (a botnet): the account's limit an hour
    ({"login_account_failures": 4}, lambda i: "alice@example.org",
     lambda i: f"198.18.0.{i}", 4),
], ids=["pair", "address", "account"])
def test_parallel_wrong_passwords_check_no_more_than_the_limit(app_factory, monkeypatch,
                                                                limits, email, address,
                                                                allowed):
    """30 wrong passwords at once: the limits hold for each of them (the attempt is counted
    before its password is checked), not only for those that come after the first failures
    were recorded. Counted: the password checks actually made."""
    client = app_factory(**{"login_per_minute": 1000, "login_free_failures": 1000,
                            "login_account_failures": 1000, **limits})
    register(browser_at(client, "198.51.100.1"), "alice@example.org")
    real, checks, lock = auth.verify_password, [], threading.Lock()

    def slow_verify(password_hash, password):
        with lock:
            checks.append(password)
        time.sleep(0.2)  # widens the window between the limit's check and its record
        return real(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", slow_verify)
    # The pair's first lock lasts 1 s: on a loaded machine 30 attempts spread over more
    # than that, and a check after the lock ends is allowed. A long lock keeps the test on
    # what it checks (counted before checked), not on the backoff schedule.
    monkeypatch.setattr(throttle, "_lock_for", lambda failures, settings: (
        timedelta(minutes=15) if failures > settings.login_free_failures else None))
    n = 30
    browsers = [browser_at(client, address(i)) for i in range(n)]
    tokens = [csrf_from(b.get("/login").text) for b in browsers]
    barrier, codes = threading.Barrier(n), [0] * n

    def attempt(i: int) -> None:
        barrier.wait()
        codes[i] = browsers[i].post("/login", data={
            "email": email(i), "password": "wrong password!", "csrf_token": tokens[i]},
            follow_redirects=False).status_code

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(set(codes)) == [400, 429], codes
    assert len(checks) == codes.count(400) <= allowed, codes
