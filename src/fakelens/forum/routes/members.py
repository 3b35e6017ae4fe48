"""Notifications, members' pages, roles and lifting a silence."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from fakelens.db.tables import Role
from fakelens.errors import NotFound
from fakelens.forum import moderation, posts, queries
from fakelens.forum.policy import is_moderator
from fakelens.forum.routes.common import post_url, see_other
from fakelens.web.deps import DbSession, MaybeUser, PageUser
from fakelens.web.params import PageNumber
from fakelens.web.routes.auth import Csrf
from fakelens.web.templating import render

router = APIRouter()

KIND_WORDS = {"reply": "replied to your topic", "quote": "quoted your post",
              "mention": "mentioned you", "accepted": "marked your post as the answer",
              "hidden": "hid your post after a review of flags",
              "deleted": "deleted your post after a review of flags",
              "silenced": "hid your post after a review of flags and silenced your account"}
# told as "A moderator ...": the moderator is not named to the author
MODERATION_KINDS = frozenset(moderation.NOTICE_KINDS.values())


@router.get("/forum/notifications", response_class=HTMLResponse, name="forum_notifications")
def notifications(request: Request, db: DbSession, user: PageUser,
                  page: PageNumber = 1) -> HTMLResponse:
    listing = queries.notifications(db, user, page)
    links = {}
    for item in listing.items:
        post = db.get(posts.Post, item.post_id) if item.post_id else None
        if item.topic.deleted_at is not None and not is_moderator(user):
            links[item.id] = None  # a deleted topic: nothing left to link to
        else:
            links[item.id] = (post_url(post, queries.POSTS_PER_PAGE) if post
                              else f"/forum/t/{item.topic_id}")
    return render(request, "forum/notifications.html", user=user, listing=listing,
                  links=links, kind_words=KIND_WORDS, moderation_kinds=MODERATION_KINDS)


@router.post("/forum/notifications/read", dependencies=[Csrf], name="forum_mark_read")
def mark_read(db: DbSession, user: PageUser) -> Response:
    posts.mark_notifications_read(db, user)
    return see_other("/forum/notifications")


def _member(db, username: str):
    member = queries.member_by_name(db, username)
    if member is None:
        raise NotFound("no such member")
    return member


@router.get("/forum/u/{username}", response_class=HTMLResponse, name="forum_member")
def member_page(request: Request, db: DbSession, user: MaybeUser,
                username: str) -> HTMLResponse:
    member = _member(db, username)
    return render(request, "forum/member.html", user=user, member=member,
                  stats=queries.member_stats(db, member),
                  recent=queries.recent_posts(db, member), roles=list(Role),
                  is_admin=user is not None and user.has_role(Role.ADMIN),
                  moderator=is_moderator(user),
                  post_url=lambda p: post_url(p, queries.POSTS_PER_PAGE))


@router.post("/forum/u/{username}/role", dependencies=[Csrf], name="forum_set_role")
def set_role(db: DbSession, user: PageUser, username: str,
             role: Annotated[str, Form(max_length=16)]) -> Response:
    member = _member(db, username)
    moderation.set_role(db, member, role, by=user)
    return see_other(f"/forum/u/{member.username}")


@router.post("/forum/u/{username}/unsilence", dependencies=[Csrf], name="forum_unsilence")
def unsilence(db: DbSession, user: PageUser, username: str) -> Response:
    member = _member(db, username)
    moderation.unsilence(db, user, member)
    return see_other(f"/forum/u/{member.username}")
