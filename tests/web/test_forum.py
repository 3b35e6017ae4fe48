"""The forum through HTTP (every test on SQLite and on PostgreSQL): topics, replies,
quotes, edits, soft deletes, likes, accepted answers, notifications, tags, sorting,
pagination, roles, CSRF and authorization, new-account limits, flags and the review
queue, search. Sharing analyses: test_forum_shares.py; in a browser: test_forum_browser.py."""

from __future__ import annotations

import re

import pytest
from forumhelpers import form, member, new_topic, post_ids, reply
from sqlalchemy import func, select
from webhelpers import other_client, register

from fakelens.db.tables import User
from fakelens.forum.queries import POSTS_PER_PAGE

XSS_TITLE = '<script>alert("title")</script> is this fake?'
XSS_BODY = ('<img src=x onerror=alert(1)> [click](javascript:alert(2)) '
            '<a href="https://e.org" onclick="alert(3)">x</a> '
            '[data](data:text/html;base64,PHNjcmlwdD4=) ![img](https://tracker.example/p.png)'
            ' <iframe src="https://e.org"></iframe> **bold**')


@pytest.fixture
def admin(client):
    return member(client, "ada")  # the first account of the app


@pytest.fixture
def bob(admin, client):
    return member(client, "bob")


@pytest.fixture
def carol(admin, client):
    return member(client, "carol")


def test_first_account_is_admin_and_usernames_are_checked(client, admin, bob):
    with client.app.state.sessions() as db:
        roles = dict(db.execute(select(User.username, User.role)).all())
    assert roles == {"ada": "admin", "bob": "member"}
    fresh = other_client(client)
    response = register(fresh, "bob2@example.org", username="bob")
    assert response.status_code == 400 and "username is taken" in response.text
    response = register(fresh, "bob3@example.org", username="<b>x</b>")
    assert response.status_code == 400 and "username of 3 to 20" in response.text


def test_topic_reply_quote_edit_delete(bob, carol):
    topic_id = new_topic(bob, "Is this interview real?", "Look at the **mouth** @carol.",
                         tags="Lip-Sync interview")
    page = carol.get(f"/forum/t/{topic_id}").text
    assert "Is this interview real?" in page and "<strong>mouth</strong>" in page
    assert 'href="/forum/u/carol"' in page  # the mention is a link
    assert "#lip-sync" in page and "#interview" in page
    opening = post_ids(carol, topic_id)[0]

    # carol quotes bob's post: the reply form is pre-filled and the reply points back
    quoted = carol.get(f"/forum/t/{topic_id}?quote={opening}").text
    assert "&gt; **@bob** wrote (post 1):" in quoted
    response = reply(carol, topic_id, "> **@bob** wrote:\n> mouth\n\nThe teeth blur too.",
                     reply_to=opening)
    assert response.status_code == 303
    assert response.headers["location"] == f"/forum/t/{topic_id}#post-2"
    page = bob.get(f"/forum/t/{topic_id}").text
    assert "<blockquote>" in page and "in reply to" in page

    # notifications: bob for the quote (once, not also as "reply"), carol for the mention
    notes = bob.get("/forum/notifications").text
    assert "@carol quoted your post" in notes and "replied to your topic" not in notes
    assert "@bob mentioned you" in carol.get("/forum/notifications").text
    assert 'aria-label="1 unread"' in bob.get("/forum").text
    form(bob, "/forum/notifications", "/forum/notifications/read")
    assert "unread" not in bob.get("/forum").text.split("<main")[0]

    second = post_ids(bob, topic_id)[1]
    assert form(bob, f"/forum/t/{topic_id}", f"/forum/p/{second}/edit",
                body="changed").status_code == 403  # not bob's post
    assert form(carol, f"/forum/p/{second}/edit", f"/forum/p/{second}/edit",
                body="The teeth blur too, and the ears.").status_code == 303
    page = bob.get(f"/forum/t/{topic_id}").text
    assert "and the ears" in page and 'class="edited"' in page

    # soft delete: readers see a placeholder, the topic's reply count drops
    assert form(carol, f"/forum/t/{topic_id}", f"/forum/p/{second}/delete").status_code == 303
    page = bob.get(f"/forum/t/{topic_id}").text
    assert "and the ears" not in page and "(deleted)" in page
    assert re.search(r'data-label="Replies">0<', bob.get("/forum").text)


def test_opening_post_edit_changes_title_and_delete_removes_topic(bob, carol):
    topic_id = new_topic(bob, "Old title here", "body text")
    opening = post_ids(bob, topic_id)[0]
    form(bob, f"/forum/p/{opening}/edit", f"/forum/p/{opening}/edit", title="New title here",
         body="body text")
    assert "New title here" in carol.get("/forum").text
    form(bob, f"/forum/t/{topic_id}", f"/forum/p/{opening}/delete")
    assert "New title here" not in carol.get("/forum").text
    assert carol.get(f"/forum/t/{topic_id}").status_code == 404


def test_markup_is_sanitized(bob, carol):
    """Hostile titles and bodies come back as text: no script, no event handler, no
    javascript:/data: link, no third-party image, no iframe in the served HTML."""
    topic_id = new_topic(bob, XSS_TITLE, XSS_BODY)
    page = carol.get(f"/forum/t/{topic_id}").text
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    body = page.split('class="post-body">')[1].split("</div>")[0]
    assert "<strong>bold</strong>" in body
    assert not re.search(r"<(script|iframe|img[^>]*tracker)", body)
    assert not re.search(r"<[a-z]+ [^>]*\bon[a-z]+=", body)
    assert not re.search(r'href="(javascript|data):', body)
    listing = carol.get("/forum").text
    assert "<script>alert" not in listing and "&lt;script&gt;" in listing
    link_topic = new_topic(bob, "Links are nofollow", "[x](https://e.org)")
    assert ('<a href="https://e.org" rel="nofollow ugc noopener noreferrer">x</a>'
            in carol.get(f"/forum/t/{link_topic}").text)


def test_csrf_and_authorization(client, admin, bob, carol):
    topic_id = new_topic(bob, "Bob's question", "Is it fake?")
    opening = post_ids(bob, topic_id)[0]
    # no CSRF token, or a wrong one: refused, nothing changes
    response = carol.post(f"/forum/t/{topic_id}/reply", data={"body": "sneaky"},
                          follow_redirects=False)
    assert response.status_code == 403
    response = carol.post(f"/forum/p/{opening}/delete", data={"csrf_token": "forged"},
                          follow_redirects=False)
    assert response.status_code == 403
    assert "sneaky" not in bob.get(f"/forum/t/{topic_id}").text
    assert len(post_ids(bob, topic_id)) == 1
    # another member's post: no edit, no delete, no accept; no review queue, no roles
    assert carol.get(f"/forum/p/{opening}/edit").status_code == 403
    assert form(carol, f"/forum/t/{topic_id}", f"/forum/p/{opening}/delete").status_code == 403
    assert form(carol, f"/forum/t/{topic_id}", f"/forum/p/{opening}/edit",
                body="defaced").status_code == 403
    assert carol.get("/forum/review").status_code == 403
    assert form(carol, "/forum/u/carol", "/forum/u/carol/role",
                role="admin").status_code == 403
    assert form(carol, "/forum", "/forum/topics", category="announcements",
                title="Fake announcement", body="x" * 10).status_code == 403
    # anonymous readers may read but not write
    anonymous = other_client(client)
    assert anonymous.get(f"/forum/t/{topic_id}").status_code == 200
    response = anonymous.post(f"/forum/t/{topic_id}/reply", data={"body": "x"},
                              follow_redirects=False)
    assert response.status_code in (303, 403)
    assert "Is it fake?" in bob.get(f"/forum/t/{topic_id}").text
    # the admin gives carol the moderator role: now she may
    assert form(admin, "/forum/u/carol", "/forum/u/carol/role",
                role="moderator").status_code == 303
    assert carol.get("/forum/review").status_code == 200
    assert form(carol, f"/forum/t/{topic_id}", f"/forum/p/{opening}/edit",
                body="Is it fake? (moderator: fixed a typo)").status_code == 303


def test_likes_accept_and_sorting(bob, carol, client):
    quiet = new_topic(bob, "Quiet topic", "nobody answers")
    busy = new_topic(carol, "Busy topic", "what do you think?")
    reply(bob, busy, "I think it is a face swap.")
    answer = post_ids(bob, busy)[1]
    assert form(bob, f"/forum/t/{busy}", f"/forum/p/{answer}/like").status_code == 403
    assert form(carol, f"/forum/t/{busy}", f"/forum/p/{answer}/like").status_code == 303
    page = carol.get(f"/forum/t/{busy}").text
    assert 'aria-label="1 likes"' in page and "Unlike" in page
    # only the topic's author (or a moderator) accepts an answer
    assert form(bob, f"/forum/t/{busy}", f"/forum/p/{answer}/accept").status_code == 403
    assert form(carol, f"/forum/t/{busy}", f"/forum/p/{answer}/accept").status_code == 303
    assert "Accepted answer" in bob.get(f"/forum/t/{busy}").text
    assert "marked your post as the answer" in bob.get("/forum/notifications").text

    def order(sort: str) -> list[str]:
        return re.findall(r'class="topic-title" href="/forum/t/\d+">([^<]+)<',
                          bob.get(f"/forum?sort={sort}").text)

    assert order("latest") == ["Busy topic", "Quiet topic"]
    assert order("top") == ["Busy topic", "Quiet topic"]
    reply(carol, quiet, "late answer")
    assert order("active") == ["Quiet topic", "Busy topic"]
    assert order("latest") == ["Busy topic", "Quiet topic"]
    assert "answered" in bob.get("/forum").text
    assert "Busy topic" not in bob.get("/forum/c/methods-and-tools").text
    assert bob.get("/forum?sort=nonsense").status_code == 422


def test_topic_pages(admin, bob):
    topic_id = new_topic(bob, "A long thread", "first")
    for i in range(POSTS_PER_PAGE + 1):  # the admin: no new-account daily limit
        assert reply(admin, topic_id, f"reply number {i}").status_code == 303
    first = bob.get(f"/forum/t/{topic_id}").text
    second = bob.get(f"/forum/t/{topic_id}?page=2").text
    assert "reply number 0" in first and "reply number 20" not in first
    assert "reply number 20" in second and 'rel="prev"' in second
    assert bob.get(f"/forum/t/{topic_id}?page=9").status_code == 404
    last = post_ids(bob, topic_id)[0]
    assert bob.get(f"/forum/p/{last}", follow_redirects=False).headers["location"] == \
        f"/forum/t/{topic_id}#post-1"


def test_new_accounts_are_rate_limited(client, admin, bob):
    for i in range(3):
        new_topic(bob, f"Topic number {i}", "hello there")
    response = form(bob, "/forum/new", "/forum/topics", category="help-me-verify",
                    title="One too many", body="hello there")
    assert response.status_code == 429 and "3 topics a day" in response.text
    assert 'value="One too many"' in response.text  # nothing typed is lost
    links = " ".join(f"[l{i}](https://e{i}.org)" for i in range(3))
    topic_id = new_topic(admin, "Links from an admin", links)  # established: no limit
    response = reply(bob, topic_id, links)
    assert response.status_code == 400 and "at most 2 links" in response.text
    assert reply(bob, topic_id, "[one](https://e.org) [two](https://f.org)"
                 ).status_code == 303


def test_flags_hide_a_post_until_a_moderator_decides(client, admin, bob, carol):
    dave, erin = member(client, "dave"), member(client, "erin")
    topic_id = new_topic(admin, "Verify this clip", "What do you see?")
    reply(bob, topic_id, "BUY CHEAP WATCHES")
    spam = post_ids(admin, topic_id)[1]
    url = f"/forum/t/{topic_id}"
    assert form(bob, url, f"/forum/p/{spam}/flag", reason="spam").status_code == 403  # own
    assert form(carol, url, f"/forum/p/{spam}/flag", reason="bogus").status_code == 400
    for browser in (carol, dave):
        assert form(browser, url, f"/forum/p/{spam}/flag", reason="spam").status_code == 303
        assert "moderators will review" in browser.get(url).text  # once, after the redirect
        assert "moderators will review" not in browser.get(url).text
    assert form(carol, url, f"/forum/p/{spam}/flag", reason="spam").status_code == 400  # twice
    assert "CHEAP WATCHES" in erin.get(url).text  # two flags: still shown
    form(erin, url, f"/forum/p/{spam}/flag", reason="abusive", note="ads")
    assert "hidden until a moderator" in erin.get(url).text
    page = carol.get(url).text
    assert "CHEAP WATCHES" not in page and "hidden after flags" in page
    assert "CHEAP WATCHES" in bob.get(url).text  # its author still sees it, marked hidden

    queue = admin.get("/forum/review").text
    assert "CHEAP WATCHES" in queue and "flagged by @erin" in queue and ": “ads”" in queue
    assert 'aria-label="1 flagged"' in queue
    # disagree: shown again, those flags are closed (and each member flags a post once)
    form(admin, "/forum/review", f"/forum/review/{spam}", action="disagree")
    assert "CHEAP WATCHES" in carol.get(url).text
    assert "Nothing to review" in admin.get("/forum/review").text
    # other members flag it; this time the moderator hides it and silences bob
    for name in ("frank", "grace", "heidi"):
        form(member(client, name), url, f"/forum/p/{spam}/flag", reason="spam")
    form(admin, "/forum/review", f"/forum/review/{spam}", action="silence")
    assert "CHEAP WATCHES" not in carol.get(url).text
    response = reply(bob, topic_id, "I am back")
    assert response.status_code == 403 and "silenced this account" in response.text
    assert "Silenced until" in carol.get("/forum/u/bob").text
    form(admin, "/forum/u/bob", "/forum/u/bob/unsilence")
    assert reply(bob, topic_id, "I am back").status_code == 303


def test_moderators_decisions_are_told_and_not_made_on_their_own_flags(client, admin, bob,
                                                                        carol):
    mona = member(client, "mona", role="moderator")
    topic_id = new_topic(admin, "Verify this clip", "What do you see?")
    reply(carol, topic_id, "Off topic: who won the match?")
    reply(bob, topic_id, "BUY CHEAP WATCHES")
    _, chatter, spam = post_ids(admin, topic_id)
    url = f"/forum/t/{topic_id}"
    # a moderator who flags a post leaves its review to another moderator
    assert form(mona, url, f"/forum/p/{chatter}/flag", reason="off_topic").status_code == 303
    queue = mona.get("/forum/review").text
    assert "You flagged this post: another moderator reviews it" in queue
    assert f'action="/forum/review/{chatter}"' not in queue
    response = form(mona, "/forum/review", f"/forum/review/{chatter}", action="agree")
    assert response.status_code == 403 and "another moderator" in response.text
    assert f'action="/forum/review/{chatter}"' in admin.get("/forum/review").text
    # another moderator hides it: the post says so, and its author is told
    assert form(admin, "/forum/review", f"/forum/review/{chatter}",
                action="agree").status_code == 303
    own = carol.get(url).text
    assert "hidden by a moderator" in own and "until a moderator reviews it" not in own
    assert "(hidden by a moderator)" in bob.get(url).text
    assert 'aria-label="1 unread"' in carol.get("/forum").text
    told = carol.get("/forum/notifications").text
    assert "A moderator hid your post" in told and "@ada" not in told
    # hide and silence: the author is told, and sees no reply form but why
    assert form(carol, url, f"/forum/p/{spam}/flag", reason="spam").status_code == 303
    assert form(admin, "/forum/review", f"/forum/review/{spam}",
                action="silence").status_code == 303
    told = bob.get("/forum/notifications").text
    assert "A moderator hid your post after a review of flags and silenced your account" in told
    assert "you cannot post" in told
    page = bob.get(url).text
    assert f'action="/forum/t/{topic_id}/reply"' not in page
    assert "A moderator silenced your account until" in page
    assert "Flag post" not in page
    assert 'action="/forum/topics"' not in bob.get("/forum/new").text
    # a reply sent from a page loaded before the silence: refused, the text kept
    response = reply(bob, topic_id, "My reply typed before")
    assert response.status_code == 403 and "My reply typed before" in response.text
    assert f'action="/forum/t/{topic_id}/reply"' in carol.get(url).text  # others still reply


def test_search_finds_what_was_posted(bob, carol):
    topic_id = new_topic(bob, "Blending boundary around the jawline",
                         "The chin flickers between frames.")
    reply(carol, topic_id, "Compression artefacts can look similar; check the audio sync.")
    hidden_topic = new_topic(carol, "Unrelated gardening", "tomatoes and flickering lights")

    def titles(q: str) -> str:
        response = bob.get("/forum/search", params={"q": q})
        assert response.status_code == 200
        return response.text

    assert "Blending boundary" in titles("jawline")  # title
    assert "check the <mark>audio</mark> sync" in titles("audio")  # reply body, marked
    assert "Blending boundary" in titles("flicker")  # prefix and stemming
    assert "Nothing found" in titles("watermelon")
    for hostile in ('"', "AND (", "NEAR(a b)", "*", "title:x", "'; DROP TABLE users; --",
                    "<script>alert(1)</script>"):
        page = titles(hostile)
        assert "<script>alert(1)" not in page
    # a deleted topic is not found any more
    form(carol, f"/forum/t/{hidden_topic}",
         f"/forum/p/{post_ids(carol, hidden_topic)[0]}/delete")
    assert "gardening" not in titles("tomatoes")


def test_forum_settings_in_the_docs_exist_with_their_defaults():
    from pathlib import Path

    from fakelens.web.settings import WebSettings

    doc = (Path(__file__).parents[2] / "docs" / "FORUM.md").read_text()
    documented = re.findall(r"`FAKELENS_(FORUM_\w+)`\s+\((\d+)\)", doc)
    fields = WebSettings.model_fields
    assert len(dict(documented)) == 7
    for name, default in documented:
        assert name.lower() in fields, name
        assert fields[name.lower()].default == float(default), name


def test_concurrent_replies_get_distinct_numbers(client, admin):
    """Replies posted at the same moment (server threads) each get their own number."""
    from concurrent.futures import ThreadPoolExecutor

    from fakelens.forum import posts as forum_posts
    from fakelens.forum.policy import ForumRules
    from fakelens.forum.tables import Post

    topic_id = new_topic(admin, "Busy thread here", "first post")
    sessions = client.app.state.sessions

    def post_one(i: int) -> int:
        with sessions() as db:
            user = db.scalar(select(User).where(User.username == "ada"))
            topic = forum_posts.get_topic(db, topic_id)
            return forum_posts.reply(db, ForumRules(), user, topic, f"reply {i}").number

    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(post_one, range(16)))
    assert sorted(numbers) == list(range(2, 18))
    with sessions() as db:
        count = db.scalar(select(func.count()).select_from(Post))
    assert count == 17


def test_concurrent_flags_and_new_tags(client, admin):
    """Members flagging one post at the same moment (each twice): one flag each; topics
    adding the same new tag at once share one tag."""
    from concurrent.futures import ThreadPoolExecutor

    from fakelens.errors import InvalidPost
    from fakelens.forum import moderation
    from fakelens.forum import posts as forum_posts
    from fakelens.forum.policy import ForumRules
    from fakelens.forum.tables import Flag, Tag

    names = [f"flagger{i}" for i in range(6)]
    for name in names:
        member(client, name)
    topic_id = new_topic(admin, "Flag magnet topic", "spam spam spam")
    post_id = post_ids(admin, topic_id)[0]
    sessions = client.app.state.sessions

    def flag(name: str) -> str:
        with sessions() as db:
            user = db.scalar(select(User).where(User.username == name))
            try:
                moderation.flag_post(db, ForumRules(flag_threshold=len(names) + 1), user,
                                     forum_posts.get_post(db, post_id), "spam")
                return "flagged"
            except InvalidPost:
                return "again"

    def topic_with_tag(i: int) -> None:
        with sessions() as db:
            user = db.scalar(select(User).where(User.username == "ada"))
            forum_posts.create_topic(db, ForumRules(), user,
                                     forum_posts.get_category(db, "methods-and-tools"),
                                     f"Tagged topic {i}", "body", tags="brand-new-tag")

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(flag, names * 2))
        list(pool.map(topic_with_tag, range(6)))
    assert sorted(outcomes) == ["again"] * 6 + ["flagged"] * 6
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(Flag)) == 6
        assert db.scalar(select(func.count()).select_from(Tag)
                         .where(Tag.name == "brand-new-tag")) == 1
    assert admin.get("/forum/tags/brand-new-tag").text.count('class="topic-title"') == 6
