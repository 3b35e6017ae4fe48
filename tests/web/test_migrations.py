"""Alembic migrations (on SQLite and PostgreSQL): they build exactly the schema of the
models, run again as no-ops, adopt a database made by ``create_all`` before migrations
existed, go down and up again, and processes starting together migrate in turn."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select, text

from fakelens.db.engine import (
    INITIAL_REVISION,
    alembic_config,
    current_revision,
    make_engine,
    normalize_url,
    upgrade_schema,
)
from fakelens.db.tables import User
from fakelens.schema import include_object, metadata


@pytest.fixture
def engine(database_url: str | None, tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(database_url or f"sqlite:///{tmp_path / 'test.db'}")
    yield engine
    engine.dispose()


def head() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def differences(engine: Engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        return compare_metadata(context, metadata())


def test_migrations_build_the_schema_of_the_models(engine):
    assert current_revision(engine) is None
    upgrade_schema(engine)
    assert current_revision(engine) == head()
    assert differences(engine) == []
    upgrade_schema(engine)  # at head already: nothing happens
    assert current_revision(engine) == head()


def test_database_made_by_create_all_is_adopted(engine):
    """A database from before migrations existed: the 0001 schema without alembic_version
    (what ``create_all`` made then), with an account, an analysis and a token in it."""
    upgrade_schema(engine, INITIAL_REVISION)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("INSERT INTO users (email, password_hash, created_at) VALUES "
                          "('a.b@example.org', 'x', :t), ('ab@example.org', 'x', :t)"),
                     {"t": datetime(2026, 1, 1)})
        conn.execute(text(
            "INSERT INTO analyses (public_id, user_id, status, stage, progress, attempts, "
            "filename, media_sha256, media_size, media_kind, frames, created_at, updated_at) "
            "VALUES ('p1', 1, 'done', 'done', 100, 1, 'a.mp4', 'f', 1, 'video', 32, :t, :t)"),
            {"t": datetime(2026, 1, 1)})
    upgrade_schema(engine)
    assert current_revision(engine) == head()
    assert differences(engine) == []
    with engine.connect() as conn:
        users = conn.execute(select(User.email, User.username, User.role)
                             .order_by(User.id)).all()
        analyses = conn.execute(text("SELECT count(*) FROM analyses")).scalar()
    # usernames made from the address (unique), the first account becomes the admin,
    # and nothing that pointed at users was lost on the way
    assert [tuple(u) for u in users] == [("a.b@example.org", "ab_1", "admin"),
                                         ("ab@example.org", "ab_2", "member")]
    assert analyses == 1


def test_down_and_up_again(engine):
    upgrade_schema(engine)
    with engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade_schema(engine, INITIAL_REVISION)
    upgrade_schema(engine)
    assert differences(engine) == []


def test_processes_starting_together_migrate_in_turn(postgres_url, tmp_path):
    """serve and its workers may start at once on a shared PostgreSQL database."""
    go = tmp_path / "go"  # once every process is ready, they all migrate at once
    code = ("import os, sys, time; from fakelens.db.engine import make_engine, upgrade_schema\n"
            "engine = make_engine(sys.argv[1])\n"
            "engine.connect().close()\n"
            "open(sys.argv[3], 'w').close()\n"
            "while not os.path.exists(sys.argv[2]): time.sleep(0.002)\n"
            "upgrade_schema(engine)")
    ready = [tmp_path / f"ready-{i}" for i in range(3)]
    procs = [subprocess.Popen([sys.executable, "-c", code, postgres_url, str(go), str(r)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for r in ready]
    deadline = time.monotonic() + 60
    while not all(r.exists() for r in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    outputs = [proc.communicate(timeout=120)[0].decode() for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], outputs
    engine = make_engine(postgres_url)
    try:
        assert current_revision(engine) == head() and differences(engine) == []
    finally:
        engine.dispose()


def test_postgres_urls_use_psycopg():
    assert normalize_url("postgres://u:p%40ss@db:5433/fl") == "postgresql+psycopg://u:p%40ss@db:5433/fl"
    assert normalize_url("postgresql://db/fl") == "postgresql+psycopg://db/fl"
    assert normalize_url("postgresql+psycopg2://db/fl") == "postgresql+psycopg2://db/fl"
    assert normalize_url("sqlite:////srv/fakelens.db") == "sqlite:////srv/fakelens.db"
