"""The tables: users, their API tokens, their analyses (SQLAlchemy 2 typed mappings); the
forum's tables (``fakelens.forum.tables``) join the same metadata when that module is
imported (``fakelens.schema.metadata()`` imports every table module)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # stored naive, always UTC


def new_public_id() -> str:
    """Unguessable identifier used in URLs (never the sequential primary key)."""
    return secrets.token_urlsafe(12)


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Role(StrEnum):
    """Forum roles, each with the powers of those before it."""

    MEMBER = "member"
    EXPERT = "expert"  # may mark the verified label of a shared analysis
    MODERATOR = "moderator"  # review queue, hide/delete any post, silence members
    ADMIN = "admin"  # changes roles

    @property
    def rank(self) -> int:
        return list(Role).index(self)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    __table_args__ = (Index("uq_users_username", "username", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # public name on the forum (@mentions); the e-mail address is never shown
    username: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER)
    silenced_until: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user",
                                                  cascade="all, delete-orphan")

    def has_role(self, role: Role) -> bool:
        return Role(self.role).rank >= role.rank

    def is_silenced(self, now: datetime | None = None) -> bool:
        return self.silenced_until is not None and self.silenced_until > (now or utcnow())


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # shown to the owner to tell tokens apart
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(back_populates="tokens")


class AnalysisRow(Base):
    __tablename__ = "analyses"
    __table_args__ = (Index("ix_analyses_user_created", "user_id", "created_at"),
                      Index("ix_analyses_status", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=Status.QUEUED)
    stage: Mapped[str] = mapped_column(String(32), default="queued")
    progress: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    # the uploaded file: display name only (never a path), content address on disk
    filename: Mapped[str] = mapped_column(String(255))
    media_sha256: Mapped[str] = mapped_column(String(64), index=True)
    media_size: Mapped[int]
    media_kind: Mapped[str] = mapped_column(String(16))
    frames: Mapped[int]
    model: Mapped[str | None] = mapped_column(String(100), default=None)
    verdict: Mapped[str | None] = mapped_column(String(16), default=None)
    score: Mapped[float | None] = mapped_column(default=None)
    result_json: Mapped[str | None] = mapped_column(Text, default=None)
    error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # in the trash since then (restorable; purged for good after WebSettings.trash_days)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    # started from a link (issue 26): the job worker fetches it, then stores the file like
    # an upload (``media_sha256`` is "" until then); ``source_json``: the fetched file's
    # ``LinkSource`` (what the site says), kept so that a job run again needs no new fetch
    source_url: Mapped[str | None] = mapped_column(Text, default=None)
    source_item: Mapped[int | None] = mapped_column(default=None)
    source_json: Mapped[str | None] = mapped_column(Text, default=None)
    # the result is that of an earlier analysis of the same user, same file (sha256) and
    # options, reused rather than run again (``fakelens.jobs.reuse``): its public id
    reused_from: Mapped[str | None] = mapped_column(String(32), default=None)


# the sessions' and throttles' tables share this metadata
from fakelens.db import auth_tables as _auth_tables  # noqa: E402, F401
