"""Links: fetch the media behind a URL (a video page, a post, a direct link) so the usual
analysis can run on it, keeping where it came from.

    >>> from fakelens.fetch import fetch_link, is_link
    >>> fetch_link("https://example.org/clip.mp4", folder, settings)

``guard`` decides which addresses may be fetched (SSRF), ``transport`` is the only way to
the network (checks every connection, caps bytes and time), ``download`` drives yt-dlp,
``context`` turns what the site says into the result's ``provenance.source``, and
``analyze`` runs the one analysis path on a fetched file.
"""

from fakelens.fetch.guard import check_link, is_link

__all__ = ["check_link", "fetch_link", "is_link"]


def __getattr__(name: str):
    if name == "fetch_link":  # yt-dlp loads only when a link is fetched
        from fakelens.fetch.download import fetch_link

        return fetch_link
    raise AttributeError(f"module 'fakelens.fetch' has no attribute {name!r}")
