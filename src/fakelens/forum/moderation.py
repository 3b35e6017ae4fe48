"""Flags, the moderators' review queue, silencing, and roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from fakelens.db.engine import insert_or_ignore
from fakelens.db.tables import Role, User, utcnow
from fakelens.errors import InvalidPost, NotAllowed, NotFound
from fakelens.forum.policy import ForumRules, can_see_post, is_moderator, require
from fakelens.forum.tables import Flag, FlagReason, FlagResolution, Notification, Post, Topic

REASON_WORDS = {
    FlagReason.SPAM: "Spam",
    FlagReason.ABUSIVE: "Abusive or harassing",
    FlagReason.OFF_TOPIC: "Off-topic",
    FlagReason.ILLEGAL: "Illegal or non-consensual media",
}
ACTIONS = ("agree", "disagree", "delete", "silence")
# what the author of a reviewed post is told (a notification of this kind; no moderator named)
NOTICE_KINDS = {"agree": "hidden", "delete": "deleted", "silence": "silenced"}


def flag_post(db: Session, rules: ForumRules, user: User, post: Post, reason: str,
              note: str = "") -> bool:
    """Flag ``post``; True if it is hidden now (flags from ``rules.flag_threshold``
    distinct members hide it until a moderator decides)."""
    try:
        reason = FlagReason(reason)
    except ValueError as exc:
        raise InvalidPost("choose why you flag this post") from exc
    if post.user_id == user.id:
        raise NotAllowed("you cannot flag your own post")
    require(not user.is_silenced(), "a silenced account cannot flag posts")
    if post.deleted_at is not None or not can_see_post(user, post):
        raise NotFound("no such post")
    if not insert_or_ignore(db, Flag.__table__, post_id=post.id, user_id=user.id,
                            reason=reason, note=note.strip()[:500], created_at=utcnow()):
        db.rollback()
        raise InvalidPost("you flagged this post already; moderators will look at it")
    open_flags = db.scalar(select(func.count(func.distinct(Flag.user_id))).where(
        Flag.post_id == post.id, Flag.resolved_at.is_(None))) or 0
    if open_flags >= rules.flag_threshold and not post.hidden:
        post.hidden = True
    db.commit()
    return post.hidden


def my_open_flags(db: Session, user: User | None, post_ids: list[int]) -> dict[int, str]:
    """post id -> reason, for this user's flags that no moderator has reviewed yet."""
    if user is None or not post_ids:
        return {}
    rows = db.execute(select(Flag.post_id, Flag.reason).where(
        Flag.user_id == user.id, Flag.post_id.in_(post_ids), Flag.resolved_at.is_(None)))
    return {post_id: reason for post_id, reason in rows}


def unflag_post(db: Session, rules: ForumRules, user: User, post: Post) -> None:
    """Take back one's flag while it is not reviewed; a post hidden by flags alone is
    shown again once fewer than ``rules.flag_threshold`` members still flag it."""
    flag = db.scalar(select(Flag).where(Flag.post_id == post.id, Flag.user_id == user.id,
                                        Flag.resolved_at.is_(None)))
    if flag is None:
        raise InvalidPost("there is no flag of yours to take back (a moderator may have "
                          "reviewed it already)")
    db.delete(flag)
    db.flush()
    open_flags = db.scalar(select(func.count(func.distinct(Flag.user_id))).where(
        Flag.post_id == post.id, Flag.resolved_at.is_(None))) or 0
    if post.hidden and open_flags < rules.flag_threshold and post.deleted_at is None:
        post.hidden = False
    db.commit()


def hidden_by_moderator(db: Session, post_ids: list[int]) -> set[int]:
    """The ids among ``post_ids`` of hidden posts a moderator hid (their last reviewed flag
    was agreed with); the other hidden posts are hidden by flags alone, awaiting review."""
    if not post_ids:
        return set()
    last = (select(Flag.post_id, func.max(Flag.resolved_at).label("at"))
            .where(Flag.post_id.in_(post_ids), Flag.resolved_at.is_not(None))
            .group_by(Flag.post_id).subquery())
    rows = db.execute(select(Flag.post_id).join(
        last, (last.c.post_id == Flag.post_id) & (last.c.at == Flag.resolved_at))
        .join(Post, Post.id == Flag.post_id)
        .where(Post.hidden.is_(True), Flag.resolution == FlagResolution.AGREED))
    return {post_id for (post_id,) in rows}


@dataclass
class QueueItem:
    post: Post
    topic: Topic
    flags: list[Flag]
    flaggers: dict[int, str]  # user id -> username

    def flagged_by(self, user: User) -> bool:
        """A moderator does not review a flag they raised: another moderator does."""
        return any(f.user_id == user.id for f in self.flags)


def review_queue(db: Session, moderator: User, limit: int = 50) -> list[QueueItem]:
    """Posts with open flags, most flagged first, then oldest flag first."""
    require(is_moderator(moderator), "only moderators can see the review queue")
    counts = (select(Flag.post_id, func.count().label("n"), func.min(Flag.created_at)
                     .label("first")).where(Flag.resolved_at.is_(None))
              .group_by(Flag.post_id).subquery())
    rows = db.execute(select(Post, Topic).join(counts, counts.c.post_id == Post.id)
                      .join(Topic, Topic.id == Post.topic_id)
                      .order_by(counts.c.n.desc(), counts.c.first).limit(limit)).all()
    items = []
    for post, topic in rows:
        flags = list(db.scalars(select(Flag).where(Flag.post_id == post.id,
                                                   Flag.resolved_at.is_(None))
                                .order_by(Flag.created_at)))
        names = dict(db.execute(select(User.id, User.username)
                                .where(User.id.in_([f.user_id for f in flags]))).all())
        items.append(QueueItem(post=post, topic=topic, flags=flags, flaggers=names))
    return items


def open_flag_count(db: Session) -> int:
    return db.scalar(select(func.count(func.distinct(Flag.post_id)))
                     .where(Flag.resolved_at.is_(None))) or 0


def resolve(db: Session, rules: ForumRules, moderator: User, post: Post, action: str) -> None:
    """agree: hide the post; disagree: keep (show) it; delete: soft-delete it; silence:
    hide it and silence its author for ``rules.silence_days``. Closes the post's flags and
    tells the author of a hide, a delete or a silence (a notification). A moderator who
    flagged the post does not review it: another moderator does."""
    require(is_moderator(moderator), "only moderators can review flags")
    if action not in ACTIONS:
        raise InvalidPost(f"unknown action {action!r}")
    if db.scalar(select(Flag.id).where(Flag.post_id == post.id, Flag.user_id == moderator.id,
                                       Flag.resolved_at.is_(None)).limit(1)) is not None:
        raise NotAllowed("you flagged this post: another moderator reviews it")
    now = utcnow()
    resolution = {"agree": FlagResolution.AGREED, "disagree": FlagResolution.DISAGREED,
                  "delete": FlagResolution.DELETED, "silence": FlagResolution.AGREED}[action]
    if action == "disagree":
        post.hidden = False
    elif action == "delete":
        post.deleted_at = now
        topic = db.get(Topic, post.topic_id)
        if post.number == 1:
            topic.deleted_at = now
        else:
            topic.reply_count = max(0, topic.reply_count - 1)
    else:
        post.hidden = True
    if action == "silence":
        author = db.get(User, post.user_id)
        if author.has_role(Role.MODERATOR):
            raise NotAllowed("moderators cannot be silenced; an admin can change their role")
        author.silenced_until = now + timedelta(days=rules.silence_days)
    db.execute(update(Flag).where(Flag.post_id == post.id, Flag.resolved_at.is_(None))
               .values(resolved_at=now, resolution=resolution, resolved_by=moderator.id))
    if action in NOTICE_KINDS and post.user_id != moderator.id:
        db.add(Notification(user_id=post.user_id, kind=NOTICE_KINDS[action],
                            actor_id=moderator.id, topic_id=post.topic_id, post_id=post.id,
                            created_at=now))
    db.commit()


def set_role(db: Session, user: User, role: str, by: User | None = None) -> None:
    """Give ``user`` a role; ``by``: the admin doing it (None: the command line)."""
    try:
        role = Role(role)
    except ValueError as exc:
        raise InvalidPost(f"roles are {', '.join(r.value for r in Role)}") from exc
    if by is not None:
        require(by.has_role(Role.ADMIN), "only admins change roles")
        if by.id == user.id and role != Role.ADMIN:
            raise NotAllowed("an admin cannot take away their own role (ask another admin)")
    user.role = role
    if role.rank >= Role.MODERATOR.rank:
        user.silenced_until = None
    db.commit()


def unsilence(db: Session, moderator: User, user: User) -> None:
    require(is_moderator(moderator), "only moderators can lift a silence")
    user.silenced_until = None
    db.commit()
