"""Forum: usernames and roles on users; categories (seeded), tags, topics, posts, likes,
shared-analysis snapshots, votes, flags, notifications; full-text search (FTS5 tables
kept by triggers on SQLite, generated tsvector columns + GIN indexes on PostgreSQL).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATEGORIES = [
    ("help-me-verify", "Help me verify", "Share an analysis and ask the community whether "
     "a video or image is genuine.", 1, False),
    ("methods-and-tools", "Methods & tools", "Detection methods, datasets, fakelens itself "
     "and other tools.", 2, False),
    ("announcements", "Announcements", "News from the people who run this service.", 3, True),
]


def _username_from(email: str, user_id: int, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_]", "", email.split("@")[0].lower())[:16] or "user"
    name = base if len(base) >= 3 else f"{base}_{user_id}"
    if name in taken:
        name = f"{base}_{user_id}"
    taken.add(name)
    return name


def _users() -> None:
    # plain ADD COLUMN, no table rebuild: on SQLite a rebuild of ``users`` would cascade
    # deletes into analyses and tokens (foreign keys are enforced)
    op.add_column("users", sa.Column("username", sa.String(length=32), nullable=False,
                                     server_default=""))
    op.add_column("users", sa.Column("role", sa.String(length=16), nullable=False,
                                     server_default="member"))
    op.add_column("users", sa.Column("silenced_until", sa.DateTime(), nullable=True))
    conn = op.get_bind()
    users = conn.execute(sa.text("SELECT id, email FROM users ORDER BY id")).all()
    taken: set[str] = set()
    for user_id, email in users:
        conn.execute(sa.text("UPDATE users SET username = :name WHERE id = :id"),
                     {"name": _username_from(email, user_id, taken), "id": user_id})
    if users:  # the first account administers the forum, as on a fresh install
        conn.execute(sa.text("UPDATE users SET role = 'admin' WHERE id = :id"),
                     {"id": users[0][0]})
    op.create_index("uq_users_username", "users", ["username"], unique=True)


def _search_sqlite() -> None:
    for table, column in (("forum_posts", "body"), ("forum_topics", "title")):
        fts = f"{table}_fts"
        op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, content='{table}', "
                   f"content_rowid='id', tokenize='porter unicode61')")
        op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN "
                   f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END")
        op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN "
                   f"INSERT INTO {fts}({fts}, rowid, {column}) "
                   f"VALUES ('delete', old.id, old.{column}); END")
        op.execute(f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {column} ON {table} BEGIN "
                   f"INSERT INTO {fts}({fts}, rowid, {column}) "
                   f"VALUES ('delete', old.id, old.{column}); "
                   f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END")


def _search_postgresql() -> None:
    for table, column in (("forum_posts", "body"), ("forum_topics", "title")):
        op.execute(f"ALTER TABLE {table} ADD COLUMN search_vector tsvector GENERATED ALWAYS "
                   f"AS (to_tsvector('english', {column})) STORED")
        op.execute(f"CREATE INDEX ix_{table}_search_vector ON {table} USING gin "
                   f"(search_vector)")


def upgrade() -> None:
    _users()
    categories = op.create_table(
        "forum_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("staff_only", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.bulk_insert(categories, [dict(slug=s, name=n, description=d, position=p, staff_only=o)
                                for s, n, d, p, o in CATEGORIES])
    op.create_table(
        "forum_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "forum_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("analysis_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("snapshot_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("unshared_at", sa.DateTime(), nullable=True),
        sa.Column("verified_label", sa.String(length=8), nullable=True),
        sa.Column("verified_by", sa.Integer(), nullable=True),
        sa.Column("verified_note", sa.String(length=500), nullable=True),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["analysis_id"], ["analyses.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["verified_by"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
    )
    op.create_index("ix_forum_shares_analysis_id", "forum_shares", ["analysis_id"])
    op.create_index("ix_forum_shares_user_id", "forum_shares", ["user_id"])
    op.create_table(
        "forum_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("share_id", sa.Integer(), nullable=True),
        sa.Column("accepted_post_id", sa.Integer(), nullable=True),
        sa.Column("reply_count", sa.Integer(), nullable=False),
        sa.Column("like_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_posted_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["category_id"], ["forum_categories.id"]),
        sa.ForeignKeyConstraint(["share_id"], ["forum_shares.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("share_id"),
    )
    op.create_index("ix_forum_topics_active", "forum_topics", ["last_posted_at"])
    op.create_index("ix_forum_topics_category_active", "forum_topics",
                    ["category_id", "last_posted_at"])
    op.create_index("ix_forum_topics_user_id", "forum_topics", ["user_id"])
    op.create_table(
        "forum_topic_tags",
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tag_id"], ["forum_tags.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["topic_id"], ["forum_topics.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("topic_id", "tag_id"),
    )
    op.create_index("ix_forum_topic_tags_tag_id", "forum_topic_tags", ["tag_id"])
    op.create_table(
        "forum_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("reply_to_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("like_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("edited_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["reply_to_id"], ["forum_posts.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["topic_id"], ["forum_topics.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("topic_id", "number"),
    )
    op.create_index("ix_forum_posts_user_created", "forum_posts", ["user_id", "created_at"])
    op.create_table(
        "forum_likes",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["forum_posts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id", "user_id"),
    )
    op.create_index("ix_forum_likes_user_id", "forum_likes", ["user_id"])
    op.create_table(
        "forum_votes",
        sa.Column("share_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("vote", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["share_id"], ["forum_shares.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("share_id", "user_id"),
    )
    op.create_index("ix_forum_votes_user_id", "forum_votes", ["user_id"])
    op.create_table(
        "forum_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["post_id"], ["forum_posts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["resolved_by"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("post_id", "user_id"),
    )
    op.create_index("ix_forum_flags_open", "forum_flags", ["resolved_at", "created_at"])
    op.create_table(
        "forum_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["post_id"], ["forum_posts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["topic_id"], ["forum_topics.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_forum_notifications_user", "forum_notifications",
                    ["user_id", "read_at", "created_at"])
    if op.get_bind().dialect.name == "postgresql":
        _search_postgresql()
    else:
        _search_sqlite()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS forum_posts_fts")
        op.execute("DROP TABLE IF EXISTS forum_topics_fts")
    for table in ("forum_notifications", "forum_flags", "forum_votes", "forum_likes",
                  "forum_posts", "forum_topic_tags", "forum_topics", "forum_shares",
                  "forum_tags", "forum_categories"):
        op.drop_table(table)
    op.drop_index("uq_users_username", table_name="users")
    for column in ("silenced_until", "role", "username"):
        op.drop_column("users", column)
