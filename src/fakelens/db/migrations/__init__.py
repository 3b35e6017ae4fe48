"""Alembic migrations of the web service's database (applied by ``upgrade_schema``)."""
