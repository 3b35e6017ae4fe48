"""CLI sub-commands ``serve``, ``worker``, ``db upgrade`` and ``users``; the web stack is
imported only when they run."""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


def _settings(args: argparse.Namespace):
    from pydantic import ValidationError

    from fakelens.errors import ConfigError
    from fakelens.web.settings import WebSettings

    try:
        settings = WebSettings()
    except ValidationError as exc:  # one line per bad FAKELENS_* setting, no traceback
        lines = [f"FAKELENS_{'_'.join(map(str, e['loc'])).upper()}: "
                 f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
        raise ConfigError("invalid setting: " + "; ".join(lines)) from None
    if getattr(args, "threads", None) is not None:
        settings = settings.model_copy(update={"workers": args.threads})
    return settings


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from fakelens.web.app import create_app

    settings = _settings(args)
    app = create_app(settings)
    print(f"fakelens: data in {settings.data_dir}; open http://{args.host}:{args.port}/",
          flush=True)
    uvicorn.run(app, host=args.host, port=args.port, proxy_headers=args.proxy_headers,
                log_level="info")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Run jobs until SIGTERM or SIGINT; then finish or hand back the running ones
    (``FAKELENS_STOP_GRACE_S``) and exit 0."""
    import os
    import sys

    from fakelens.jobs.queue import run_worker
    from fakelens.jobs.tasks import StaleSweeper, open_backend, recover

    settings = _settings(args)
    backend = open_backend(settings)
    engine, sessions, huey, enqueue = (backend.engine, backend.sessions, backend.huey,
                                       backend.enqueue)
    recover(sessions, enqueue, settings.max_attempts, settings.stale_after_s)
    sweeper = StaleSweeper(sessions, enqueue, settings).start()
    threads = settings.workers or 1
    print(f"fakelens worker: {threads} thread(s) on the "
          f"{'Redis' if settings.redis_url else 'SQLite'} queue", flush=True)
    try:
        ended = run_worker(huey, backend.job, threads, settings.stop_grace_s)
    finally:
        sweeper.stop()
        engine.dispose()
    print("fakelens worker: stopped", flush=True)
    if not ended:  # a job thread inside a computation: the interpreter's exit would abort
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Apply the database migrations (serve and worker also do it when they start)."""
    from fakelens.db.engine import current_revision, make_engine, upgrade_schema

    settings = _settings(args)
    settings.prepare_dirs()
    engine = make_engine(settings.resolved_database_url())
    try:
        before = current_revision(engine)
        upgrade_schema(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    print(f"fakelens db: at revision {after}" + ("" if before == after
                                                 else f" (was {before or 'empty'})"))
    return 0


def _open_db(args: argparse.Namespace):
    from fakelens.db.engine import make_engine, make_sessionmaker, upgrade_schema

    settings = _settings(args)
    settings.prepare_dirs()
    engine = make_engine(settings.resolved_database_url())
    upgrade_schema(engine)
    return engine, make_sessionmaker(engine)


def cmd_users_set_role(args: argparse.Namespace) -> int:
    """Give a member (e-mail address or username) a role: member, expert, moderator, admin."""
    from sqlalchemy import func, or_, select

    from fakelens.db.tables import User
    from fakelens.errors import NotFound
    from fakelens.forum.moderation import set_role

    engine, sessions = _open_db(args)
    try:
        with sessions() as db:
            who = args.user.strip().lower()
            user = db.scalar(select(User).where(or_(func.lower(User.email) == who,
                                                    User.username == who.lstrip("@"))))
            if user is None:
                raise NotFound(f"no account with the e-mail address or username {args.user!r}")
            set_role(db, user, args.role)
            print(f"fakelens users: @{user.username} is now {user.role}")
    finally:
        engine.dispose()
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from fakelens.db.tables import User

    engine, sessions = _open_db(args)
    try:
        with sessions() as db:
            for user in db.scalars(select(User).order_by(User.id)):
                silenced = f"  silenced until {user.silenced_until:%Y-%m-%d %H:%M}" if (
                    user.is_silenced()) else ""
                print(f"{user.username:<20} {user.role:<10} {user.email}{silenced}")
    finally:
        engine.dispose()
    return 0


def add_web_commands(subparsers) -> None:
    """Register ``serve`` and ``worker`` on the CLI's sub-parsers."""
    p = subparsers.add_parser("serve", help="run the web service (API + web UI)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--threads", type=int, default=None,
                   help="job threads inside the server (0: leave jobs to `fakelens worker`; "
                   "default FAKELENS_WORKERS or 1)")
    p.add_argument("--proxy-headers", action="store_true",
                   help="trust X-Forwarded-* from a reverse proxy")
    p.set_defaults(func=cmd_serve)

    p = subparsers.add_parser("worker", help="run analysis jobs from the queue "
                              "(set FAKELENS_REDIS_URL to share it between machines)")
    p.add_argument("--threads", type=int, default=None,
                   help="jobs run at once (default FAKELENS_WORKERS or 1)")
    p.set_defaults(func=cmd_worker)

    p = subparsers.add_parser("db", help="the web service's database (FAKELENS_DATABASE_URL)")
    db = p.add_subparsers(dest="db_command", required=True)
    p = db.add_parser("upgrade", help="apply the schema migrations (serve and worker apply "
                      "them at startup too)")
    p.set_defaults(func=cmd_db_upgrade)

    p = subparsers.add_parser("users", help="accounts of the web service and their forum "
                              "roles")
    users = p.add_subparsers(dest="users_command", required=True)
    p = users.add_parser("set-role", help="give an account a role (member, expert, "
                         "moderator, admin)")
    p.add_argument("user", help="e-mail address or username")
    p.add_argument("role", help="member, expert, moderator or admin")
    p.set_defaults(func=cmd_users_set_role)
    p = users.add_parser("list", help="every account with its role")
    p.set_defaults(func=cmd_users_list)
