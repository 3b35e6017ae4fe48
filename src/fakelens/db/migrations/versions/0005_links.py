"""Links (issue 26): an analysis may start from a link, fetched by the job worker: the
link and the video asked for, and once fetched what the site says (``LinkSource`` JSON).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("analyses") as batch:
        batch.add_column(sa.Column("source_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("source_item", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("source_json", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("analyses") as batch:
        batch.drop_column("source_json")
        batch.drop_column("source_item")
        batch.drop_column("source_url")
