"""``add_web_commands``: the ``serve``, ``worker`` and ``db upgrade`` sub-commands and their
options; settings from ``FAKELENS_*``."""

from __future__ import annotations

import argparse

from fakelens.db.engine import current_revision, make_engine
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
    monkeypatch.delenv("FAKELENS_SECRET_KEY", raising=False)
    settings = WebSettings()
    assert settings.max_upload_bytes == 2 * 1024 * 1024
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path / 'fakelens.db'}"
    key = settings.resolved_secret_key()
    assert len(key) > 40 and key == WebSettings().resolved_secret_key()  # kept on disk
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_db_upgrade(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("FAKELENS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FAKELENS_DATABASE_URL", raising=False)
    args = parser().parse_args(["db", "upgrade"])
    assert args.func == cmd_db_upgrade
    assert cmd_db_upgrade(args) == 0
    assert "at revision 0001 (was empty)" in capsys.readouterr().out
    assert cmd_db_upgrade(args) == 0
    assert capsys.readouterr().out.strip() == "fakelens db: at revision 0001"
    engine = make_engine(f"sqlite:///{tmp_path / 'fakelens.db'}")
    assert current_revision(engine) == "0001"
    engine.dispose()
