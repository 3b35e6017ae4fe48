"""Full-text search over topic titles and post bodies: SQLite FTS5 (tables kept in step
by triggers) or PostgreSQL's text search (generated tsvector columns, GIN indexes).
Only what every reader may see is found: no deleted or hidden posts, no deleted topics."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from fakelens.forum.tables import Post, Topic

MAX_QUERY = 200
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class SearchHit:
    topic: Topic
    post: Post
    excerpt: list[tuple[str, bool]]  # (text, matched) pieces, for the template to escape


def _fts5_query(query: str) -> str | None:
    """Every word must occur (the last one as a prefix); quoting each word keeps FTS5's
    operators (AND, NEAR, column filters, quotes) out of the user's hands."""
    words = _WORD.findall(query)[:12]
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


_VISIBLE = ("p.deleted_at IS NULL AND {false} = p.hidden AND t.deleted_at IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM forum_posts f WHERE f.topic_id = t.id "
            "AND f.number = 1 AND (f.hidden = {true} OR f.deleted_at IS NOT NULL))")


def _ids_sqlite(db: Session, query: str, limit: int, offset: int) -> list[tuple[int, int]]:
    fts = _fts5_query(query)
    if fts is None:
        return []
    visible = _VISIBLE.format(false=0, true=1)
    sql = text(f"""
        SELECT post_id, topic_id FROM (
            SELECT p.id AS post_id, p.topic_id AS topic_id, forum_posts_fts.rank AS rank
            FROM forum_posts_fts JOIN forum_posts p ON p.id = forum_posts_fts.rowid
            JOIN forum_topics t ON t.id = p.topic_id
            WHERE forum_posts_fts MATCH :q AND {visible}
            UNION ALL
            SELECT p.id, p.topic_id, forum_topics_fts.rank - 100
            FROM forum_topics_fts JOIN forum_topics t ON t.id = forum_topics_fts.rowid
            JOIN forum_posts p ON p.topic_id = t.id AND p.number = 1
            WHERE forum_topics_fts MATCH :q AND {visible}
        ) GROUP BY post_id ORDER BY min(rank), post_id DESC LIMIT :limit OFFSET :offset""")
    return [tuple(r) for r in db.execute(sql, {"q": fts, "limit": limit, "offset": offset})]


def _ids_postgresql(db: Session, query: str, limit: int, offset: int
                    ) -> list[tuple[int, int]]:
    if not _WORD.search(query):
        return []
    visible = _VISIBLE.format(false="false", true="true")
    sql = text(f"""
        WITH q AS (SELECT websearch_to_tsquery('english', :q) AS query)
        SELECT p.id, p.topic_id FROM forum_posts p JOIN forum_topics t ON t.id = p.topic_id,
             q
        WHERE (p.search_vector @@ q.query OR (p.number = 1 AND t.search_vector @@ q.query))
          AND {visible}
        ORDER BY ts_rank(p.search_vector, q.query)
                 + CASE WHEN p.number = 1 THEN 2 * ts_rank(t.search_vector, q.query)
                   ELSE 0 END DESC, p.id DESC
        LIMIT :limit OFFSET :offset""")
    return [tuple(r) for r in db.execute(sql, {"q": query, "limit": limit, "offset": offset})]


def excerpt(body: str, query: str, width: int = 220) -> list[tuple[str, bool]]:
    """A piece of ``body`` around the first matching word, matches marked."""
    words = {w.lower() for w in _WORD.findall(query)}
    plain = re.sub(r"[#>*_`~\[\]()!|-]+", " ", body)
    plain = " ".join(plain.split())
    first = min((m.start() for m in _WORD.finditer(plain)
                 if any(m[0].lower().startswith(w) for w in words)), default=0)
    start = max(0, first - width // 3)
    piece = ("…" if start else "") + plain[start:start + width] + (
        "…" if start + width < len(plain) else "")
    parts: list[tuple[str, bool]] = []
    last = 0
    for m in _WORD.finditer(piece):
        if any(m[0].lower().startswith(w) for w in words):
            parts += [(piece[last:m.start()], False), (m[0], True)]
            last = m.end()
    parts.append((piece[last:], False))
    return [p for p in parts if p[0]]


def search(db: Session, query: str, limit: int = 20, offset: int = 0) -> list[SearchHit]:
    query = query.strip()[:MAX_QUERY]
    if not query:
        return []
    finder = _ids_postgresql if db.get_bind().dialect.name == "postgresql" else _ids_sqlite
    ids = finder(db, query, limit, offset)
    hits = []
    for post_id, topic_id in ids:
        post, topic = db.get(Post, post_id), db.get(Topic, topic_id)
        hits.append(SearchHit(topic=topic, post=post, excerpt=excerpt(post.body, query)))
    return hits
