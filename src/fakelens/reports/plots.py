"""Report figures drawn on matplotlib's Agg canvas (no pyplot and no global backend
switch: safe in a web worker), each returned as PNG (or SVG) bytes.

* ``timeline``: per-frame score of each face track over time, with the threshold line and
  the UNCERTAIN band;
* ``distribution``: the spread of each track's frame scores;
* ``contact_sheet``: face thumbnails with their scores;
* ``speech_timeline``: the voice check's score per speech window over time.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from fakelens.analysis.verdict import clock
from fakelens.types import AudioAnalysis, ScoreBand, Track

WIDTH_IN = 6.8  # printable width of an A4 page with 18 mm margins
DPI = 150
FAKE_COLOUR, UNCERTAIN_COLOUR, REAL_COLOUR = "#b42318", "#b54708", "#067647"
TRACK_COLOURS = ["#1f4e9c", "#c2410c", "#6d28d9", "#0f766e", "#a16207", "#be185d",
                 "#4d7c0f", "#334155"]


def track_colour(track_id: int) -> str:
    return TRACK_COLOURS[track_id % len(TRACK_COLOURS)]


def score_colour(score: float, band: ScoreBand) -> str:
    return {"uncertain": UNCERTAIN_COLOUR, "above": FAKE_COLOUR,
            "below": REAL_COLOUR}[band.where(score)]


def _new_figure(height_in: float) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    fig.set_facecolor("white")
    return fig


def to_bytes(fig: Figure, fmt: str = "png") -> bytes:
    """The figure encoded as ``fmt`` ('png' or 'svg')."""
    if fmt not in ("png", "svg"):
        raise ValueError(f"unsupported figure format {fmt!r}")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=DPI, facecolor="white", metadata=(
        {"Software": None} if fmt == "png" else {"Date": None}))
    return buf.getvalue()


def _score_axis(ax, band: ScoreBand, horizontal: bool = True) -> None:
    """Score limits, the threshold line and the shaded UNCERTAIN band."""
    lo, hi, threshold = band.low, band.high, band.threshold
    if horizontal:
        ax.set_ylim(-0.02, 1.02)
        ax.axhspan(lo, hi, color=UNCERTAIN_COLOUR, alpha=0.12, lw=0, label="uncertain band")
        ax.axhline(threshold, color="#111827", lw=1.0, ls="--", label=f"threshold {threshold:.2f}")
        ax.set_ylabel("fake probability")
    else:
        ax.set_xlim(-0.02, 1.02)
        ax.axvspan(lo, hi, color=UNCERTAIN_COLOUR, alpha=0.12, lw=0, label="uncertain band")
        ax.axvline(threshold, color="#111827", lw=1.0, ls="--", label=f"threshold {threshold:.2f}")
        ax.set_xlabel("fake probability (per frame)")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(True, color="#e5e7eb", lw=0.6)
    ax.set_axisbelow(True)


def timeline(tracks: Sequence[Track], band: ScoreBand, *,
             duration_s: float | None = None, marks: dict[int, list[int]] | None = None,
             fmt: str = "png") -> bytes:
    """Per-frame scores of each track over time. ``marks``: positions of frames to ring,
    per track id (the frames shown as heatmaps)."""
    fig = _new_figure(2.6)
    ax = fig.add_subplot()
    _score_axis(ax, band)
    for tr in tracks:
        t = [f.timestamp_s for f in tr.frames]
        s = [f.score for f in tr.frames]
        colour = track_colour(tr.track_id)
        ax.plot(t, s, color=colour, lw=1.4, marker="o", ms=3.2, label=f"face {tr.track_id + 1}")
        ringed = (marks or {}).get(tr.track_id, [])
        ax.plot([t[i] for i in ringed], [s[i] for i in ringed], ls="none", marker="o", ms=9,
                mfc="none", mec="#111827", mew=1.2)
    right = max([duration_s or 0.0] + [f.timestamp_s for tr in tracks for f in tr.frames])
    ax.set_xlim(0, max(right, 1.0))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: clock(x)))
    ax.set_xlabel("time in the video (m:ss)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return to_bytes(fig, fmt)


def distribution(tracks: Sequence[Track], band: ScoreBand, fmt: str = "png") -> bytes:
    """Each track's frame scores as a box with the individual frames on top."""
    fig = _new_figure(0.9 + 0.45 * len(tracks))
    ax = fig.add_subplot()
    _score_axis(ax, band, horizontal=False)
    rng = np.random.default_rng(0)
    for row, tr in enumerate(tracks):
        s = np.array([f.score for f in tr.frames])
        ax.boxplot([s], positions=[row], orientation="horizontal", widths=0.5,
                   showfliers=False, patch_artist=True,
                   boxprops={"facecolor": "#f3f4f6", "edgecolor": "#6b7280"},
                   medianprops={"color": "#111827"}, whiskerprops={"color": "#6b7280"},
                   capprops={"color": "#6b7280"})
        jitter = rng.uniform(-0.16, 0.16, size=len(s))
        ax.scatter(s, row + jitter, s=12, color=track_colour(tr.track_id), alpha=0.8,
                   zorder=3, lw=0)
    ax.set_yticks(range(len(tracks)), [f"face {tr.track_id + 1}" for tr in tracks])
    ax.set_ylim(len(tracks) - 0.5, -0.5)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return to_bytes(fig, fmt)


@dataclass(frozen=True)
class Thumb:
    crop: np.ndarray  # RGB uint8
    score: float
    caption: str


def contact_sheet(rows: Sequence[tuple[str, Sequence[Thumb]]], band: ScoreBand,
                  fmt: str = "png", columns: int = 8) -> bytes:
    """One row of thumbnails per face; each framed in the colour of where its score lies."""
    n_rows = max(1, len(rows))
    labels = any(label for label, _ in rows)
    label_w = 1.2 if labels else 0.0
    cell = WIDTH_IN / (columns + label_w)
    fig = _new_figure(0.15 + n_rows * (cell + 0.32))
    grid = fig.add_gridspec(n_rows, columns + 1, width_ratios=[label_w or 1e-3] + [1] * columns)
    for r, (label, thumbs) in enumerate(rows):
        ax = fig.add_subplot(grid[r, 0])
        ax.axis("off")
        ax.text(0.0, 0.5, label, ha="left", va="center", fontsize=9, weight="bold")
        for c in range(columns):
            ax = fig.add_subplot(grid[r, c + 1])
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(thumbs):
                ax.axis("off")
                continue
            th = thumbs[c]
            colour = score_colour(th.score, band)
            ax.imshow(th.crop, interpolation="lanczos")
            for spine in ax.spines.values():
                spine.set_color(colour)
                spine.set_linewidth(2.5)
            ax.set_xlabel(f"{th.score:.2f}", fontsize=8, color=colour, weight="bold",
                          labelpad=1)
            if th.caption:
                ax.set_title(th.caption, fontsize=7, color="#4b5563", pad=2)
    return to_bytes(fig, fmt)


VOICE_COLOUR = "#6d28d9"


def speech_timeline(voice: AudioAnalysis, band: ScoreBand, *,
                    duration_s: float | None = None, fmt: str = "png") -> bytes:
    """Each speech window's voice score as a bar over the seconds it covers (its centre
    dotted in the colour of where the score lies), the speech segments shaded."""
    fig = _new_figure(2.4)
    ax = fig.add_subplot()
    _score_axis(ax, band)
    ax.set_ylabel("cloned-voice probability")
    for i, seg in enumerate(voice.segments):
        ax.axvspan(seg.start_s, seg.end_s, color="#ede9fe", lw=0, zorder=0,
                   label="speech found" if i == 0 else None)
    for i, w in enumerate(voice.windows):
        ax.plot([w.start_s, w.end_s], [w.score, w.score], color=VOICE_COLOUR, lw=3,
                alpha=0.6, solid_capstyle="round",
                label="2 s speech window" if i == 0 else None)
        ax.plot([(w.start_s + w.end_s) / 2], [w.score], marker="o", ms=4.5, ls="none",
                color=score_colour(w.score, band))
    right = max([duration_s or 0.0, voice.duration_s] + [w.end_s for w in voice.windows])
    ax.set_xlim(0, max(right, 1.0))
    if right < 20:  # a short clip: m:ss would repeat one label
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g} s"))
        ax.set_xlabel("time in the recording")
    else:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: clock(x)))
        ax.set_xlabel("time in the recording (m:ss)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return to_bytes(fig, fmt)
