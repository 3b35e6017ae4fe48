"""What the forum's routes share: its rules from the settings, and redirects to a post."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse

from fakelens.forum.policy import ForumRules
from fakelens.forum.tables import Post


def get_rules(request: Request) -> ForumRules:
    return ForumRules.from_settings(request.app.state.settings)


Rules = Annotated[ForumRules, Depends(get_rules)]


def post_url(post: Post, posts_per_page: int) -> str:
    page = (post.number - 1) // posts_per_page + 1
    query = f"?page={page}" if page > 1 else ""
    return f"/forum/t/{post.topic_id}{query}#post-{post.number}"


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
