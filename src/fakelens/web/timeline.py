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


def _scales(duration: float):
    """Seconds -> x and score (0-1, clipped) -> y of the plot area."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + plot_w * min(max(t / duration, 0.0), 1.0)

    def y(score: float) -> float:
        return TOP + plot_h * (1.0 - min(max(score, 0.0), 1.0))

    return x, y


def _axes(x, y, duration: float, threshold: float) -> list[str]:
    """Score grid (0-1), five time labels and the dashed threshold line."""
    parts = []
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
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(threshold):.1f}" '
                 f'y2="{y(threshold):.1f}" stroke="#B00020" stroke-width="1.5" '
                 f'stroke-dasharray="6 4"/>')
    return parts


def timeline_svg(result: Analysis) -> Markup | None:
    """Score of every analysed frame over time, one line per face track, with the FAKE
    threshold; None when there is nothing to draw (no face, or a still image)."""
    points = [(f.timestamp_s, f.score) for tr in result.tracks for f in tr.frames]
    if not points or result.media.kind != "video":
        return None
    duration = result.media.duration_s or max(t for t, _ in points) or 1.0
    x, y = _scales(duration)

    parts = [f'<svg class="timeline" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-labelledby="timeline-title timeline-desc" '
             f'xmlns="http://www.w3.org/2000/svg">',
             '<title id="timeline-title">Score per analysed frame over time</title>',
             f'<desc id="timeline-desc">{len(points)} frame scores from 0 (real) to 1 (fake) '
             f'over {duration:.1f} seconds, for {len(result.tracks)} face track(s); the dashed '
             f'line is the threshold {result.threshold:.2f}.</desc>']
    parts += _axes(x, y, duration, result.threshold)
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


VOICE_COLOUR = "#6d28d9"


def speech_timeline_svg(result: Analysis) -> Markup | None:
    """The voice check over time: each 2 s window's score as a bar at its height, the
    speech segments shaded, the threshold dashed; None when no speech was scored."""
    voice = result.audio
    if voice is None or not voice.windows:
        return None
    duration = max(voice.duration_s or 0.0, result.media.duration_s or 0.0,
                   max(w.end_s for w in voice.windows), 0.5)
    plot_h = HEIGHT - TOP - BOTTOM
    x, y = _scales(duration)

    parts = [f'<svg class="timeline speech-timeline" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'role="img" aria-labelledby="speech-title speech-desc" '
             f'xmlns="http://www.w3.org/2000/svg">',
             '<title id="speech-title">Voice score per speech window over time</title>',
             f'<desc id="speech-desc">{len(voice.windows)} speech window scores from 0 (real) '
             f'to 1 (cloned or synthetic) over {duration:.1f} seconds; shaded: speech found; '
             f'the dashed line is the threshold {voice.threshold:.2f}.</desc>']
    for seg in voice.segments:
        parts.append(f'<rect x="{x(seg.start_s):.1f}" y="{TOP}" '
                     f'width="{max(x(seg.end_s) - x(seg.start_s), 1.0):.1f}" height="{plot_h}" '
                     f'fill="#ede9fe"><title>speech {seg.start_s:.1f}-{seg.end_s:.1f} s'
                     f'</title></rect>')
    parts += _axes(x, y, duration, voice.threshold)
    for w in voice.windows:
        x0, x1, py = x(w.start_s), x(w.end_s), y(w.score)
        parts.append(f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{py:.1f}" y2="{py:.1f}" '
                     f'stroke="{VOICE_COLOUR}" stroke-width="3" stroke-linecap="round" '
                     f'opacity="0.7"/>')
        parts.append(f'<circle cx="{(x0 + x1) / 2:.1f}" cy="{py:.1f}" r="3.5" '
                     f'fill="{VOICE_COLOUR}"><title>voice {w.start_s:.1f}-{w.end_s:.1f} s: '
                     f'{w.score:.2f}</title></circle>')
    parts.append("</svg>")
    return Markup("".join(parts))
