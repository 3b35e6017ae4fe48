"""Helpers of the forum tests: members with their own browsers (cookie jars), forms
posted with the page's CSRF token."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from webhelpers import csrf_from, other_client, register

from fakelens.db.tables import User


def member(client: TestClient, name: str, role: str | None = None) -> TestClient:
    """A new browser with a new account ``name`` (the app's first account is the admin);
    ``role``: set directly in the database."""
    browser = other_client(client)
    assert register(browser, f"{name}@example.org", username=name).status_code == 303
    if role is not None:
        with client.app.state.sessions() as db:
            db.scalar(select(User).where(User.username == name)).role = role
            db.commit()
    return browser


def form(browser: TestClient, page_url: str, target: str, **data):
    """Post ``data`` to ``target`` with the CSRF token of ``page_url`` (as a browser
    would after loading that page)."""
    token = csrf_from(browser.get(page_url).text)
    return browser.post(target, data={"csrf_token": token, **data}, follow_redirects=False)


def new_topic(browser: TestClient, title: str, body: str, category: str = "help-me-verify",
              tags: str = "") -> int:
    response = form(browser, "/forum/new", "/forum/topics", category=category, title=title,
                    body=body, tags=tags)
    assert response.status_code == 303, response.text
    return int(re.fullmatch(r"/forum/t/(\d+)", response.headers["location"])[1])


def reply(browser: TestClient, topic_id: int, body: str, reply_to: int | None = None):
    data = {"body": body}
    if reply_to is not None:
        data["reply_to"] = str(reply_to)
    return form(browser, f"/forum/t/{topic_id}", f"/forum/t/{topic_id}/reply", **data)


def post_ids(browser: TestClient, topic_id: int) -> list[int]:
    """The ids of the topic's posts, in order (from the page's data-post-id)."""
    return [int(i) for i in re.findall(r'data-post-id="(\d+)"',
                                       browser.get(f"/forum/t/{topic_id}").text)]
