"""The whole database schema, for migrations and schema checks: the core tables
(``fakelens.db``) and the forum's (``fakelens.forum.tables``) share one metadata. The
forum sits above the database layer, so the assembly happens here, above both."""

from __future__ import annotations

from sqlalchemy import MetaData


def metadata() -> MetaData:
    """``Base.metadata`` with every table module imported (so every table registered)."""
    from fakelens.db import tables
    from fakelens.forum import tables as _forum_tables  # noqa: F401 - registers its tables

    return tables.Base.metadata


def include_object(obj, name: str | None, type_: str, reflected: bool, compare_to) -> bool:
    """Schema comparison (autogenerate, tests) skips the full-text search objects that the
    migrations make outside the models."""
    from fakelens.forum.tables import is_search_object

    return not is_search_object(name, type_)
