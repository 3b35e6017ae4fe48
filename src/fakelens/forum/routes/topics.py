"""Topic lists, a topic with its posts, writing (new topic, reply, edit, delete), likes,
accepted answers, flags, and search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from fakelens.db.tables import Role, User
from fakelens.errors import ForumError, InvalidPost, NotAllowed, NotFound
from fakelens.forum import markup, posts, queries
from fakelens.forum.moderation import (
    REASON_WORDS,
    flag_post,
    hidden_by_moderator,
    my_open_flags,
    unflag_post,
)
from fakelens.forum.policy import can_accept, can_delete, can_edit, can_see_post, is_moderator
from fakelens.forum.queries import POSTS_PER_PAGE, Sort
from fakelens.forum.routes.common import Rules, post_url, see_other
from fakelens.forum.search import search
from fakelens.forum.shares import analysis_deleted, my_vote, snapshot_of, vote_counts
from fakelens.web.deps import DbSession, MaybeUser, PageUser
from fakelens.web.params import FormId, PageNumber, PathId, QueryId
from fakelens.web.routes.auth import Csrf
from fakelens.web.templating import VERDICT_WORDS, flash, render
from fakelens.web.timeline import timeline_svg, track_colour

router = APIRouter()

Body = Annotated[str, Form(max_length=40_000)]
Title = Annotated[str, Form(max_length=400)]


def _list(request: Request, db, user, *, sort: Sort, page: int, category=None, tag=None,
          heading: str) -> HTMLResponse:
    listing = queries.list_topics(db, user, category=category, tag=tag, sort=sort, page=page)
    base = request.url.path
    return render(request, "forum/index.html", user=user, listing=listing, sort=sort,
                  sorts=list(Sort), base=base, heading=heading, category=category, tag=tag,
                  categories=queries.categories(db), counts=queries.topic_counts(db))


@router.get("/forum", response_class=HTMLResponse, name="forum_index")
def index(request: Request, db: DbSession, user: MaybeUser, sort: Sort = Sort.ACTIVE,
          page: PageNumber = 1) -> HTMLResponse:
    return _list(request, db, user, sort=sort, page=page, heading="Forum")


@router.get("/forum/c/{slug}", response_class=HTMLResponse, name="forum_category")
def category_page(request: Request, db: DbSession, user: MaybeUser, slug: str,
                  sort: Sort = Sort.ACTIVE, page: PageNumber = 1) -> HTMLResponse:
    category = posts.get_category(db, slug)
    return _list(request, db, user, sort=sort, page=page, category=category,
                 heading=category.name)


@router.get("/forum/tags/{tag}", response_class=HTMLResponse, name="forum_tag")
def tag_page(request: Request, db: DbSession, user: MaybeUser, tag: str,
             sort: Sort = Sort.ACTIVE, page: PageNumber = 1) -> HTMLResponse:
    if not posts.TAG.match(tag):
        raise NotFound("no such tag")
    return _list(request, db, user, sort=sort, page=page, tag=tag, heading=f"Tag: {tag}")


def _new_topic_form(request: Request, db, user, status: int = 200, **values) -> HTMLResponse:
    return render(request, "forum/new_topic.html", status=status, user=user,
                  categories=[c for c in queries.categories(db)
                              if not c.staff_only or is_moderator(user)], **values)


@router.get("/forum/new", response_class=HTMLResponse, name="forum_new_topic")
def new_topic_page(request: Request, db: DbSession, user: PageUser,
                   category: str = "") -> HTMLResponse:
    return _new_topic_form(request, db, user, category_slug=category)


@router.post("/forum/topics", dependencies=[Csrf], name="forum_create_topic")
def create_topic(request: Request, db: DbSession, user: PageUser, rules: Rules,
                 category: Annotated[str, Form(max_length=64)], title: Title, body: Body,
                 tags: Annotated[str, Form(max_length=300)] = "") -> Response:
    try:
        topic = posts.create_topic(db, rules, user, posts.get_category(db, category), title,
                                   body, tags)
    except ForumError as exc:
        db.rollback()
        return _new_topic_form(request, db, user, status=exc.http_status, errors=[str(exc)],
                               category_slug=category, title=title, body=body, tags=tags)
    return see_other(f"/forum/t/{topic.id}")


def _topic_page(request: Request, db, user, topic, page: int, status: int = 200,
                **form) -> HTMLResponse:
    listing = queries.topic_posts(db, topic, page)
    if page > listing.pages:
        raise NotFound("this topic has no such page")
    share = snapshot = None
    if topic.share is not None:
        share, snapshot = topic.share, snapshot_of(topic.share)
    ids = [p.id for p in listing.items]
    return render(request, "forum/topic.html", status=status, user=user, topic=topic,
                  listing=listing, tags=posts.topic_tags(db, [topic.id]).get(topic.id, []),
                  liked=queries.liked_by(db, user, ids),
                  my_flags=my_open_flags(db, user, ids),
                  moderator_hidden=hidden_by_moderator(db, ids),
                  reply_targets=queries.reply_targets(db, listing.items),
                  share=share, snapshot=snapshot,
                  share_deleted=share is not None and analysis_deleted(db, share),
                  votes=vote_counts(db, share) if share else None,
                  my_vote=my_vote(db, user, share) if share else None,
                  verifier=db.get(User, share.verified_by) if share and share.verified_by
                  else None,
                  timeline=timeline_svg(snapshot.analysis) if snapshot else None,
                  track_colour=track_colour, verdict_words=VERDICT_WORDS,
                  can_see=lambda p: can_see_post(user, p), can_edit=lambda p: can_edit(user, p),
                  can_delete=lambda p: can_delete(user, p),
                  can_accept=can_accept(user, topic), moderator=is_moderator(user),
                  can_verify=user is not None and user.has_role(Role.EXPERT),
                  reasons=REASON_WORDS, **form)


@router.get("/forum/t/{topic_id}", response_class=HTMLResponse, name="forum_topic")
def topic_page(request: Request, db: DbSession, user: MaybeUser, topic_id: PathId,
               page: PageNumber = 1, quote: QueryId = None) -> HTMLResponse:
    topic = posts.get_topic(db, topic_id, user)
    draft, reply_to = "", None
    if quote is not None and user is not None:
        quoted = db.get(posts.Post, quote)
        if quoted is not None and quoted.topic_id == topic.id and can_see_post(user, quoted) \
                and quoted.deleted_at is None:
            draft = markup.quote(quoted.author.username, quoted.body, quoted.number)
            reply_to = quoted.id
    return _topic_page(request, db, user, topic, page, draft=draft, reply_to=reply_to)


@router.post("/forum/t/{topic_id}/reply", dependencies=[Csrf], name="forum_reply")
def reply(request: Request, db: DbSession, user: PageUser, rules: Rules, topic_id: PathId,
          body: Body, reply_to: FormId = None) -> Response:
    topic = posts.get_topic(db, topic_id)
    try:
        post = posts.reply(db, rules, user, topic, body, reply_to)
    except ForumError as exc:
        db.rollback()
        listing = queries.topic_posts(db, topic, 1)
        return _topic_page(request, db, user, topic, listing.pages, status=exc.http_status,
                           errors=[str(exc)], draft=body, reply_to=reply_to)
    return see_other(post_url(post, POSTS_PER_PAGE))


@router.get("/forum/p/{post_id}", name="forum_post")
def post_link(db: DbSession, user: MaybeUser, post_id: PathId) -> Response:
    post = posts.get_post(db, post_id)
    posts.get_topic(db, post.topic_id, user)
    return see_other(post_url(post, POSTS_PER_PAGE))


@router.get("/forum/p/{post_id}/edit", response_class=HTMLResponse, name="forum_edit_page")
def edit_page(request: Request, db: DbSession, user: PageUser, post_id: PathId) -> HTMLResponse:
    post = posts.get_post(db, post_id)
    if not can_edit(user, post):
        raise NotAllowed("only the author or a moderator can edit this post")
    topic = posts.get_topic(db, post.topic_id, user)
    return render(request, "forum/edit.html", user=user, post=post, topic=topic,
                  body=post.body, title=topic.title)


@router.post("/forum/p/{post_id}/edit", dependencies=[Csrf], name="forum_edit")
def edit(request: Request, db: DbSession, user: PageUser, rules: Rules, post_id: PathId,
         body: Body, title: Annotated[str | None, Form(max_length=400)] = None) -> Response:
    post = posts.get_post(db, post_id)
    topic = posts.get_topic(db, post.topic_id, user)
    try:
        posts.edit_post(db, rules, user, post, body, title if post.number == 1 else None)
    except (InvalidPost, NotAllowed) as exc:
        db.rollback()
        return render(request, "forum/edit.html", status=exc.http_status, user=user,
                      post=post, topic=topic, body=body, title=title or topic.title,
                      errors=[str(exc)])
    return see_other(post_url(post, POSTS_PER_PAGE))


@router.post("/forum/p/{post_id}/delete", dependencies=[Csrf], name="forum_delete")
def delete(db: DbSession, user: PageUser, post_id: PathId) -> Response:
    post = posts.get_post(db, post_id)
    posts.delete_post(db, user, post)
    if post.number == 1:
        return see_other("/forum")
    return see_other(post_url(post, POSTS_PER_PAGE))


@router.post("/forum/p/{post_id}/like", dependencies=[Csrf], name="forum_like")
def like(db: DbSession, user: PageUser, post_id: PathId) -> Response:
    post = posts.get_post(db, post_id)
    posts.get_topic(db, post.topic_id, user)
    posts.toggle_like(db, user, post)
    return see_other(post_url(post, POSTS_PER_PAGE))


@router.post("/forum/p/{post_id}/accept", dependencies=[Csrf], name="forum_accept")
def accept(db: DbSession, user: PageUser, post_id: PathId) -> Response:
    post = posts.get_post(db, post_id)
    posts.accept_answer(db, user, post)
    return see_other(post_url(post, POSTS_PER_PAGE))


@router.post("/forum/p/{post_id}/flag", dependencies=[Csrf], name="forum_flag")
def flag(request: Request, db: DbSession, user: PageUser, rules: Rules, post_id: PathId,
         reason: Annotated[str, Form(max_length=16)] = "",
         note: Annotated[str, Form(max_length=500)] = "") -> Response:
    post = posts.get_post(db, post_id)
    posts.get_topic(db, post.topic_id, user)
    hidden = flag_post(db, rules, user, post, reason, note)
    flash(request, "You flagged this post. Thanks: it is hidden until a moderator reviews it."
          if hidden else "You flagged this post. Thanks: moderators will review it.")
    return see_other(post_url(post, POSTS_PER_PAGE))


@router.post("/forum/p/{post_id}/unflag", dependencies=[Csrf], name="forum_unflag")
def unflag(request: Request, db: DbSession, user: PageUser, rules: Rules,
           post_id: PathId) -> Response:
    post = posts.get_post(db, post_id)
    posts.get_topic(db, post.topic_id, user)
    unflag_post(db, rules, user, post)
    flash(request, "Your flag was taken back.")
    return see_other(post_url(post, POSTS_PER_PAGE))


@router.get("/forum/search", response_class=HTMLResponse, name="forum_search")
def search_page(request: Request, db: DbSession, user: MaybeUser,
                q: Annotated[str, Query(max_length=200)] = "",
                page: PageNumber = 1) -> HTMLResponse:
    per_page = 20
    hits = search(db, q, limit=per_page + 1, offset=(page - 1) * per_page)
    return render(request, "forum/search.html", user=user, q=q, hits=hits[:per_page],
                  page=page, more=len(hits) > per_page, post_url=lambda p: post_url(
                      p, POSTS_PER_PAGE))
