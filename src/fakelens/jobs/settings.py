"""What the job code reads from the service settings. ``fakelens.web.settings.WebSettings``
provides it (a subclass of ``fakelens.config.Settings``, which the analysis itself reads),
so the jobs depend on this contract, never on the web layer."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class JobSettings(Protocol):
    data_dir: Path
    redis_url: str | None
    immediate: bool
    workers: int
    max_attempts: int
    stale_after_s: float
    stop_grace_s: float
    requeue_after_s: float
    claim_retry_s: float

    @property
    def min_free_bytes(self) -> int: ...

    @property
    def uploads_dir(self) -> Path: ...

    @property
    def reports_dir(self) -> Path: ...

    @property
    def tmp_dir(self) -> Path: ...

    def prepare_dirs(self) -> None: ...

    def resolved_database_url(self) -> str: ...
