"""Small real media files for tests, written with PyAV and Pillow (no mocks)."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np


def write_video(path: Path, frames: Sequence[np.ndarray], *, codec: str = "libx264",
                fps: int = 25, pts_ms: Sequence[int] | None = None,
                rotation: float | None = None, gop: int | None = None,
                container_options: dict[str, str] | None = None,
                codec_options: dict[str, str] | None = None) -> Path:
    """Encode RGB uint8 frames (all the same shape, even sides) into ``path``.

    ``pts_ms`` gives each frame's presentation time in milliseconds (variable frame
    rate); ``rotation`` records a display rotation in the stream metadata, in degrees
    counter-clockwise as FFmpeg's display matrix (what a phone writes for portrait video).
    """
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w", options=container_options or {}) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        if gop is not None:
            stream.codec_context.gop_size = gop
        if codec_options:
            stream.options = codec_options
        if pts_ms is not None:
            stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            if pts_ms is not None:
                frame.pts, frame.time_base = int(pts_ms[i]), Fraction(1, 1000)
            else:
                frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def shot(colour: tuple[int, int, int], count: int, seed: int,
         size: tuple[int, int] = (160, 120)) -> list[np.ndarray]:
    """``count`` RGB frames of one camera shot (w, h ``size``): a textured background of
    ``colour`` with a square moving across it, so that the shot has motion in it. Shots
    of different colours put one after the other make a video with cuts at known frames."""
    w, h = size
    texture = np.random.default_rng(seed).integers(0, 60, (h, w, 3), dtype=np.uint8)
    frames = []
    for i in range(count):
        frame = (np.full((h, w, 3), colour, np.uint8) // 2 + texture).astype(np.uint8)
        x = (i * 4) % (w - 30)
        frame[h // 3:h // 3 + 30, x:x + 30] = 255 - np.array(colour, np.uint8)
        frames.append(frame)
    return frames


def face_shot(colour: tuple[int, int, int], count: int, seed: int, face: np.ndarray,
              size: tuple[int, int] = (320, 240), at: tuple[int, int] = (105, 65)
              ) -> list[np.ndarray]:
    """``shot`` with a face picture (RGB) pasted at ``at`` (x, y), drifting right a pixel
    every other frame: one person sitting in that shot. Two shots with different faces at
    the same ``at`` are a cut between two people at the same place."""
    h, w = face.shape[:2]
    frames = shot(colour, count, seed, size)
    for i, frame in enumerate(frames):
        x, y = at[0] + i // 2, at[1]
        frame[y:y + h, x:x + w] = face
    return frames


def clip_frames(clip: Path, count: int, size: tuple[int, int],
                box: tuple[int, int, int, int] | None = None) -> list[np.ndarray]:
    """The first ``count`` frames of a real clip as RGB, cropped to ``box`` (x, y, w, h)
    when given, then resized to ``size`` (w, h)."""
    frames = []
    with av.open(str(clip)) as container:
        for frame in container.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24")
            if box is not None:
                x, y, w, h = box
                rgb = rgb[y:y + h, x:x + w]
            frames.append(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))
            if len(frames) == count:
                break
    return frames


def decodable_times(path: Path) -> list[float]:
    """Timestamps of every frame FFmpeg can decode, reading linearly until an error."""
    times: list[float] = []
    with av.open(str(path)) as container:
        try:
            for frame in container.decode(video=0):
                times.append(float(frame.time))
        except av.FFmpegError:
            pass
    return times
