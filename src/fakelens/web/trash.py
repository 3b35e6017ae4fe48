"""Deleting an analysis from the pages: it goes to the trash first (hidden, restorable for
``trash_days``), then it is purged with its file. A forum share of it loses its media at
once: public media must not outlive the owner's "delete" by days."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fakelens.db.tables import AnalysisRow, User, utcnow
from fakelens.forum.shares import active_share, unshare_all
from fakelens.web.settings import WebSettings
from fakelens.web.uploads import delete_analysis


def move_to_trash(db: Session, settings: WebSettings, row: AnalysisRow) -> bool:
    """Hide the analysis; returns whether a forum share of it lost its media."""
    shared = active_share(db, row) is not None
    unshare_all(db, settings, row)
    row.deleted_at = utcnow()
    db.commit()
    return shared


def restore(db: Session, row: AnalysisRow) -> None:
    row.deleted_at = None
    db.commit()


def trashed(db: Session, user: User) -> list[AnalysisRow]:
    return list(db.scalars(select(AnalysisRow).where(
        AnalysisRow.user_id == user.id, AnalysisRow.deleted_at.is_not(None))
        .order_by(AnalysisRow.deleted_at.desc())))


def purge_expired(db: Session, settings: WebSettings, user: User | None = None) -> int:
    """Delete for good the analyses (of ``user``, or everyone's) trashed longer than
    ``trash_days`` ago."""
    cutoff = utcnow() - timedelta(days=settings.trash_days)
    query = select(AnalysisRow).where(AnalysisRow.deleted_at.is_not(None),
                                      AnalysisRow.deleted_at <= cutoff)
    if user is not None:
        query = query.where(AnalysisRow.user_id == user.id)
    rows = db.scalars(query).all()
    for row in rows:
        delete_analysis(db, settings, row)
    return len(rows)
