"""Whole numbers a request carries (ids, pages), bounded where the route declares them.

Every id column is an INTEGER: 64 bits in SQLite but 32 in PostgreSQL, and a number the
column cannot hold reaching a query is a driver error (SQLite's OverflowError,
PostgreSQL's "integer out of range"), a 500. So every id and page of every route, the web
app's and the forum's, takes one of these types, checked before the route runs: an id out
of range in the URL path names nothing (404, see ``names_nothing``); a page, or an id in
the query string or a form, out of range is a 422."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Form, Path, Query

MAX_ID = 2**31 - 1  # the largest id every database holds (PostgreSQL's INTEGER)
MAX_PAGE = 100_000  # far past any listing's end; keeps OFFSET small

# a row's id in the URL path (topics, posts, tokens, sessions ...)
PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="an id (1 or more)")]
# a position in the URL path that starts at 0 (a face track, a frame of the strip)
PathIndex = Annotated[int, Path(ge=0, le=MAX_ID, description="a position (0 or more)")]
# an optional id in the query string (?quote=) or in a form field (reply_to)
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
FormId = Annotated[int | None, Form(ge=1, le=MAX_ID)]
# a page of a listing (?page=), 1 to MAX_PAGE
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE, description="the page, from 1")]

_NUMBER_ERRORS = {"int_parsing", "int_from_float", "int_type", "greater_than_equal",
                  "less_than_equal", "greater_than", "less_than"}


def names_nothing(errors: Sequence[Any]) -> bool:
    """Whether a request's validation errors are all a number in the URL path that is
    no number or out of range: such a URL names nothing (404, not 422)."""
    return bool(errors) and all(
        err.get("loc", ())[:1] == ("path",) and err.get("type") in _NUMBER_ERRORS
        for err in errors)
