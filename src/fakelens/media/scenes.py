"""Scene-change key frames: the first frame of each shot of a video, for reverse image
search (a fact-checker looks for where the pictures were published before).

A cheap detector over a low-resolution decode: every scanned frame is shrunk to
``SMALL`` pixels in HSV, and the mean absolute difference between two consecutive scanned
frames (hue on its circle) is its change (0 to 1). A change of at least ``CUT_CHANGE``,
and ``CUT_RATIO`` times the typical change of the frames before it (so that fast motion is
not a cut), at least ``MIN_SCENE_S`` after the last cut, starts a new scene. Videos of up
to ``FULL_SCAN_MEGAPIXELS`` (frames x pixels) are scanned frame by frame; larger ones on
their key frames (I-frames) alone, which encoders place at cuts (x264's scenecut): a key
frame that differs from the key frame before by ``CUT_CHANGE`` starts a scene, found to
the key frame at a fraction of the cost. Frames of one flat colour (black between scenes,
a fade) are never key frames. At most ``MAX_KEY_FRAMES``, the strongest cuts, always with
the first (non-flat) frame. A still is its own, only key frame.

The face tracker (``faces/tracking.py``) finds the cuts between sampled frames with the
same measure and rule (``small_hsv``, ``change``, ``is_cut``), so that no face track
continues across one.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from fakelens.media.load import _rotate, iter_frames, open_container, video_stream
from fakelens.types import MediaInfo

log = logging.getLogger(__name__)

MAX_KEY_FRAMES = 12
MAX_SIDE = 1280  # key frames are kept at most this large (longest side, pixels)
# a video is scanned frame by frame up to this many pixels in all (about 26 s of 720p at
# 25 frames/s, 2 min of 480p); larger ones on their key frames only
FULL_SCAN_MEGAPIXELS = 600.0
SMALL = (64, 36)  # the size (w, h) frames are compared at
CUT_CHANGE = 0.12  # the change (0-1) that can start a new scene
CUT_RATIO = 3.0  # ... and how many times the recent typical change it must be
RECENT = 8  # changes that make the recent typical one (their median)
MIN_SCENE_S = 0.5  # a cut closer than this to the last one is not another scene
FLAT_STD = 4.0  # spread of every colour channel (0-255) under which a frame is flat


@dataclass(frozen=True, slots=True)
class SceneFrame:
    """One key frame: the first frame of a scene, upright RGB (longest side at most
    ``MAX_SIDE``)."""

    timestamp_s: float  # from the start of the video
    index: int  # frame number (timestamp x frame rate)
    change: float  # how different it is from the frame before (0-1; 1 for the first)
    rgb: np.ndarray


@dataclass(frozen=True)
class SceneFrames:
    """A video's (or a still's) key frames, in time order."""

    frames: list[SceneFrame]
    method: str  # "every frame", "key frames only" or "still"
    scanned: int  # frames compared
    cuts: int  # scene changes found before the count was capped

    def describe(self) -> str:
        """How the key frames were found, in words."""
        if self.method == "still":
            return "A still image: the image itself"
        what = {"every frame": "every frame compared with the one before",
                "key frames only": "the video's key frames (I-frames) compared, as it is "
                                   "long"}.get(self.method, self.method)
        n = len(self.frames)
        kept = f"; the {n - 1} strongest are kept" if self.cuts > n - 1 else ""
        found = (f"{self.cuts} scene change{'s' if self.cuts != 1 else ''}" if self.cuts
                 else "No scene change")
        return f"{found} found ({what}){kept}"


def scene_frames(path: str | Path, info: MediaInfo, *, max_frames: int = MAX_KEY_FRAMES,
                 full_scan_megapixels: float = FULL_SCAN_MEGAPIXELS) -> SceneFrames:
    """The key frames of a video or a still (``info`` from ``probe``). Audio has none.
    Damaged data ends the scan early: the key frames before it are kept."""
    if max_frames < 1:
        raise ValueError("max_frames must be at least 1")
    path = Path(path)
    if info.kind == "audio":
        return SceneFrames([], "none", 0, 0)
    if info.kind == "image":
        rgb = next(iter_frames(path, info)).rgb
        return SceneFrames([SceneFrame(0.0, 0, 1.0, _shrink(rgb))], "still", 1, 0)
    fps = info.fps or 25.0
    estimated = info.frame_count or int((info.duration_s or 0) * fps)
    keys_only = estimated * info.width * info.height / 1e6 > full_scan_megapixels
    return _scan(path, info, fps, keys_only, max_frames)


def _shrink(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    if max(h, w) <= MAX_SIDE:
        return np.ascontiguousarray(rgb)
    f = MAX_SIDE / max(h, w)
    return cv2.resize(rgb, (max(1, round(w * f)), max(1, round(h * f))),
                      interpolation=cv2.INTER_AREA)


def _kept_size(width: int, height: int) -> tuple[int, int]:
    f = min(1.0, MAX_SIDE / max(width, height, 1))
    return max(2, round(width * f / 2) * 2), max(2, round(height * f / 2) * 2)


def small_hsv(rgb: np.ndarray) -> np.ndarray:
    """An RGB frame as the scan compares it: shrunk to ``SMALL`` pixels, in HSV."""
    small = cv2.resize(rgb, SMALL, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_RGB2HSV)


def is_cut(c: float, recent, ratio: float = CUT_RATIO) -> bool:
    """Whether a change ``c`` between two consecutive frames is a cut: at least
    ``CUT_CHANGE``, and ``ratio`` times the median of the ``recent`` changes (those before
    it here; the face tracker also gives those after) so that fast motion is not a cut;
    none: the threshold alone decides."""
    typical = float(np.median(recent)) if len(recent) else 0.0
    return c >= CUT_CHANGE and c >= ratio * typical


def change(a: np.ndarray, b: np.ndarray) -> float:
    """How different two small HSV frames are (0 to 1): the mean absolute difference of
    hue (on its circle), saturation and value."""
    d = np.abs(a.astype(np.int16) - b.astype(np.int16)).astype(np.float32)
    hue = np.minimum(d[..., 0], 180 - d[..., 0]) / 90.0
    return float((hue.mean() + d[..., 1].mean() / 255 + d[..., 2].mean() / 255) / 3)


class _Cuts:
    """The scan's state: the strongest cuts so far (at most ``keep``) and the first frame."""

    def __init__(self, keep: int, ratio: float):
        self.keep, self.ratio = keep, ratio
        self.first: SceneFrame | None = None
        self.first_flat = True
        self.cuts: list[SceneFrame] = []
        self.found = 0
        self.recent: deque[float] = deque(maxlen=RECENT)
        self.previous: np.ndarray | None = None
        self.last_cut_s = 0.0

    def add(self, t: float, index: int, small: np.ndarray, flat: bool, full) -> None:
        """One scanned frame (``full()`` gives its kept RGB, made only when needed)."""
        opening = self.previous is None or (self.first_flat and not flat and not self.found)
        if opening:  # the first frame, or the first one that is not flat (after black)
            self.first, self.first_flat = SceneFrame(t, index, 1.0, full()), flat
            self.last_cut_s, self.previous = t, small
            return
        c = change(self.previous, small)
        self.previous = small
        cut = is_cut(c, self.recent, self.ratio) and t - self.last_cut_s >= MIN_SCENE_S
        self.recent.append(c)
        if not cut or flat:  # a cut to black is no picture to search for
            return
        self.last_cut_s = t
        self.found += 1
        if self.keep == 0:
            return
        if len(self.cuts) >= self.keep:
            weakest = min(range(len(self.cuts)), key=lambda i: self.cuts[i].change)
            if self.cuts[weakest].change >= c:
                return
            del self.cuts[weakest]
        self.cuts.append(SceneFrame(t, index, round(c, 4), full()))

    def frames(self) -> list[SceneFrame]:
        head = [self.first] if self.first is not None else []
        return head + sorted(self.cuts, key=lambda f: f.timestamp_s)


def _scan(path: Path, info: MediaInfo, fps: float, keys_only: bool,
          max_frames: int) -> SceneFrames:
    # key frames far apart: the change between two of them is not a frame-to-frame one, and
    # most are cuts, so only the threshold decides
    cuts = _Cuts(max_frames - 1, 0.0 if keys_only else CUT_RATIO)
    scanned = 0
    with open_container(path) as container:
        stream = video_stream(container)
        stream.thread_type = "AUTO"
        if keys_only:
            stream.codec_context.skip_frame = "NONKEY"
        time_base = stream.time_base or Fraction(1, 1000)
        start = float(stream.start_time * time_base) if stream.start_time is not None else 0.0
        ctx = stream.codec_context
        size = _kept_size(int(ctx.width or 0), int(ctx.height or 0))
        try:
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                t = max(float(frame.pts * time_base) - start, 0.0)
                small = frame.reformat(width=SMALL[0], height=SMALL[1], format="rgb24"
                                       ).to_ndarray()
                flat = float(small.reshape(-1, 3).std(axis=0).max()) < FLAT_STD

                def full(frame=frame) -> np.ndarray:
                    w, h = size if frame.width == ctx.width else _kept_size(frame.width,
                                                                            frame.height)
                    rgb = frame.reformat(width=w, height=h, format="rgb24").to_ndarray()
                    return _rotate(rgb, info.rotation)

                cuts.add(t, int(round(t * fps)), cv2.cvtColor(small, cv2.COLOR_RGB2HSV),
                         flat, full)
                scanned += 1
        except av.FFmpegError as exc:  # damaged data: the key frames before it stand
            log.info("%s: scene scan stopped early: %s", path.name, exc)
    return SceneFrames(cuts.frames(), "key frames only" if keys_only else "every frame",
                       scanned, cuts.found)
