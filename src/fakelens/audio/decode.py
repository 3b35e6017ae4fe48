"""Decode the audio of any file (an audio file or a video's soundtrack) to 16 kHz mono
float32 with PyAV, streamed in chunks so that a long file never sits in memory whole.

Errors follow the project's hierarchy: a file PyAV cannot open is ``UnsupportedMedia``
(or ``CorruptMedia`` when its leading bytes name a known container), a file without an
audio stream is ``UnsupportedMedia``, and a stream that breaks before any sound came out
is ``CorruptMedia``. A stream that breaks later ends the decode early: what was read is
kept and ``AudioReader.truncated_at`` says where it stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from fakelens.errors import CorruptMedia, MediaNotFound, UnsupportedMedia
from fakelens.media.signatures import known_signature

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
CHUNK_SECONDS = 30.0

@dataclass(frozen=True)
class AudioStreamInfo:
    codec: str
    sample_rate: int
    channels: int
    duration_s: float | None
    container: str


def _open(path: Path) -> av.container.InputContainer:
    if not path.is_file():
        raise MediaNotFound(f"{path}: no such file")
    if path.stat().st_size == 0:
        from fakelens.errors import EmptyMedia

        raise EmptyMedia(f"{path.name}: the file is empty (0 bytes)")
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, OSError, ValueError) as exc:
        kind = known_signature(path)
        if kind is not None:
            raise CorruptMedia(f"{path.name}: {kind} file whose audio cannot be opened: "
                               f"truncated or damaged ({exc})") from exc
        raise UnsupportedMedia(f"{path.name}: not a recognised audio or video file "
                               f"({exc})") from exc


def _stream(container: av.container.InputContainer, path: Path) -> av.audio.AudioStream:
    streams = list(container.streams.audio)
    if not streams:
        raise UnsupportedMedia(f"{path.name}: no audio track")
    default = [s for s in streams if s.disposition & av.stream.Disposition.default]
    stream = (default or streams)[0]
    if stream.codec_context is None or not stream.codec_context.name:
        raise UnsupportedMedia(f"{path.name}: audio codec not supported by this FFmpeg build")
    return stream


def stream_info(path: str | Path) -> AudioStreamInfo:
    """The audio track that would be decoded (raises like ``AudioReader``)."""
    path = Path(path)
    with _open(path) as container:
        stream = _stream(container, path)
        ctx = stream.codec_context
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        else:
            duration = None
        return AudioStreamInfo(codec=ctx.name, sample_rate=int(ctx.sample_rate or 0),
                               channels=int(ctx.channels or 0), duration_s=duration,
                               container=container.format.name.split(",")[0])


class AudioReader:
    """Iterate over a file's audio as float32 mono chunks at ``sample_rate``.

    Each chunk holds about ``chunk_seconds`` of samples (the last one less); at most one
    chunk and one decoded frame are held at a time.
    """

    def __init__(self, path: str | Path, sample_rate: int = SAMPLE_RATE,
                 chunk_seconds: float = CHUNK_SECONDS):
        self.path = Path(path)
        self.sample_rate = sample_rate
        self.chunk_samples = max(1, int(chunk_seconds * sample_rate))
        self.samples_read = 0
        self.truncated_at: float | None = None  # seconds decoded before the stream broke
        self.info = stream_info(self.path)

    def __iter__(self) -> Iterator[np.ndarray]:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=self.sample_rate)
        pending: list[np.ndarray] = []
        held = 0
        with _open(self.path) as container:
            stream = _stream(container, self.path)
            try:
                for frame in container.decode(stream):
                    for out in resampler.resample(frame):
                        pending.append(out.to_ndarray().reshape(-1).astype(np.float32))
                        held += pending[-1].size
                    while held >= self.chunk_samples:
                        chunk, pending, held = self._take(pending, held)
                        yield chunk
                for out in resampler.resample(None):  # flush the resampler
                    pending.append(out.to_ndarray().reshape(-1).astype(np.float32))
                    held += pending[-1].size
            except (av.FFmpegError, ValueError, OSError) as exc:
                done = self.samples_read + held
                if done == 0:
                    raise CorruptMedia(f"{self.path.name}: the audio track cannot be decoded: "
                                       f"damaged or truncated ({exc})") from exc
                self.truncated_at = done / self.sample_rate
                log.info("%s: audio decode stopped at %.1f s (%s)", self.path.name,
                         self.truncated_at, exc)
        while held:
            chunk, pending, held = self._take(pending, held)
            yield chunk

    def _take(self, pending: list[np.ndarray], held: int
              ) -> tuple[np.ndarray, list[np.ndarray], int]:
        joined = np.concatenate(pending) if len(pending) > 1 else pending[0]
        n = min(self.chunk_samples, joined.size)
        chunk, rest = joined[:n], joined[n:]
        self.samples_read += n
        return chunk, ([rest] if rest.size else []), held - n


def decode_audio(path: str | Path, sample_rate: int = SAMPLE_RATE,
                 max_seconds: float | None = None) -> np.ndarray:
    """The whole audio track (or its first ``max_seconds``) as one float32 mono array:
    for short clips (training, tests). Long files: iterate over an ``AudioReader``."""
    reader = AudioReader(path, sample_rate)
    limit = None if max_seconds is None else int(max_seconds * sample_rate)
    parts, total = [], 0
    for chunk in reader:
        parts.append(chunk)
        total += chunk.size
        if limit is not None and total >= limit:
            break
    if not parts:
        raise CorruptMedia(f"{Path(path).name}: the audio track holds no sound")
    audio = np.concatenate(parts)
    return audio if limit is None else audio[:limit]
