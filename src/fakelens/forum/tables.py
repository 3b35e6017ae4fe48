"""The forum's tables: categories, tags, topics, posts, likes, shared-analysis snapshots
with community votes, flags and notifications.

Full-text search lives beside these tables and is made by the migrations only: FTS5
tables kept in step by triggers on SQLite, generated ``tsvector`` columns with GIN indexes
on PostgreSQL (``SEARCH_OBJECTS`` names them so schema comparison leaves them alone).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fakelens.db.tables import Base, User, new_public_id, utcnow

# made by the migrations for full-text search, not by these models
SEARCH_TABLE_PREFIXES = ("forum_posts_fts", "forum_topics_fts")
SEARCH_COLUMN = "search_vector"


class CommunityVote(StrEnum):
    REAL = "REAL"
    FAKE = "FAKE"
    UNSURE = "UNSURE"


class FlagReason(StrEnum):
    SPAM = "spam"
    ABUSIVE = "abusive"
    OFF_TOPIC = "off_topic"
    ILLEGAL = "illegal"  # illegal or non-consensual media


class FlagResolution(StrEnum):
    AGREED = "agreed"  # the post is hidden
    DISAGREED = "disagreed"  # the post stays (and is shown again)
    DELETED = "deleted"


class Category(Base):
    __tablename__ = "forum_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    position: Mapped[int] = mapped_column(default=0)
    # only moderators may open topics here (Announcements)
    staff_only: Mapped[bool] = mapped_column(Boolean, default=False)


class Tag(Base):
    __tablename__ = "forum_tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)


class TopicTag(Base):
    __tablename__ = "forum_topic_tags"

    topic_id: Mapped[int] = mapped_column(ForeignKey("forum_topics.id", ondelete="CASCADE"),
                                          primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("forum_tags.id", ondelete="CASCADE"),
                                        primary_key=True, index=True)


class SharedAnalysis(Base):
    """An immutable snapshot of an analysis, published into a topic. Unsharing removes
    its media (thumbnails, file name) from public view; the numbers stay with the topic."""

    __tablename__ = "forum_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    analysis_id: Mapped[int | None] = mapped_column(
        ForeignKey("analyses.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    snapshot_json: Mapped[str] = mapped_column(Text)  # fakelens.forum.shares.Snapshot
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    unshared_at: Mapped[datetime | None] = mapped_column(default=None)
    verified_label: Mapped[str | None] = mapped_column(String(8), default=None)
    verified_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    verified_note: Mapped[str | None] = mapped_column(String(500), default=None)
    verified_at: Mapped[datetime | None] = mapped_column(default=None)


class Topic(Base):
    __tablename__ = "forum_topics"
    __table_args__ = (Index("ix_forum_topics_category_active", "category_id", "last_posted_at"),
                      Index("ix_forum_topics_active", "last_posted_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("forum_categories.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    title: Mapped[str] = mapped_column(String(200))
    share_id: Mapped[int | None] = mapped_column(
        ForeignKey("forum_shares.id", ondelete="SET NULL"), default=None, unique=True)
    # the accepted answer: no FK (posts reference topics; this keeps the cycle out)
    accepted_post_id: Mapped[int | None] = mapped_column(default=None)
    reply_count: Mapped[int] = mapped_column(default=0)
    like_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_posted_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    author: Mapped[User] = relationship(lazy="joined")
    category: Mapped[Category] = relationship(lazy="joined")
    share: Mapped[SharedAnalysis | None] = relationship(lazy="joined")


class Post(Base):
    __tablename__ = "forum_posts"
    __table_args__ = (UniqueConstraint("topic_id", "number"),
                      Index("ix_forum_posts_user_created", "user_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("forum_topics.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    number: Mapped[int]  # 1: the topic's opening post
    reply_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("forum_posts.id", ondelete="SET NULL"), default=None)
    body: Mapped[str] = mapped_column(Text)  # Markdown as written
    html: Mapped[str] = mapped_column(Text)  # rendered and sanitized when written
    like_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)  # by flags or a moderator

    author: Mapped[User] = relationship(lazy="joined")


class Like(Base):
    __tablename__ = "forum_likes"

    post_id: Mapped[int] = mapped_column(ForeignKey("forum_posts.id", ondelete="CASCADE"),
                                         primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Vote(Base):
    """A member's REAL / FAKE / UNSURE on a shared analysis (one each, changeable)."""

    __tablename__ = "forum_votes"

    share_id: Mapped[int] = mapped_column(ForeignKey("forum_shares.id", ondelete="CASCADE"),
                                          primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
    vote: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Flag(Base):
    __tablename__ = "forum_flags"
    __table_args__ = (UniqueConstraint("post_id", "user_id"),
                      Index("ix_forum_flags_open", "resolved_at", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("forum_posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolution: Mapped[str | None] = mapped_column(String(16), default=None)
    resolved_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)


class Notification(Base):
    __tablename__ = "forum_notifications"
    __table_args__ = (Index("ix_forum_notifications_user", "user_id", "read_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # reply, mention, quote, accepted
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    topic_id: Mapped[int] = mapped_column(ForeignKey("forum_topics.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("forum_posts.id", ondelete="CASCADE"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(default=None)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="joined")
    topic: Mapped[Topic] = relationship(lazy="joined")


def is_search_object(name: str | None, type_: str) -> bool:
    """Tables, columns and indexes the migrations make for full-text search."""
    if not name:
        return False
    if type_ == "table":
        return name.startswith(SEARCH_TABLE_PREFIXES)
    return SEARCH_COLUMN in name
