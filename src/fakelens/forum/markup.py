"""Posts are Markdown (CommonMark, raw HTML off), rendered once when written and then
sanitized by nh3: only a short list of tags and attributes survives, links may only be
http(s), mailto or relative and get ``rel="nofollow ugc noopener noreferrer"``, images only
from this site. ``@name`` becomes a link to the member's page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import nh3

MENTION = re.compile(r"(?<![\w@/])@([a-z0-9_]{3,20})\b")
_TAGS = {"p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
         "a", "img", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td"}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"},
               "th": {"align"}, "td": {"align"}}
_LINK_SCHEMES = {"http", "https", "mailto"}
# an image whose source was refused: keep its alt text only
_SOURCELESS_IMAGE = re.compile(r'<img(?![^>]*\ssrc=)(?:[^>]*\salt="([^"]*)")?[^>]*>')
_HEADING = re.compile(r"<(/?)h[12]>")  # a post's headings rank below the page's


@dataclass(frozen=True)
class Rendered:
    html: str
    links: int
    images: int
    mentions: tuple[str, ...]


@cache
def _markdown():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}
                      ).enable(["table", "strikethrough"])


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        # only this site's images: a third-party image would tell its host who reads
        return value if value.startswith("/") and not value.startswith("//") else None
    return value


def _link_mentions(html: str, known: set[str] | None) -> str:
    # in text only: split the HTML into tags and text, skip what is inside code, pre or a
    parts = re.split(r"(<[^>]+>)", html)
    skip_depth = 0
    for i, part in enumerate(parts):
        if part.startswith("<"):
            if re.match(r"<(code|pre|a)\b", part):
                skip_depth += 1
            elif re.match(r"</(code|pre|a)>", part):
                skip_depth = max(0, skip_depth - 1)
            continue
        if not skip_depth:
            parts[i] = MENTION.sub(
                lambda m: (f'<a href="/forum/u/{m[1]}" class="mention">@{m[1]}</a>'
                           if known is None or m[1] in known else m[0]), part)
    return "".join(parts)


def mentioned(text: str) -> tuple[str, ...]:
    """Usernames mentioned in ``text`` (Markdown), in order, once each."""
    return tuple(dict.fromkeys(m.lower() for m in MENTION.findall(text.lower())))


def render(text: str, known_users: set[str] | None = None) -> Rendered:
    """Safe HTML for a post. ``known_users``: mentions of other names stay plain text."""
    html = _markdown().render(text)
    html = _HEADING.sub(lambda m: f"<{m[1]}h3>", html)
    html = _link_mentions(html, known_users)
    clean = nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes=_LINK_SCHEMES,
                      attribute_filter=_keep_attribute, link_rel=None,
                      set_tag_attribute_values={"a": {"rel": "nofollow ugc noopener "
                                                              "noreferrer"}},
                      allowed_classes={"a": {"mention"}}, strip_comments=True)
    clean = _SOURCELESS_IMAGE.sub(lambda m: m[1] or "", clean)
    links = len(re.findall(r'<a href="(?!/forum/u/)', clean))
    images = clean.count("<img ")
    names = tuple(n for n in mentioned(text) if known_users is None or n in known_users)
    return Rendered(html=clean, links=links, images=images, mentions=names)


def quote(author: str, text: str, post_number: int) -> str:
    """Markdown quoting ``text`` by ``author`` (a reply's starting point)."""
    lines = text.strip().splitlines() or [""]
    quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in lines[:40])
    return f"> **@{author}** wrote (post {post_number}):\n>\n{quoted}\n\n"
