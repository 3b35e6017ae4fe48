"""``add_web_commands``: the ``serve``, ``worker`` and ``db upgrade`` sub-commands and their
options; settings from ``FAKELENS_*``."""

from __future__ import annotations

import argparse

from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from webhelpers import other_client, register

from fakelens.cli import main
from fakelens.db.engine import alembic_config, current_revision, make_engine
from fakelens.web.app import create_app
from fakelens.web.commands import add_web_commands, cmd_db_upgrade, cmd_serve, cmd_worker
from fakelens.web.settings import WebSettings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fakelens")
    add_web_commands(p.add_subparsers(dest="command", required=True))
    return p


def test_serve_options():
    args = parser().parse_args(["serve"])
    assert (args.host, args.port, args.threads, args.func) == ("127.0.0.1", 8000, None,
                                                               cmd_serve)
    args = parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "9000",
                                "--threads", "0"])
    assert (args.host, args.port, args.threads) == ("0.0.0.0", 9000, 0)


def test_worker_options():
    args = parser().parse_args(["worker", "--threads", "4"])
    assert (args.threads, args.func) == (4, cmd_worker)


def test_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FAKELENS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FAKELENS_MAX_UPLOAD_MB", "2")
    monkeypatch.delenv("FAKELENS_DATABASE_URL", raising=False)
    settings = WebSettings()
    assert settings.max_upload_bytes == 2 * 1024 * 1024
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path / 'fakelens.db'}"


def test_db_upgrade(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("FAKELENS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FAKELENS_DATABASE_URL", raising=False)
    args = parser().parse_args(["db", "upgrade"])
    assert args.func == cmd_db_upgrade
    assert cmd_db_upgrade(args) == 0
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert f"at revision {head} (was empty)" in capsys.readouterr().out
    assert cmd_db_upgrade(args) == 0
    assert capsys.readouterr().out.strip() == f"fakelens db: at revision {head}"
    engine = make_engine(f"sqlite:///{tmp_path / 'fakelens.db'}")
    assert current_revision(engine) == head
    engine.dispose()


def test_users_set_role_and_list(monkeypatch, tmp_path, capsys):
    """An admin (or any role) from the command line; unknown members and roles are clear
    errors with a non-zero exit code."""
    monkeypatch.setenv("FAKELENS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FAKELENS_DATABASE_URL", raising=False)
    client = TestClient(create_app(WebSettings(workers=0)))
    with client:
        register(client, "first@example.org")
        register(other_client(client), "carol@example.org")
    assert main(["users", "set-role", "Carol@example.org", "moderator"]) == 0
    assert "@carol is now moderator" in capsys.readouterr().out
    assert main(["users", "set-role", "first", "expert"]) == 0
    assert main(["users", "list"]) == 0
    listing = capsys.readouterr().out
    assert "carol" in listing and "moderator" in listing and "expert" in listing
    assert main(["users", "set-role", "nobody@example.org", "admin"]) == 2
    assert "no account" in capsys.readouterr().err
    assert main(["users", "set-role", "carol", "overlord"]) != 0
    assert "roles are member, expert, moderator, admin" in capsys.readouterr().err
