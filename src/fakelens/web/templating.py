"""Rendering pages: one ``render`` for every route, and what every page template gets
(CSRF token; the forum's unread-notification and review-queue counts for the nav)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from fakelens.analysis.caveats import VERDICT_LABELS
from fakelens.web.security import CSRF_FIELD, csrf_token

VERDICT_WORDS: dict[str, str] = {str(k): v for k, v in VERDICT_LABELS.items()}


def render(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, name, context,
                                                        status_code=status)


def _nav_counts(request: Request) -> dict[str, int]:
    from fakelens.db.tables import Role, User
    from fakelens.forum.moderation import open_flag_count
    from fakelens.forum.posts import unread_notifications

    user_id = request.session.get("user_id")
    if not isinstance(user_id, int):
        return {}
    with request.app.state.sessions() as db:
        user = db.get(User, user_id)
        if user is None:
            return {}
        counts = {"unread": unread_notifications(db, user)}
        if user.has_role(Role.MODERATOR):
            counts["review"] = open_flag_count(db)
        return counts


FLASH_KEY = "flash"


def flash(request: Request, message: str) -> None:
    """A message for the next page this browser renders (after a redirect)."""
    request.session[FLASH_KEY] = message


def template_globals(request: Request) -> dict:
    return {"csrf_token": csrf_token(request), "csrf_field": CSRF_FIELD,
            "nav_counts": _nav_counts(request), "flashed": request.session.pop(FLASH_KEY, None)}
