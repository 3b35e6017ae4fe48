"""Numbers in URLs and forms: every route of the app is walked with ids and pages no
database column can hold (beyond 64 bits), negative and zero: an id that names nothing
is a 404, a page out of range a 422, never a 5xx. Error pages know who is signed in."""

from __future__ import annotations

import typing
from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from forumhelpers import form, member, new_topic, post_ids
from webhelpers import csrf_from, other_client, png_bytes, upload

from fakelens.web.params import MAX_ID, MAX_PAGE

HUGE = 99999999999999999999  # > 2**64
# beyond 64 bits, beyond 63 (SQLite), beyond 31 (PostgreSQL); no row or page has -1 or 0
OUT_OF_RANGE = [HUGE, 2**63, 2**63 - 1, MAX_ID + 1, -1, 0]
# values for the form fields a route requires (so that the request reaches its code)
FORM_VALUES = {"body": "A reply long enough to be posted, about the clip.",
               "title": "A title long enough", "category": "help-me-verify",
               "action": "dismiss", "value": "real", "role": "member"}


def _dependants(dependant) -> Iterator:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def http_routes(app) -> Iterator[tuple[str, str, dict[str, type], dict[str, type], dict]]:
    """(method, path template, path params, query params, required form fields) of every
    HTTP route of the app (the forum's included)."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        fields = [f for d in _dependants(route.dependant) for f in (
            *(("path", f) for f in d.path_params), *(("query", f) for f in d.query_params),
            *(("form", f) for f in d.body_params))]
        path = {f.name: f.field_info.annotation for where, f in fields if where == "path"}
        query = {f.name: f.field_info.annotation for where, f in fields if where == "query"}
        forms = {f.name: FORM_VALUES.get(f.name, "x") for where, f in fields
                 if where == "form" and f.field_info.is_required()}
        for method in sorted(context.methods - {"HEAD"}):
            yield method, context.path, path, query, forms


def is_int(annotation) -> bool:
    return annotation is int or int in typing.get_args(annotation)


@pytest.fixture
def site(client):
    """The app with an admin (the first account), and a normal member signed in who has
    an analysis, a topic and a post: the ids the other parameters of a route take."""
    member(client, "ada")
    mia = member(client, "mia")
    token = csrf_from(mia.get("/account").text)
    analysis = upload(mia, {"X-CSRF-Token": token}).json()["id"]
    topic = new_topic(mia, "Is this clip real?", "The lips look odd to me, what do you think?")
    post = post_ids(mia, topic)[0]
    base = {"analysis_id": analysis, "topic_id": topic, "post_id": post, "username": "mia",
            "slug": "help-me-verify", "tag": "interview", "share_id": "nosuchshare"}
    return mia, token, base


def _value(name: str, annotation, base: dict) -> object:
    if name in base:
        return base[name]
    if typing.get_origin(annotation) is typing.Literal:
        return typing.get_args(annotation)[0]
    return 0 if is_int(annotation) else "x"


def test_no_route_fails_on_numbers_out_of_range(site):
    mia, token, base = site
    tried: list[str] = []
    for method, template, path, query, forms in http_routes(mia.app):
        params = {name: _value(name, kind, base) for name, kind in path.items()}
        cases = [("path", name) for name, kind in path.items() if is_int(kind)]
        cases += [("query", name) for name, kind in query.items() if is_int(kind)]
        for where, name in cases:
            for value in [*OUT_OF_RANGE, MAX_ID]:
                url = template.format(**(params | {name: value} if where == "path" else params))
                query_string = {name: str(value)} if where == "query" else None
                if method == "GET":
                    response = mia.get(url, params=query_string, follow_redirects=False)
                else:
                    response = mia.request(method, url, params=query_string,
                                           data={"csrf_token": token, **forms},
                                           headers={"X-CSRF-Token": token},
                                           follow_redirects=False)
                tried.append(f"{method} {url} {query_string or ''}")
                assert response.status_code < 500, (tried[-1], response.text[:500])
                if value == MAX_ID:
                    continue  # in range: a page past the end, a post that does not exist
                if where == "path":  # an id that cannot exist names nothing
                    assert response.status_code == 404, (tried[-1], response.text[:500])
                else:
                    assert response.status_code == 422, (tried[-1], response.text[:500])
                    assert name in response.text
    walked = {t.split("?")[0].split()[1].split("/")[1] for t in tried}
    assert {"api", "account", "analyses", "history", "forum"} <= walked, walked
    assert len(tried) >= 100, len(tried)


def test_the_examples_of_the_issue(site):
    mia, token, base = site
    for url in (f"/forum/t/{HUGE}", f"/forum/p/{HUGE}", f"/forum/p/{HUGE}/edit"):
        response = mia.get(url)
        assert response.status_code == 404 and "text/html" in response.headers["content-type"]
    for url in (f"/history?page={HUGE}", f"/forum/t/{base['topic_id']}?quote={HUGE}",
                f"/forum?page={MAX_PAGE + 1}", f"/forum/notifications?page={HUGE}"):
        assert mia.get(url).status_code == 422, url
    response = mia.get(f"/api/v1/analyses?page={HUGE}")
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"
    for url in (f"/forum/p/{HUGE}/like", f"/forum/p/{HUGE}/flag", f"/forum/p/{HUGE}/delete",
                f"/forum/t/{HUGE}/reply", f"/account/tokens/{HUGE}/revoke",
                f"/account/sessions/{HUGE}/revoke"):
        assert form(mia, "/account", url, body="a reply long enough").status_code == 404, url
    # the id a reply quotes comes in a form field
    topic = f"/forum/t/{base['topic_id']}"
    for reply_to in (str(HUGE), str(MAX_ID + 1), "-1", "²"):
        response = form(mia, topic, topic + "/reply", body="A reply long enough to post.",
                        reply_to=reply_to)
        assert response.status_code == 422, (reply_to, response.text[:300])
    assert len(post_ids(mia, base["topic_id"])) == 1  # none of them was posted
    response = form(mia, topic, topic + "/reply", body="A reply long enough to post.",
                    reply_to=str(MAX_ID))  # in range, no such post
    assert response.status_code in (400, 422)
    assert "quoted post is not in this topic" in response.text
    response = form(mia, topic, topic + "/reply", body="A reply long enough to post.",
                    reply_to=str(base["post_id"]))
    assert response.status_code == 303


def test_the_bounds_are_in_the_api_description(client):
    spec = client.get("/openapi.json").json()
    page = next(p for p in spec["paths"]["/api/v1/analyses"]["get"]["parameters"]
                if p["name"] == "page")
    assert page["schema"]["minimum"] == 1 and page["schema"]["maximum"] == MAX_PAGE


def test_error_pages_know_who_is_signed_in(site):
    mia, token, base = site
    anonymous = other_client(mia)
    for url, status in ((f"/forum/t/{HUGE}", 404), ("/no-such-page", 404),
                        (f"/forum/t/{base['topic_id']}?page=0", 422),
                        (f"/forum/t/{base['topic_id']}?page=9", 404)):
        response = mia.get(url)
        assert response.status_code == status, url
        assert 'action="/logout"' in response.text and 'href="/login"' not in response.text
        assert 'href="/account"' in response.text, url  # the signed-in nav
        response = anonymous.get(url)
        assert response.status_code == status, url
        assert 'href="/login"' in response.text and 'action="/logout"' not in response.text


@pytest.mark.parametrize("frames", ["²", "٣", "-1", "0", str(HUGE), "1e3"])
def test_frames_of_an_upload_are_ascii_whole_numbers(site, frames):
    """Unicode digits pass str.isdigit(): "²" made int() fail (a 500), "٣" read as 3."""
    mia, token, base = site
    response = upload(mia, {"X-CSRF-Token": token}, frames=frames)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    page = mia.post("/analyses", data={"csrf_token": token, "frames": frames},
                    files={"file": ("clip.png", png_bytes(), "image/png")})
    assert page.status_code == 422 and "Frames must be" in page.text
