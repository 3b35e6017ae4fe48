"""Throwaway PostgreSQL and Redis servers for the web tests, started from the installed
binaries on a free loopback port and removed afterwards.

A test whose server binary is missing is skipped with the reason, except under CI (``CI``
set) or scripts/test.sh (``FAKELENS_REQUIRE_SERVICES=1``, it installs them): there it
fails loudly."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout_s: float = 30, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the process listening on {port} exited ({proc.returncode})")
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s}s")
        time.sleep(0.05)


def missing(what: str, hint: str):
    """Fail under CI, skip elsewhere."""
    message = f"{what} is not installed ({hint})"
    if os.environ.get("CI") or os.environ.get("FAKELENS_REQUIRE_SERVICES"):
        pytest.fail(f"required by CI / FAKELENS_REQUIRE_SERVICES, but {message}",
                    pytrace=False)
    pytest.skip(message)


def stop(proc: subprocess.Popen, timeout_s: float = 10) -> None:
    """SIGTERM, then SIGKILL; waits for the process either way."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout_s)


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return found[-1] if found else shutil.which(name)


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the ``postgres`` user."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


_PG_CONTROL: dict[str, list[str]] = {}


def postgres_control(url: str, action: str) -> None:
    """``stop`` (fast: connections are cut, committed data kept) or ``start`` the server
    of a ``postgres_server`` URL (a database URL on that server works too)."""
    base = url.rsplit("/", 1)[0]
    [cmd] = [c for u, c in _PG_CONTROL.items() if u.rsplit("/", 1)[0] == base]
    subprocess.run(_as_postgres([*cmd, action]), check=True, capture_output=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A fresh cluster (trust auth, no fsync) on 127.0.0.1; yields the admin URL
    ``postgresql+psycopg://fakelens@127.0.0.1:PORT/postgres``."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        missing("PostgreSQL (initdb, pg_ctl)", "apt-get install postgresql")
    root = Path(tempfile.mkdtemp(prefix="fakelens-pg-"))
    data, log = root / "data", root / "server.log"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    try:
        subprocess.run(_as_postgres([initdb, "-D", str(data), "-U", "fakelens", "-A", "trust",
                                     "-E", "UTF8", "--locale=C", "--no-sync"]),
                       check=True, capture_output=True)
        options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "-l", str(log), "-o", options,
                                     "-w", "-t", "60", "start"]),
                       check=True, capture_output=True)
        url = f"postgresql+psycopg://fakelens@127.0.0.1:{port}/postgres"
        _PG_CONTROL[url] = [pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w",
                            "-t", "60", "-m", "fast"]
        try:
            yield url
        finally:
            subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "-w",
                                         "stop"]), capture_output=True)
    except subprocess.CalledProcessError as exc:
        text = log.read_text() if log.is_file() else ""
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr!r}\n{text}") from exc
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A redis-server without persistence on 127.0.0.1; yields ``redis://127.0.0.1:PORT``."""
    binary = shutil.which("redis-server")
    if not binary:
        missing("redis-server", "apt-get install redis-server")
    root = Path(tempfile.mkdtemp(prefix="fakelens-redis-"))
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", str(root),
                             "--daemonize", "no", "--loglevel", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc=proc)
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop(proc)
        shutil.rmtree(root, ignore_errors=True)


def service_env(data_dir: Path, database_url: str | None, redis_url: str | None = None,
                **settings: object) -> dict[str, str]:
    """The environment of a ``fakelens serve`` / ``worker`` subprocess: this process's
    (model and weights dirs included) with the web settings replaced."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FAKELENS_") or k in ("FAKELENS_MODEL_DIR", "FAKELENS_SAMPLES",
                                                     "FAKELENS_WEIGHTS_DIR",
                                                     "FAKELENS_ALLOW_DOWNLOAD")}
    env.update(FAKELENS_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    if database_url:
        env["FAKELENS_DATABASE_URL"] = database_url
    if redis_url:
        env["FAKELENS_REDIS_URL"] = redis_url
    env.update({f"FAKELENS_{k.upper()}": str(v) for k, v in settings.items()})
    return env


class Service:
    """``python -m fakelens ARGS`` (or ``python SCRIPT ARGS``, a script that runs the CLI)
    as a subprocess, its output in ``log``."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path,
                 script: Path | None = None):
        self.args, self.env, self.log, self.script = args, env, log, script
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 120) -> Service:
        args = list(self.args)
        if args[0] == "serve":
            self.port = free_port()
            args += ["--port", str(self.port)]
        with open(self.log, "ab") as out:
            program = [str(self.script)] if self.script else ["-m", "fakelens"]
            self.proc = subprocess.Popen([sys.executable, *program, "-v", *args],
                                         env=self.env, stdout=out, stderr=subprocess.STDOUT)
        if self.port is not None:
            try:
                wait_port(self.port, timeout_s, self.proc)
            except Exception as exc:
                self.stop()
                raise RuntimeError(f"{exc}\n{self.output()}") from exc
        return self

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as in a crash or a power cut."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.is_file() else ""

    def __enter__(self) -> Service:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc) -> None:
        self.stop()


class RedisProcess:
    """A redis-server without persistence on a fixed port that a test may stop and start
    again (empty, as after a crash); ``url`` stays the same."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if not self.binary:
            missing("redis-server", "apt-get install redis-server")
        self.root = Path(tempfile.mkdtemp(prefix="fakelens-redis-"))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> RedisProcess:
        assert self.binary is not None
        self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--bind",
                                      "127.0.0.1", "--save", "", "--appendonly", "no",
                                      "--dir", str(self.root), "--daemonize", "no",
                                      "--loglevel", "warning"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, proc=self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
