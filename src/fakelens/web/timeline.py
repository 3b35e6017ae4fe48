"""The per-frame score timeline as inline SVG, drawn on the server (no script needed).

Only numbers go into the markup: no user-provided text ever reaches it."""

from __future__ import annotations

from markupsafe import Markup

from fakelens.types import Analysis

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 30
# distinguishable for colour-blind readers (Okabe-Ito), dark enough on white
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")


def track_colour(track_id: int) -> str:
    return COLOURS[track_id % len(COLOURS)]


def timeline_svg(result: Analysis) -> Markup | None:
    """Score of every analysed frame over time, one line per face track, with the FAKE
    threshold; None when there is nothing to draw (no face, or a still image)."""
    points = [(f.timestamp_s, f.score) for tr in result.tracks for f in tr.frames]
    if not points or result.media.kind != "video":
        return None
    duration = result.media.duration_s or max(t for t, _ in points) or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + plot_w * min(max(t / duration, 0.0), 1.0)

    def y(score: float) -> float:
        return TOP + plot_h * (1.0 - min(max(score, 0.0), 1.0))

    parts = [f'<svg class="timeline" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-labelledby="timeline-title timeline-desc" '
             f'xmlns="http://www.w3.org/2000/svg">',
             '<title id="timeline-title">Score per analysed frame over time</title>',
             f'<desc id="timeline-desc">{len(points)} frame scores from 0 (real) to 1 (fake) '
             f'over {duration:.1f} seconds, for {len(result.tracks)} face track(s); the dashed '
             f'line is the threshold {result.threshold:.2f}.</desc>']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" '
                     f'y2="{y(tick):.1f}" stroke="#ddd" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" '
                     f'font-size="11" fill="#444">{tick:.2f}</text>')
    for i in range(5):
        t = duration * i / 4
        anchor = "end" if i == 4 else "middle"  # the last label stays inside the chart
        parts.append(f'<text x="{x(t):.1f}" y="{HEIGHT - 10}" text-anchor="{anchor}" '
                     f'font-size="11" fill="#444">{t:.1f} s</text>')
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(result.threshold):.1f}" '
                 f'y2="{y(result.threshold):.1f}" stroke="#B00020" stroke-width="1.5" '
                 f'stroke-dasharray="6 4"/>')
    for tr in result.tracks:
        colour = track_colour(tr.track_id)
        coords = [(x(f.timestamp_s), y(f.score)) for f in tr.frames]
        if len(coords) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in coords)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                         f'stroke-width="2"/>')
        for f, (px, py) in zip(tr.frames, coords, strict=True):
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}">'
                         f'<title>face {tr.track_id + 1}, {f.timestamp_s:.2f} s: '
                         f'{f.score:.2f}</title></circle>')
    parts.append("</svg>")
    return Markup("".join(parts))
