"""Which moments of a video to look at."""

from __future__ import annotations


def even_timestamps(duration_s: float, count: int) -> list[float]:
    """``count`` instants spread evenly over the whole video (centre of equal slices)."""
    if count <= 0:
        raise ValueError("count must be positive")
    if duration_s <= 0:
        return [0.0]
    step = duration_s / count
    return [step * (i + 0.5) for i in range(count)]


def dense_timestamps(duration_s: float, per_second: float) -> list[float]:
    """A regular grid of ``per_second`` instants for each second (timeline mode)."""
    if per_second <= 0:
        raise ValueError("per_second must be positive")
    count = max(1, int(round(duration_s * per_second)))
    return even_timestamps(duration_s, count)
