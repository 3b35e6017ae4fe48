"""Key frames for reverse image search: the search engines (the web page's links use them
too) and the report's section (embedded thumbnails, times, how to search)."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from fakelens.analysis.pipeline import DetailedAnalysis

REPORT_SIDE = 480  # key frames are embedded in reports at most this large


@dataclass(frozen=True)
class Engine:
    key: str  # in the web app's redirect route
    name: str
    short: str  # on a key frame's card
    by_url: str  # a search for the image at this address ({}: the quoted address)
    upload_page: str  # where an image is uploaded by hand


ENGINES = (
    Engine("google", "Google Lens", "Google Lens",
           "https://lens.google.com/uploadbyurl?url={}", "https://lens.google.com/"),
    Engine("bing", "Bing Visual Search", "Bing",
           "https://www.bing.com/images/search?view=detailv2&iss=sbi&q=imgurl:{}",
           "https://www.bing.com/visualsearch"),
    Engine("tineye", "TinEye", "TinEye", "https://tineye.com/search?url={}",
           "https://tineye.com/"),
    Engine("yandex", "Yandex Images", "Yandex",
           "https://yandex.com/images/search?rpt=imageview&url={}", "https://yandex.com/images/"),
)


def frame_time(seconds: float) -> str:
    """m:ss.s from the start of the video."""
    m, s = divmod(max(0.0, seconds), 60)
    return f"{int(m)}:{s:04.1f}"


def _jpeg_uri(rgb: np.ndarray) -> str:
    img = Image.fromarray(rgb)
    img.thumbnail((REPORT_SIDE, REPORT_SIDE), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=85, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def key_frames_context(detailed: DetailedAnalysis) -> dict | None:
    """The report's key-frame section, or None (none were asked for, audio)."""
    scenes = detailed.key_frames
    if scenes is None or not scenes.frames:
        return None
    still = scenes.method == "still"
    frames = [{"uri": _jpeg_uri(f.rgb), "number": i + 1,
               "caption": "the image" if still else frame_time(f.timestamp_s)}
              for i, f in enumerate(scenes.frames)]
    return {"frames": frames, "still": still, "description": scenes.describe(),
            "engines": [(e.name, e.upload_page) for e in ENGINES]}
