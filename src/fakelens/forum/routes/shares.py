"""Sharing an analysis into a new topic, its public thumbnails, community votes, the
verified label, and withdrawing it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from fakelens.errors import ForumError, NotFound
from fakelens.forum import posts, queries, shares
from fakelens.forum.policy import is_moderator
from fakelens.forum.routes.common import Rules, see_other
from fakelens.types import Analysis
from fakelens.web.deps import AppSettings, DbSession, PageAnalysis, PageUser
from fakelens.web.params import PathIndex
from fakelens.web.routes.auth import Csrf
from fakelens.web.templating import VERDICT_WORDS, render

router = APIRouter()


def _share_form(request: Request, db, user, row, status: int = 200, **values) -> HTMLResponse:
    result = Analysis.model_validate_json(row.result_json) if row.result_json else None
    if result is None:
        raise posts.InvalidPost("only a finished analysis can be shared")
    verdict = VERDICT_WORDS.get(result.verdict, result.verdict)
    values.setdefault("title", f"Is this real? {row.filename}"[:200])
    values.setdefault("body", f"The model says: {verdict}"
                      + (f" (fake score {result.score:.2f})." if result.score is not None
                         else ".") + " What do you think?")
    values.setdefault("category_slug", "help-me-verify")
    return render(request, "forum/share.html", status=status, user=user, row=row,
                  result=result, categories=[c for c in queries.categories(db)
                                             if not c.staff_only or is_moderator(user)],
                  **values)


@router.get("/analyses/{analysis_id}/share", name="share_page")
def share_page(request: Request, db: DbSession, user: PageUser, row: PageAnalysis) -> Response:
    shared = shares.shared_topic(db, row)
    if shared is not None:
        return see_other(f"/forum/t/{shared[1]}")
    return _share_form(request, db, user, row)


@router.post("/analyses/{analysis_id}/share", dependencies=[Csrf], name="share")
def share(request: Request, db: DbSession, user: PageUser, row: PageAnalysis, rules: Rules,
          settings: AppSettings, category: Annotated[str, Form(max_length=64)],
          title: Annotated[str, Form(max_length=400)],
          body: Annotated[str, Form(max_length=40_000)],
          tags: Annotated[str, Form(max_length=300)] = "") -> Response:
    try:
        topic = shares.share_analysis(db, rules, settings, user, row,
                                      posts.get_category(db, category), title, body, tags)
    except ForumError as exc:
        db.rollback()
        return _share_form(request, db, user, row, status=exc.http_status, errors=[str(exc)],
                           title=title, body=body, tags=tags, category_slug=category)
    return see_other(f"/forum/t/{topic.id}")


def _topic_of(db, share) -> int:
    topic_id = shares.topic_id_of(db, share)
    if topic_id is None:
        raise NotFound("no such shared analysis")
    return topic_id


@router.get("/forum/s/{share_id}/{track_id}-{kind}.png", name="share_image")
def share_image(db: DbSession, settings: AppSettings, share_id: str, track_id: PathIndex,
                kind: Literal["face", "heatmap"]) -> Response:
    """A shared analysis' thumbnail: public while it is shared, gone once withdrawn."""
    item = shares.get_share(db, share_id)
    path = shares.thumbnail_path(settings, item.public_id, track_id, kind)
    if item.unshared_at is not None or not path.is_file():
        raise NotFound("no such image (the analysis may have been withdrawn)")
    return FileResponse(path, media_type="image/png")


@router.post("/forum/s/{share_id}/vote", dependencies=[Csrf], name="share_vote")
def vote(db: DbSession, user: PageUser, share_id: str,
         value: Annotated[str, Form(max_length=8)]) -> Response:
    item = shares.get_share(db, share_id)
    topic_id = _topic_of(db, item)
    shares.vote(db, user, item, value)
    return see_other(f"/forum/t/{topic_id}#share")


@router.post("/forum/s/{share_id}/verify", dependencies=[Csrf], name="share_verify")
def verify(db: DbSession, user: PageUser, share_id: str,
           label: Annotated[str, Form(max_length=8)] = "",
           note: Annotated[str, Form(max_length=500)] = "") -> Response:
    item = shares.get_share(db, share_id)
    topic_id = _topic_of(db, item)
    shares.verify(db, user, item, label, note)
    return see_other(f"/forum/t/{topic_id}#share")


@router.post("/forum/s/{share_id}/unshare", dependencies=[Csrf], name="share_withdraw")
def withdraw(db: DbSession, user: PageUser, settings: AppSettings, share_id: str) -> Response:
    item = shares.get_share(db, share_id)
    topic_id = _topic_of(db, item)
    shares.unshare(db, settings, user, item)
    return see_other(f"/forum/t/{topic_id}#share")
