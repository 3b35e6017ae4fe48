"""Reading the forum: topic lists (by category or tag; latest, active or top), a topic's
posts page by page, notifications, a member's page."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from fakelens.db.tables import User
from fakelens.forum.policy import is_moderator
from fakelens.forum.posts import topic_tags
from fakelens.forum.tables import Category, Like, Notification, Post, Tag, Topic, TopicTag

TOPICS_PER_PAGE = 20
POSTS_PER_PAGE = 20


class Sort(StrEnum):
    LATEST = "latest"  # newest topics first
    ACTIVE = "active"  # most recent post first
    TOP = "top"  # most liked, then most replies


@dataclass
class Page:
    items: list
    page: int
    pages: int
    total: int
    tags: dict[int, list[str]] = field(default_factory=dict)


def _pages(total: int, per_page: int) -> int:
    return max(1, (total + per_page - 1) // per_page)


def categories(db: Session) -> list[Category]:
    return list(db.scalars(select(Category).order_by(Category.position, Category.id)))


def topic_counts(db: Session) -> dict[int, int]:
    return dict(db.execute(select(Topic.category_id, func.count()).where(
        Topic.deleted_at.is_(None)).group_by(Topic.category_id)).all())


def list_topics(db: Session, viewer: User | None, *, category: Category | None = None,
                tag: str | None = None, sort: Sort = Sort.ACTIVE, page: int = 1) -> Page:
    conditions = [Topic.deleted_at.is_(None)]
    if not is_moderator(viewer):  # a topic whose opening post is hidden is unlisted
        opening = aliased(Post)
        conditions.append(~exists().where(opening.topic_id == Topic.id, opening.number == 1,
                                          opening.hidden.is_(True)))
    if category is not None:
        conditions.append(Topic.category_id == category.id)
    if tag:
        conditions.append(exists().where(TopicTag.topic_id == Topic.id,
                                         TopicTag.tag_id == Tag.id, Tag.name == tag))
    order = {Sort.LATEST: [Topic.created_at.desc()],
             Sort.ACTIVE: [Topic.last_posted_at.desc()],
             Sort.TOP: [Topic.like_count.desc(), Topic.reply_count.desc(),
                        Topic.last_posted_at.desc()]}[sort]
    total = db.scalar(select(func.count()).select_from(Topic).where(*conditions)) or 0
    topics = list(db.scalars(select(Topic).where(*conditions).order_by(*order, Topic.id.desc())
                             .offset((page - 1) * TOPICS_PER_PAGE).limit(TOPICS_PER_PAGE)))
    return Page(items=topics, page=page, pages=_pages(total, TOPICS_PER_PAGE), total=total,
                tags=topic_tags(db, [t.id for t in topics]))


def topic_posts(db: Session, topic: Topic, page: int = 1) -> Page:
    """Every post in order (deleted and hidden ones too: the page shows a placeholder)."""
    total = db.scalar(select(func.count()).select_from(Post)
                      .where(Post.topic_id == topic.id)) or 0
    posts = list(db.scalars(select(Post).where(Post.topic_id == topic.id)
                            .order_by(Post.number).offset((page - 1) * POSTS_PER_PAGE)
                            .limit(POSTS_PER_PAGE)))
    return Page(items=posts, page=page, pages=_pages(total, POSTS_PER_PAGE), total=total)


def page_of_post(db: Session, post: Post) -> int:
    return (post.number - 1) // POSTS_PER_PAGE + 1


def liked_by(db: Session, user: User | None, post_ids: list[int]) -> set[int]:
    if user is None or not post_ids:
        return set()
    return set(db.scalars(select(Like.post_id).where(Like.user_id == user.id,
                                                     Like.post_id.in_(post_ids))))


def reply_targets(db: Session, posts: list[Post]) -> dict[int, tuple[int, str]]:
    """For each reply that quotes a post: (that post's number, its author's name)."""
    ids = {p.reply_to_id for p in posts if p.reply_to_id}
    if not ids:
        return {}
    rows = db.execute(select(Post.id, Post.number, User.username)
                      .join(User, User.id == Post.user_id).where(Post.id.in_(ids))).all()
    return {post_id: (number, name) for post_id, number, name in rows}


def notifications(db: Session, user: User, page: int = 1, per_page: int = 30) -> Page:
    total = db.scalar(select(func.count()).select_from(Notification)
                      .where(Notification.user_id == user.id)) or 0
    items = list(db.scalars(select(Notification).where(Notification.user_id == user.id)
                            .order_by(Notification.created_at.desc(), Notification.id.desc())
                            .offset((page - 1) * per_page).limit(per_page)))
    return Page(items=items, page=page, pages=_pages(total, per_page), total=total)


@dataclass
class MemberStats:
    topics: int
    posts: int
    likes_received: int


def member_by_name(db: Session, username: str) -> User | None:
    return db.scalar(select(User).where(User.username == username.lower()))


def member_stats(db: Session, user: User) -> MemberStats:
    visible = (Post.user_id == user.id, Post.deleted_at.is_(None), Post.hidden.is_(False))
    return MemberStats(
        topics=db.scalar(select(func.count()).select_from(Topic).where(
            Topic.user_id == user.id, Topic.deleted_at.is_(None))) or 0,
        posts=db.scalar(select(func.count()).select_from(Post).where(*visible)) or 0,
        likes_received=db.scalar(select(func.coalesce(func.sum(Post.like_count), 0))
                                 .where(*visible)) or 0)


def recent_posts(db: Session, user: User, limit: int = 10) -> list[tuple[Post, Topic]]:
    return [tuple(r) for r in db.execute(
        select(Post, Topic).join(Topic, Topic.id == Post.topic_id)
        .where(Post.user_id == user.id, Post.deleted_at.is_(None), Post.hidden.is_(False),
               Topic.deleted_at.is_(None))
        .order_by(Post.created_at.desc()).limit(limit)).all()]
