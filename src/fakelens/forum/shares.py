"""Sharing an analysis: an immutable snapshot (the result document and copies of the key
face thumbnails) published in a new topic; community votes and an expert's verified label
on it; unsharing withdraws its media from public view."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from fakelens.db.tables import AnalysisRow, Role, Status, User, utcnow
from fakelens.errors import InvalidPost, NotAllowed, NotFound
from fakelens.forum.policy import ForumRules, is_moderator, require
from fakelens.forum.posts import create_topic
from fakelens.forum.tables import Category, CommunityVote, SharedAnalysis, Topic, Vote
from fakelens.jobs.files import face_image_path
from fakelens.types import Analysis
from fakelens.web.settings import WebSettings

MAX_THUMBNAILS = 8
THUMBNAIL_KINDS = ("face", "heatmap")


class Snapshot(BaseModel):
    """What a shared analysis shows, frozen when it was shared."""

    analysis: Analysis
    filename: str
    analysed_at: datetime | None
    thumbnails: list[int]  # track ids whose face and heatmap were copied


def snapshot_of(share: SharedAnalysis) -> Snapshot:
    return Snapshot.model_validate_json(share.snapshot_json)


def thumbnail_path(settings: WebSettings, share_public_id: str, track_id: int,
                   kind: str) -> Path:
    if kind not in THUMBNAIL_KINDS or track_id < 0 or not share_public_id.replace(
            "-", "").replace("_", "").isalnum():
        raise NotFound("no such image")
    return settings.shares_dir / share_public_id / f"{track_id}-{kind}.png"


def active_share(db: Session, row: AnalysisRow) -> SharedAnalysis | None:
    return db.scalar(select(SharedAnalysis).where(SharedAnalysis.analysis_id == row.id,
                                                  SharedAnalysis.unshared_at.is_(None)))


def topic_id_of(db: Session, share: SharedAnalysis) -> int | None:
    return db.scalar(select(Topic.id).where(Topic.share_id == share.id))


def shared_topic(db: Session, row: AnalysisRow) -> tuple[SharedAnalysis, int] | None:
    """The analysis' active share and the id of its topic, if it is shared."""
    share = active_share(db, row)
    topic_id = topic_id_of(db, share) if share is not None else None
    return (share, topic_id) if topic_id is not None else None


def share_analysis(db: Session, rules: ForumRules, settings: WebSettings, user: User,
                   row: AnalysisRow, category: Category, title: str, body: str,
                   tags: str = "") -> Topic:
    """Publish ``row`` (the user's own, finished analysis) in a new topic."""
    if row.user_id != user.id:
        raise NotFound("no such analysis")
    if row.status != Status.DONE or not row.result_json:
        raise InvalidPost("only a finished analysis can be shared")
    existing = shared_topic(db, row)
    if existing is not None:
        raise InvalidPost(f"this analysis is shared already (topic {existing[1]})")
    analysis = Analysis.model_validate_json(row.result_json)
    share = SharedAnalysis(analysis_id=row.id, user_id=user.id, snapshot_json="{}")
    db.add(share)
    db.flush()
    copied: list[int] = []
    try:
        for track in analysis.tracks[:MAX_THUMBNAILS]:
            sources = [face_image_path(settings, row.public_id, track.track_id, kind)
                       for kind in THUMBNAIL_KINDS]
            if not all(p.is_file() for p in sources):
                continue
            for kind, source in zip(THUMBNAIL_KINDS, sources, strict=True):
                target = thumbnail_path(settings, share.public_id, track.track_id, kind)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
            copied.append(track.track_id)
        share.snapshot_json = Snapshot(analysis=analysis, filename=row.filename,
                                       analysed_at=row.finished_at,
                                       thumbnails=copied).model_dump_json()
        topic = create_topic(db, rules, user, category, title, body, tags,
                             share_id=share.id, commit=False)
        db.commit()
    except BaseException:
        db.rollback()
        shutil.rmtree(settings.shares_dir / share.public_id, ignore_errors=True)
        raise
    return topic


def unshare(db: Session, settings: WebSettings, user: User, share: SharedAnalysis) -> None:
    """Withdraw the media (thumbnails, file name) from public view; the topic stays."""
    require(user.id == share.user_id or is_moderator(user),
            "only the person who shared it or a moderator can withdraw it")
    if share.unshared_at is None:
        share.unshared_at = utcnow()
        db.commit()
    shutil.rmtree(settings.shares_dir / share.public_id, ignore_errors=True)


def unshare_all(db: Session, settings: WebSettings, row: AnalysisRow) -> None:
    """Before an analysis is deleted: withdraw every share of it."""
    for share in db.scalars(select(SharedAnalysis).where(SharedAnalysis.analysis_id == row.id)):
        share.unshared_at = share.unshared_at or utcnow()
        shutil.rmtree(settings.shares_dir / share.public_id, ignore_errors=True)
    db.flush()


def analysis_deleted(db: Session, share: SharedAnalysis) -> bool:
    """Whether the owner deleted the shared analysis (in the trash, or gone for good)."""
    if share.analysis_id is None:
        return True
    row = db.get(AnalysisRow, share.analysis_id)
    return row is None or row.deleted_at is not None


def get_share(db: Session, public_id: str) -> SharedAnalysis:
    share = db.scalar(select(SharedAnalysis).where(SharedAnalysis.public_id == public_id))
    if share is None:
        raise NotFound("no such shared analysis")
    return share


def vote(db: Session, user: User, share: SharedAnalysis, value: str) -> None:
    """The member's REAL / FAKE / UNSURE on ``share`` (voting again changes it)."""
    try:
        value = CommunityVote(value.upper())
    except ValueError as exc:
        raise InvalidPost("vote REAL, FAKE or UNSURE") from exc
    require(not user.is_silenced(), "a silenced account cannot vote")
    if share.unshared_at is not None:
        raise InvalidPost("this analysis was withdrawn: voting is closed")
    existing = db.get(Vote, (share.id, user.id))
    if existing is None:
        db.add(Vote(share_id=share.id, user_id=user.id, vote=value))
    else:
        existing.vote, existing.created_at = value, utcnow()
    db.commit()


def vote_counts(db: Session, share: SharedAnalysis) -> dict[str, int]:
    counts = Counter(db.scalars(select(Vote.vote).where(Vote.share_id == share.id)))
    return {v.value: counts.get(v.value, 0) for v in CommunityVote}


def my_vote(db: Session, user: User | None, share: SharedAnalysis) -> str | None:
    if user is None:
        return None
    row = db.get(Vote, (share.id, user.id))
    return row.vote if row else None


def verify(db: Session, user: User, share: SharedAnalysis, label: str, note: str = "") -> None:
    """An expert's or moderator's verified label (REAL or FAKE); empty clears it."""
    if not user.has_role(Role.EXPERT):
        raise NotAllowed("only experts and moderators can mark a verified label")
    label = label.strip().upper()
    if label and label not in (CommunityVote.REAL, CommunityVote.FAKE):
        raise InvalidPost("a verified label is REAL or FAKE")
    if label:
        share.verified_label, share.verified_by = label, user.id
        share.verified_note, share.verified_at = note.strip()[:500] or None, utcnow()
    else:
        share.verified_label = share.verified_by = share.verified_note = None
        share.verified_at = None
    db.commit()
