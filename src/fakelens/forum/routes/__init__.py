"""The forum's pages (server-rendered; forms carry the session's CSRF token)."""

from __future__ import annotations

from fastapi import APIRouter

from fakelens.forum.routes import members, moderation, shares, topics

router = APIRouter(include_in_schema=False)
for module in (topics, shares, moderation, members):
    router.include_router(module.router)
