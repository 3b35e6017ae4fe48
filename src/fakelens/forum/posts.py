"""Writing on the forum: topics, replies, edits, soft deletes, likes, accepted answers, and
the notifications they cause. Each function checks permissions and limits, changes the
session and commits."""

from __future__ import annotations

import re
import time

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from fakelens.db.engine import insert_or_ignore
from fakelens.db.tables import Role, User, utcnow
from fakelens.errors import InvalidPost, NotAllowed, NotFound
from fakelens.forum import markup
from fakelens.forum.policy import (
    MAX_TAGS,
    ForumRules,
    can_accept,
    can_delete,
    can_edit,
    can_see_post,
    check_content,
    check_may_post,
    check_text,
    is_moderator,
    require,
)
from fakelens.forum.tables import Category, Like, Notification, Post, Tag, Topic, TopicTag

TAG = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
_WRITE_ATTEMPTS = 8


def parse_tags(raw: str) -> list[str]:
    """``"deepfake, Face-Swap  video"`` -> ``["deepfake", "face-swap", "video"]``."""
    tags = list(dict.fromkeys(t.lower() for t in re.split(r"[\s,]+", raw.strip()) if t))
    bad = [t for t in tags if not TAG.match(t)]
    if bad:
        raise InvalidPost(f"Tags are lower-case letters, digits and dashes (up to 32): "
                          f"{', '.join(bad[:3])} is not.")
    if len(tags) > MAX_TAGS:
        raise InvalidPost(f"At most {MAX_TAGS} tags per topic.")
    return tags


def _known_usernames(db: Session, text: str) -> set[str]:
    names = markup.mentioned(text)
    if not names:
        return set()
    return set(db.scalars(select(User.username).where(User.username.in_(names))))


def render_for(db: Session, text: str) -> markup.Rendered:
    return markup.render(text, _known_usernames(db, text))


def get_category(db: Session, slug: str) -> Category:
    category = db.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        raise NotFound("no such category")
    return category


def get_topic(db: Session, topic_id: int, viewer: User | None = None) -> Topic:
    topic = db.get(Topic, topic_id)
    if topic is None or (topic.deleted_at is not None and not is_moderator(viewer)):
        raise NotFound("no such topic (it may have been deleted)")
    return topic


def get_post(db: Session, post_id: int) -> Post:
    post = db.get(Post, post_id)
    if post is None:
        raise NotFound("no such post")
    return post


def _set_tags(db: Session, topic: Topic, names: list[str]) -> None:
    db.execute(delete(TopicTag).where(TopicTag.topic_id == topic.id))
    for name in names:
        insert_or_ignore(db, Tag.__table__, name=name)  # two topics may add it at once
        tag_id = db.scalar(select(Tag.id).where(Tag.name == name))
        db.add(TopicTag(topic_id=topic.id, tag_id=tag_id))


def topic_tags(db: Session, topic_ids: list[int]) -> dict[int, list[str]]:
    rows = db.execute(select(TopicTag.topic_id, Tag.name).join(Tag, Tag.id == TopicTag.tag_id)
                      .where(TopicTag.topic_id.in_(topic_ids)).order_by(Tag.name)).all()
    tags: dict[int, list[str]] = {}
    for topic_id, name in rows:
        tags.setdefault(topic_id, []).append(name)
    return tags


def _notify(db: Session, user_id: int, kind: str, actor: User, topic: Topic,
            post: Post | None) -> None:
    if user_id != actor.id:
        db.add(Notification(user_id=user_id, kind=kind, actor_id=actor.id, topic_id=topic.id,
                            post_id=post.id if post else None))


def _notify_mentions(db: Session, rendered: markup.Rendered, actor: User, topic: Topic,
                     post: Post, already: set[int]) -> None:
    if not rendered.mentions:
        return
    for user_id in db.scalars(select(User.id).where(User.username.in_(rendered.mentions))):
        if user_id not in already:
            _notify(db, user_id, "mention", actor, topic, post)
            already.add(user_id)


def create_topic(db: Session, rules: ForumRules, user: User, category: Category, title: str,
                 body: str, tags: str = "", share_id: int | None = None,
                 commit: bool = True) -> Topic:
    title = " ".join(title.split())
    check_text(title, body)
    if category.staff_only:
        require(user.has_role(Role.MODERATOR), f"only moderators open topics in "
                f"{category.name}")
    tag_names = parse_tags(tags)
    rendered = render_for(db, body)
    check_may_post(db, rules, user, rendered, new_topic=True)
    now = utcnow()
    topic = Topic(category_id=category.id, user_id=user.id, title=title, share_id=share_id,
                  created_at=now, last_posted_at=now)
    db.add(topic)
    db.flush()
    post = Post(topic_id=topic.id, user_id=user.id, number=1, body=body, html=rendered.html,
                created_at=now)
    db.add(post)
    db.flush()
    _set_tags(db, topic, tag_names)
    _notify_mentions(db, rendered, user, topic, post, {user.id})
    if commit:
        db.commit()
    return topic


def reply(db: Session, rules: ForumRules, user: User, topic: Topic, body: str,
          reply_to_id: int | None = None) -> Post:
    check_text(None, body)
    rendered = render_for(db, body)
    check_may_post(db, rules, user, rendered, new_topic=False)
    reply_to = None
    if reply_to_id is not None:
        reply_to = db.get(Post, reply_to_id)
        if reply_to is None or reply_to.topic_id != topic.id:
            raise InvalidPost("the quoted post is not in this topic")
    for attempt in range(_WRITE_ATTEMPTS):
        try:
            return _insert_reply(db, user, topic, body, rendered, reply_to)
        except (IntegrityError, OperationalError) as exc:
            # two replies at once took the same number, or (SQLite) the other writer's
            # commit made this transaction's snapshot stale: start again
            db.rollback()
            if attempt == _WRITE_ATTEMPTS - 1 or (isinstance(exc, OperationalError)
                                                  and "locked" not in str(exc)):
                raise
            time.sleep(0.02 * (attempt + 1))
    raise AssertionError("unreachable")


def _insert_reply(db: Session, user: User, topic: Topic, body: str,
                  rendered: markup.Rendered, reply_to: Post | None) -> Post:
    now = utcnow()
    # the topic row lock orders concurrent replies on PostgreSQL
    db.execute(select(Topic.id).where(Topic.id == topic.id).with_for_update())
    number = (db.scalar(select(func.max(Post.number)).where(Post.topic_id == topic.id))
              or 0) + 1
    post = Post(topic_id=topic.id, user_id=user.id, number=number, body=body,
                html=rendered.html, reply_to_id=reply_to.id if reply_to else None,
                created_at=now)
    db.add(post)
    db.execute(update(Topic).where(Topic.id == topic.id).values(
        reply_count=Topic.reply_count + 1, last_posted_at=now))
    db.flush()
    told = {user.id}
    if reply_to is not None and reply_to.user_id not in told:
        _notify(db, reply_to.user_id, "quote", user, topic, post)
        told.add(reply_to.user_id)
    if topic.user_id not in told:
        _notify(db, topic.user_id, "reply", user, topic, post)
        told.add(topic.user_id)
    _notify_mentions(db, rendered, user, topic, post, told)
    db.commit()
    return post


def edit_post(db: Session, rules: ForumRules, user: User, post: Post, body: str,
              title: str | None = None) -> None:
    """Change a post (and, for the opening post, the topic's title); marks it edited."""
    require(can_edit(user, post), "only the author or a moderator can edit this post")
    if title is not None:
        title = " ".join(title.split())
    check_text(title, body)
    rendered = render_for(db, body)
    if user.id == post.user_id:
        check_content(rules, user, rendered)
    post.body, post.html, post.edited_at = body, rendered.html, utcnow()
    if title is not None and post.number == 1:
        topic = db.get(Topic, post.topic_id)
        topic.title = title
    db.commit()


def delete_post(db: Session, user: User, post: Post) -> None:
    """Soft delete: the text stays for moderators, readers see that it was deleted.
    Deleting the opening post deletes the topic."""
    require(can_delete(user, post), "only the author or a moderator can delete this post")
    now = utcnow()
    post.deleted_at = now
    topic = db.get(Topic, post.topic_id)
    if post.number == 1:
        topic.deleted_at = now
    else:
        topic.reply_count = max(0, topic.reply_count - 1)
        if topic.accepted_post_id == post.id:
            topic.accepted_post_id = None
    db.commit()


def toggle_like(db: Session, user: User, post: Post) -> bool:
    """Like, or take the like back; True if the post is now liked by ``user``."""
    require(not user.is_silenced(), "a silenced account cannot like posts")
    if post.user_id == user.id:
        raise NotAllowed("you cannot like your own post")
    require(can_see_post(user, post) and post.deleted_at is None, "this post is not visible")
    if db.get(Like, (post.id, user.id)) is None:
        delta = 1
        changed = insert_or_ignore(db, Like.__table__, post_id=post.id, user_id=user.id,
                                   created_at=utcnow())
    else:
        delta = -1
        changed = db.execute(delete(Like).where(Like.post_id == post.id, Like.user_id == user.id)
                             .returning(Like.post_id)).first() is not None
    if changed:  # a double click racing itself counts once
        db.execute(update(Post).where(Post.id == post.id)
                   .values(like_count=Post.like_count + delta))
        db.execute(update(Topic).where(Topic.id == post.topic_id)
                   .values(like_count=Topic.like_count + delta))
    db.commit()
    return delta > 0


def accept_answer(db: Session, user: User, post: Post) -> None:
    """Mark ``post`` the topic's answer (again on the same post: take it back)."""
    topic = db.get(Topic, post.topic_id)
    require(can_accept(user, topic), "only the topic's author or a moderator can accept "
            "an answer")
    if post.number == 1:
        raise InvalidPost("the opening post cannot be its own answer")
    if post.deleted_at is not None or post.hidden:
        raise InvalidPost("a deleted or hidden post cannot be the answer")
    if topic.accepted_post_id == post.id:
        topic.accepted_post_id = None
    else:
        topic.accepted_post_id = post.id
        _notify(db, post.user_id, "accepted", user, topic, post)
    db.commit()


def mark_notifications_read(db: Session, user: User) -> None:
    db.execute(update(Notification).where(Notification.user_id == user.id,
                                          Notification.read_at.is_(None))
               .values(read_at=utcnow()))
    db.commit()


def unread_notifications(db: Session, user: User) -> int:
    return db.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0
