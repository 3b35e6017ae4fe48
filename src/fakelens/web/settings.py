"""Settings of the web service and its job queue (``FAKELENS_*``, beside the analysis ones)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, field_validator

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
    workers: int = Field(1, ge=0, le=32, description="job consumer threads inside `serve` "
                         "(0: only separate `fakelens worker` processes run jobs)")
    max_upload_mb: float = Field(500, gt=0, description="largest accepted upload")
    max_attempts: int = Field(3, ge=1, description="runs interrupted by a crash before a job "
                              "is marked failed")
    stale_after_s: float = Field(60, gt=0, description="a running job whose worker gave "
                                 "no sign of life (progress, or the heartbeat it sends every "
                                 "stale_after_s / 5) for this long is taken as orphaned (its "
                                 "worker was killed) and queued again")
    stop_grace_s: float = Field(20, ge=0, description="on SIGTERM or SIGINT a worker (and the "
                                "job threads of serve) takes no new job and lets running "
                                "ones finish this long, then hands them back to the queue "
                                "(run again at once, by any worker)")
    requeue_after_s: float = Field(60, gt=0, description="a queued job waiting this long is "
                                   "enqueued again by the sweeper (its task never reached "
                                   "the queue, or the queue lost it)")
    claim_retry_s: float = Field(60, ge=0, description="how long a worker retries claiming or "
                                 "finishing a job while the database is unreachable")
    min_free_mb: float = Field(100, ge=0, description="uploads are refused (507) when the data "
                               "dir has less free space than this")
    default_frames: int = Field(32, ge=1, le=512)
    trash_days: float = Field(7, ge=0, description="deleted analyses stay restorable this long")
    max_frames: int = Field(256, ge=1, le=4096)
    login_per_minute: int = Field(10, ge=1, description="failed logins a minute from one "
                                  "client address before it may only log in to accounts "
                                  "that logged in from there before")
    login_free_failures: int = Field(5, ge=1, description="wrong passwords for one account "
                                     "from one address before exponential backoff")
    login_account_failures: int = Field(50, ge=1, description="failed logins an hour to one "
                                        "account before only known addresses may try")
    registrations_per_hour: int = Field(20, ge=1, description="registrations per address")
    uploads_per_hour: int = Field(60, ge=1, description="uploads per user")
    fetch_per_hour: int = Field(20, ge=0, description="links one user may have fetched "
                                "per hour (web app and API)")
    fetch_per_day: int = Field(100, ge=0, description="links one user may have fetched "
                               "per day (web app and API)")
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
                                "page may send; twice this over three seconds closes the session")
    live_max_frame_kb: int = Field(512, ge=16, description="largest Live check frame (JPEG)")
    live_max_side: int = Field(1920, ge=64, description="largest Live check frame side (px)")
    live_max_minutes: float = Field(30, gt=0, description="longest Live check session")
    secure_cookies: bool | None = Field(None, description="mark the session cookie Secure "
                                        "(HTTPS only); default: when the request came over "
                                        "HTTPS, directly or through a trusted proxy")
    trusted_proxies: str = Field("", description="comma-separated addresses/networks of "
                                 "reverse proxies whose X-Forwarded-Proto and "
                                 "X-Forwarded-For headers are believed")
    session_days: float = Field(14, gt=0, description="a login lasts this long")
    public_url: str | None = Field(None, description="the address people and search "
                                   "engines reach this server at (https://fakelens."
                                   "example.org, a path allowed): result pages then offer "
                                   "one-click reverse image searches of the key frames, "
                                   "through public links made at the click (valid an "
                                   "hour); unset, the page says to download a key frame "
                                   "and upload it to the search engine")
    immediate: bool = Field(False, description="run jobs inside the request (debugging)")

    @field_validator("public_url")
    @classmethod
    def _plain_address(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if not value:
            return None
        try:
            parts = urlsplit(value)
            host = parts.hostname
        except ValueError:
            host = None
        if parts.scheme not in ("http", "https") or not host:
            raise ValueError("must be an http:// or https:// address "
                             "with a host name, such as https://fakelens.example.org")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ValueError("must be a plain address: no user name, "
                             "password, ?query or #fragment")
        return value.rstrip("/")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def min_free_bytes(self) -> int:
        return int(self.min_free_mb * 1024 * 1024)

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
