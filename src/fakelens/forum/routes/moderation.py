"""The moderators' review queue of flagged posts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from fakelens.forum import moderation, posts
from fakelens.forum.routes.common import Rules, see_other
from fakelens.web.deps import DbSession, PageUser
from fakelens.web.params import PathId
from fakelens.web.routes.auth import Csrf
from fakelens.web.templating import render

router = APIRouter()


@router.get("/forum/review", response_class=HTMLResponse, name="forum_review")
def review_page(request: Request, db: DbSession, user: PageUser) -> HTMLResponse:
    items = moderation.review_queue(db, user)
    return render(request, "forum/review.html", user=user, items=items,
                  reasons=moderation.REASON_WORDS)


@router.post("/forum/review/{post_id}", dependencies=[Csrf], name="forum_resolve")
def resolve(db: DbSession, user: PageUser, rules: Rules, post_id: PathId,
            action: Annotated[str, Form(max_length=16)]) -> Response:
    moderation.resolve(db, rules, user, posts.get_post(db, post_id), action)
    return see_other("/forum/review")
