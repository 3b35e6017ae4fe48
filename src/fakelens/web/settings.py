"""Settings of the web service and its job queue (``FAKELENS_*``, beside the analysis ones)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import platformdirs
from pydantic import Field

from fakelens.config import Settings


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("fakelens"))


class WebSettings(Settings):
    """Everything ``fakelens serve`` and ``fakelens worker`` read from the environment."""

    data_dir: Path = Field(default_factory=_default_data_dir,
                           description="database, uploads, queue and secret key live here")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite file "
                                     "fakelens.db in the data dir")
    redis_url: str | None = Field(None, description="use Redis for the job queue (scale-out "
                                  "with `fakelens worker`); default: SQLite in the data dir")
    secret_key: str | None = Field(None, description="signs session cookies; default: a "
                                   "random key kept in the data dir")
    workers: int = Field(1, ge=0, le=32, description="job consumer threads inside `serve` "
                         "(0: only separate `fakelens worker` processes run jobs)")
    max_upload_mb: float = Field(500, gt=0, description="largest accepted upload")
    max_attempts: int = Field(3, ge=1, description="runs interrupted by a crash before a job "
                              "is marked failed")
    stale_after_s: float = Field(900, gt=0, description="with separate workers: a running "
                                 "job whose worker gave no sign of life (progress or a "
                                 "heartbeat every stale_after_s / 5) for this long is taken "
                                 "as orphaned and queued again")
    default_frames: int = Field(32, ge=1, le=512)
    trash_days: float = Field(7, ge=0, description="deleted analyses stay restorable this long")
    max_frames: int = Field(256, ge=1, le=4096)
    login_per_minute: int = Field(10, ge=1, description="login attempts per client address")
    uploads_per_hour: int = Field(60, ge=1, description="uploads per user")
    forum_flag_threshold: int = Field(3, ge=1, description="flags from distinct members that "
                                      "hide a post until a moderator reviews it")
    forum_new_account_hours: float = Field(24, ge=0, description="accounts younger than this "
                                           "post under the new-account limits below")
    forum_new_topics_per_day: int = Field(3, ge=0)
    forum_new_replies_per_day: int = Field(20, ge=0)
    forum_new_links_per_post: int = Field(2, ge=0)
    forum_new_images_per_post: int = Field(0, ge=0)
    forum_silence_days: float = Field(7, gt=0, description="how long a moderator's "
                                      "'silence' keeps a member from posting")
    live_sessions_per_user: int = Field(1, ge=0, description="Live check sessions one user "
                                        "may run at once (per server process)")
    live_sessions: int = Field(4, ge=0, description="Live check sessions at once (per "
                               "server process)")
    live_max_fps: float = Field(10, gt=0, le=30, description="frames a second a Live check "
                                "page may send; twice this in one second closes the session")
    live_max_frame_kb: int = Field(512, ge=16, description="largest Live check frame (JPEG)")
    live_max_side: int = Field(1920, ge=64, description="largest Live check frame side (px)")
    live_max_minutes: float = Field(30, gt=0, description="longest Live check session")
    secure_cookies: bool = Field(False, description="session cookie only over HTTPS")
    immediate: bool = Field(False, description="run jobs inside the request (debugging)")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def shares_dir(self) -> Path:
        """Thumbnails copied into shared-analysis snapshots (public while shared)."""
        return self.data_dir / "shares"

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'fakelens.db'}"

    def prepare_dirs(self) -> None:
        for d in (self.data_dir, self.uploads_dir, self.tmp_dir, self.reports_dir,
                  self.shares_dir):
            d.mkdir(parents=True, exist_ok=True)

    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.is_file():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".secret_key.{os.getpid()}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
            try:  # atomic: a concurrent process either wins or sees the finished file
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text().strip()
