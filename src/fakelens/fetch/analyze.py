"""A link through the one analysis path: fetch into a temporary folder, ``analyze_detailed``
on the file, the result made to name its link (``context.with_source``), folder removed."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from fakelens.config import Settings, get_settings


def analyze_link(url: str, *, item: int = 1, settings: Settings | None = None,
                 progress=None, **analysis_options):
    """``analyze_detailed`` for the media behind ``url`` (see ``fetch_link``); progress
    reports the stage ``download`` first. Raises ``LinkError`` for a link that cannot be
    fetched, like any ``FakeLensError`` for the media."""
    from fakelens.analysis.pipeline import analyze_detailed
    from fakelens.fetch.context import link_source, with_source
    from fakelens.fetch.download import fetch_link

    settings = settings or get_settings()
    with tempfile.TemporaryDirectory(prefix="fakelens-link-") as tmp:
        fetched = fetch_link(url, Path(tmp), settings, item=item, progress=progress)
        source = link_source(url.strip(), fetched.info, fetched.sha256, fetched.size_bytes,
                             item, fetched.items, fetched.entries)
        detailed = analyze_detailed(fetched.path, settings=settings, progress=progress,
                                    **analysis_options)
    # replace, not rebuild: the evidence and key frames of the analysis stay with it
    return dataclasses.replace(detailed,
                               analysis=with_source(detailed.analysis, source, source.url))
