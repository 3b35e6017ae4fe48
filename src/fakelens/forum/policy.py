"""Who may do what on the forum, and the limits new accounts post under."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fakelens.db.tables import Role, User, utcnow
from fakelens.errors import InvalidPost, NotAllowed, PostingLimit
from fakelens.forum.markup import Rendered
from fakelens.forum.tables import Post, Topic

TITLE_MIN, TITLE_MAX = 5, 200
BODY_MIN, BODY_MAX = 2, 20_000
MAX_TAGS = 5


@dataclass(frozen=True)
class ForumRules:
    flag_threshold: int = 3
    new_account_hours: float = 24
    new_topics_per_day: int = 3
    new_replies_per_day: int = 20
    new_links_per_post: int = 2
    new_images_per_post: int = 0
    silence_days: float = 7

    @classmethod
    def from_settings(cls, settings) -> ForumRules:
        return cls(flag_threshold=settings.forum_flag_threshold,
                   new_account_hours=settings.forum_new_account_hours,
                   new_topics_per_day=settings.forum_new_topics_per_day,
                   new_replies_per_day=settings.forum_new_replies_per_day,
                   new_links_per_post=settings.forum_new_links_per_post,
                   new_images_per_post=settings.forum_new_images_per_post,
                   silence_days=settings.forum_silence_days)

    def is_new(self, user: User, now: datetime | None = None) -> bool:
        if user.has_role(Role.EXPERT):
            return False
        return (now or utcnow()) - user.created_at < timedelta(hours=self.new_account_hours)


def is_moderator(user: User | None) -> bool:
    return user is not None and user.has_role(Role.MODERATOR)


def can_see_post(user: User | None, post: Post) -> bool:
    """Content of hidden or deleted posts: their author (hidden only) and moderators."""
    if is_moderator(user):
        return True
    if post.deleted_at is not None:
        return False
    return not post.hidden or (user is not None and user.id == post.user_id)


def can_edit(user: User | None, post: Post) -> bool:
    if user is None or post.deleted_at is not None:
        return False
    return is_moderator(user) or (user.id == post.user_id and not user.is_silenced())


def can_delete(user: User | None, post: Post) -> bool:
    return user is not None and post.deleted_at is None and (
        user.id == post.user_id or is_moderator(user))


def can_accept(user: User | None, topic: Topic) -> bool:
    return user is not None and (user.id == topic.user_id or is_moderator(user))


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise NotAllowed(message)


def check_text(title: str | None, body: str) -> None:
    problems = []
    if title is not None and not TITLE_MIN <= len(title) <= TITLE_MAX:
        problems.append(f"The title needs {TITLE_MIN} to {TITLE_MAX} characters.")
    if not BODY_MIN <= len(body.strip()) <= BODY_MAX:
        problems.append(f"The post needs {BODY_MIN} to {BODY_MAX:,} characters.")
    if problems:
        raise InvalidPost(" ".join(problems))


def check_content(rules: ForumRules, user: User, rendered: Rendered) -> None:
    """Silenced members cannot write; new accounts' posts have few links and images."""
    now = utcnow()
    if user.is_silenced(now):
        raise NotAllowed(f"a moderator silenced this account until "
                         f"{user.silenced_until:%Y-%m-%d %H:%M} UTC")
    if not rules.is_new(user, now):
        return
    if rendered.links > rules.new_links_per_post:
        raise InvalidPost(f"New accounts may put at most {rules.new_links_per_post} links "
                          f"in a post (this one has {rendered.links}).")
    if rendered.images > rules.new_images_per_post:
        raise InvalidPost(f"New accounts may put at most {rules.new_images_per_post} images "
                          f"in a post (this one has {rendered.images}).")


def check_may_post(db: Session, rules: ForumRules, user: User, rendered: Rendered, *,
                   new_topic: bool) -> None:
    """``check_content``, and new accounts' daily limits (counted in the database, so
    every server process sees the same count)."""
    check_content(rules, user, rendered)
    now = utcnow()
    if not rules.is_new(user, now):
        return
    since = now - timedelta(days=1)
    if new_topic:
        count = db.scalar(select(func.count()).select_from(Topic).where(
            Topic.user_id == user.id, Topic.created_at > since)) or 0
        limit, what = rules.new_topics_per_day, "topics"
    else:
        count = db.scalar(select(func.count()).select_from(Post).where(
            Post.user_id == user.id, Post.number > 1, Post.created_at > since)) or 0
        limit, what = rules.new_replies_per_day, "replies"
    if count >= limit:
        raise PostingLimit(f"New accounts may post {limit} {what} a day; try again "
                           f"tomorrow.")
