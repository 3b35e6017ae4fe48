"""Report files from a ``DetailedAnalysis``: self-contained HTML (figures as data URIs),
PDF made from that HTML with WeasyPrint, and the versioned JSON result."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined
from PIL import Image

from fakelens.analysis.caveats import verdict_caveats, verdict_label, voice_facts
from fakelens.analysis.verdict import clock
from fakelens.errors import FakeLensError, ReportError
from fakelens.models.pretrained import PretrainedConfig
from fakelens.reports import explain, plots
from fakelens.reports.keyframes import key_frames_context
from fakelens.reports.provenance import provenance_view
from fakelens.types import Analysis, ScoreBand, Track, Verdict

if TYPE_CHECKING:
    from fakelens.analysis.pipeline import DetailedAnalysis

HEATMAP_FRAMES = 3  # most suspicious frames shown per track
SHEET_COLUMNS = 8
MIN_DISPLAY_PX = 192  # small crops are enlarged for print (display only)
SMALL_FACE_PX = 80

def _png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _image_uri(rgb: np.ndarray) -> str:
    img = Image.fromarray(rgb)
    if max(img.size) < MIN_DISPLAY_PX:
        f = MIN_DISPLAY_PX / max(img.size)
        img = img.resize((round(img.width * f), round(img.height * f)), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return _png_uri(buf.getvalue())


def _size(n: int) -> str:
    for unit, factor in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= factor:
            return f"{n / factor:.1f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"


def _model_config(name: str) -> PretrainedConfig | None:
    """The installed detector's config (metrics, temperature), if it is installed here."""
    from fakelens.models.registry import get_detector

    try:
        return get_detector(name).config
    except FakeLensError:
        return None


def _media_facts(a: Analysis) -> list[tuple[str, str]]:
    m = a.media
    live = m.live_session()
    if live is not None:  # no file was kept: nothing to size or hash
        facts = [("Source", m.path), ("Type", live.describe().capitalize()),
                 ("File", "none kept: the frames were analysed as they came, so there is "
                  "no size and no SHA-256")]
    else:
        facts = [("File", Path(m.path).name), ("Size", _size(m.size_bytes or 0)),
                 ("SHA-256", m.sha256 or ""), ("Type", f"{m.kind} ({m.format})")]
    if m.duration_s is not None:
        facts.append(("Duration", f"{clock(m.duration_s)} ({m.duration_s:.2f} s)"))
    if m.kind == "audio":
        facts += _sound_facts(a)
        facts.append(("Analysed", "the speech only (an audio file: no face to look for)"))
        return facts
    res = f"{m.width} × {m.height} pixels"
    if m.rotation:
        res += f" (rotated {m.rotation}° as its metadata asks)"
    facts.append(("Resolution", res))
    if m.kind == "video":
        codec = m.codec or "unknown"
        if m.fps:
            codec += f", {m.fps:.2f} frames per second"
        facts.append(("Codec", codec))
        checked = a.audio is not None and a.audio.status.value in ("analysed", "no_speech")
        facts.append(("Audio", ("yes (the voice is checked: see Voice)" if checked
                                else "yes (not analysed)") if m.has_audio else "no"))
        if checked:
            facts += _sound_facts(a)
        of = f" of {m.frame_count:,}" if m.frame_count else ""
        facts.append(("Frames analysed", f"{a.frames_sampled}{of} (sampling: {a.sampling})"))
    else:
        facts.append(("Frames analysed", "1 (still image)"))
    return facts


def _sound_facts(a: Analysis) -> list[tuple[str, str]]:
    v = a.audio
    if v is None or not v.sample_rate:
        return [("Codec", a.media.codec or "unknown")] if a.media.kind == "audio" else []
    sound = f"{v.codec or a.media.codec or 'unknown'}, {v.sample_rate:,} Hz"
    if v.channels:
        sound += f", {v.channels} channel{'s' if v.channels != 1 else ''}"
    return [("Sound", sound)]


def _voice_context(a: Analysis) -> dict | None:
    """The voice check as the report shows it (None for stills and older results)."""
    facts = voice_facts(a)
    if facts is None or facts.status == "no_audio":  # "Audio: no" says it already
        return None
    v = a.audio
    band = ScoreBand.around(v.threshold, v.uncertain_band)
    timeline = None
    if v.windows:
        timeline = _png_uri(plots.speech_timeline(v, band, duration_s=a.media.duration_s))
    rows = [("Audio decoded", f"{clock(v.duration_s)} ({v.duration_s:.2f} s)"),
            ("Speech found", f"{v.speech_s:.2f} s in {len(v.segments)} segment"
                             f"{'s' if len(v.segments) != 1 else ''}")]
    if v.score is not None:
        rows += [("Voice score", f"{v.score:.3f}"),
                 ("Windows scored", f"{len(v.windows)} (2 s each, every 1 s); "
                                    f"{sum(w.score >= v.threshold for w in v.windows)} at or "
                                    f"above the threshold")]
    return {"facts": facts, "rows": rows, "timeline": timeline,
            "verdict_class": (v.verdict.value if v.verdict else "no_speech").lower()
            .replace("_", "-"),
            "colour": plots.score_colour(v.score, band) if v.score is not None else "#667085",
            "score": f"{v.score:.2f}" if v.score is not None else "–"}


def _face_size(track: Track) -> tuple[float, float]:
    """Median face box (width, height) in pixels over the track."""
    return (float(np.median([f.box.w for f in track.frames])),
            float(np.median([f.box.h for f in track.frames])))


def _cautions(a: Analysis) -> list[str]:
    """Known failure cases that the numbers show for this file."""
    out = []
    for tr in a.tracks:
        side = max(_face_size(tr))
        if side < SMALL_FACE_PX:
            out.append(f"Face {tr.track_id + 1} is small (about {side:.0f} pixels across): "
                       "tiny faces are a known failure case, its score is less reliable.")
    return out


def _models(a: Analysis) -> list[dict]:
    out = []
    c = verdict_caveats(a)
    for d in [] if c.audio_only else c.detectors:  # figures of the kind of media analysed
        out.append({"name": d.name, "version": d.version, "task": d.task,
                    "threshold": f"{d.threshold:.2f}", "description": d.description,
                    "metrics": d.metrics, "metrics_note": d.metrics_note})
    voice = voice_facts(a)
    if voice is not None and voice.detector is not None:
        d = voice.detector
        out.append({"name": d.name, "version": d.version, "task": d.task,
                    "threshold": f"{d.threshold:.2f}", "description": d.description,
                    "metrics": d.metrics, "metrics_note": d.metrics_note})
    return out


def _deciding_model(track: Track) -> str | None:
    return max(track.model_scores, key=lambda m: m.score).model if track.model_scores else None


def _track_context(detailed: DetailedAnalysis, track: Track) -> dict:
    a = detailed.analysis
    is_video = a.media.kind == "video"
    ev = detailed.evidence[track.track_id]
    cfg = _model_config(_deciding_model(track) or "")
    temperature = cfg.heatmap_temperature if cfg else 1.0
    picks = explain.suspicious_frames(track, HEATMAP_FRAMES)
    heatmaps = []
    for i in picks:
        crop, frame = ev.crops[i], track.frames[i]
        heat = explain.heatmap(ev.cams[i], crop.shape[:2], temperature)
        caption = f"{clock(frame.timestamp_s)}, " if is_video else ""
        heatmaps.append({"crop": _image_uri(crop),
                         "overlay": _image_uri(explain.overlay(crop, heat, a.threshold)),
                         "caption": f"{caption}score {frame.score:.2f}",
                         "colour": plots.score_colour(frame.score, a.band)})
    rows = [("Face score", f"{track.score:.3f}")]
    if track.temporal_score is not None:
        rows += [("Frame average (robust)", f"{track.frame_score:.3f}"),
                 ("Temporal model", f"{track.temporal_score:.3f}")]
    if len(track.model_scores) > 1:
        rows += [(f"Detector {m.model}", f"{m.score:.3f}") for m in track.model_scores]
    if is_video:
        rows += [("Frames with this face", f"{len(track.frames)} of {a.frames_sampled}"),
                 ("Seen", f"{clock(track.frames[0].timestamp_s)} – "
                          f"{clock(track.frames[-1].timestamp_s)}"),
                 ("Takes part in the verdict", "yes" if track.decisive else
                  "no (seen too briefly)")]
    w, h = _face_size(track)
    rows.append(("Face size", f"{'about ' if is_video else ''}{w:.0f} × {h:.0f} pixels"))
    timeline = None
    if is_video:
        timeline = _png_uri(plots.timeline(
            [track], a.band, duration_s=a.media.duration_s,
            marks={track.track_id: picks}))
    return {"number": track.track_id + 1, "score": f"{track.score:.2f}",
            "colour": plots.score_colour(track.score, a.band),
            "position": explain.score_position(track.score, a.band),
            "sentence": explain.track_sentence(track, a.band, is_video,
                                               a.frames_sampled),
            "rows": rows, "timeline": timeline, "heatmaps": heatmaps,
            "heatmap_model": _deciding_model(track)}


def _contact_sheet(detailed: DetailedAnalysis) -> bytes:
    a = detailed.analysis
    is_video = a.media.kind == "video"
    if not is_video:  # one frame per face: all faces in one row
        thumbs = [plots.Thumb(detailed.evidence[tr.track_id].crops[0], tr.score,
                              f"face {tr.track_id + 1}") for tr in a.tracks]
        return plots.contact_sheet([("", thumbs)], a.band,
                                   columns=max(SHEET_COLUMNS, len(thumbs)))
    rows = []
    for tr in a.tracks:
        crops = detailed.evidence[tr.track_id].crops
        picks = explain.evenly_spaced(len(tr.frames), SHEET_COLUMNS)
        rows.append((f"face {tr.track_id + 1}", [plots.Thumb(
            crops[i], tr.frames[i].score, clock(tr.frames[i].timestamp_s)) for i in picks]))
    return plots.contact_sheet(rows, a.band, columns=SHEET_COLUMNS)


def build_context(detailed: DetailedAnalysis) -> dict:
    """Everything the HTML template shows, as plain values and data URIs."""
    a = detailed.analysis
    is_video = a.media.kind == "video"
    audio_only = a.media.kind == "audio"
    band_lo, band_hi = a.band.low, a.band.high
    figures = []
    if len(a.tracks) > 1 or (is_video and a.tracks):  # one still face: shown under Faces
        what = ("spread over each face's appearances; the number under each is that frame's "
                "score" if is_video else "the number under each is that face's score")
        figures.append({"title": "Faces found", "uri": _png_uri(_contact_sheet(detailed)),
                        "caption": f"Face crops as the detector saw them, {what}, framed red "
                                   "(above the threshold), amber (uncertain band) or green "
                                   "(below)."})
    if is_video and len(a.tracks) > 1:
        figures.append({"title": "Scores over time", "uri": _png_uri(plots.timeline(
            a.tracks, a.band, duration_s=a.media.duration_s)),
            "caption": "Per-frame score of every face; dashed: the threshold; shaded: the "
                       "uncertain band."})
    if is_video and a.tracks:
        figures.append({"title": "Score distribution per face", "uri": _png_uri(
            plots.distribution(a.tracks, a.band)),
            "caption": "Each dot is one frame; the box spans the middle half of the frame "
                       "scores, the line inside it is the median."})
    caveats = verdict_caveats(a)
    no_score = "none (no speech)" if a.media.kind == "audio" else "none (no face)"
    return {
        "a": a,
        "file_name": Path(a.media.path).name,
        "verdict_class": a.verdict.value.lower().replace("_", "-"),
        "verdict_label": verdict_label(a.verdict),
        "verdict_words": {v.value: verdict_label(v) for v in Verdict},
        "meaning": caveats.meaning,
        "caveats": caveats,
        "score": no_score if a.score is None else f"{a.score:.2f}",
        "threshold": f"{a.threshold:.2f}",
        "band": f"{a.uncertain_band:.2f}",
        "band_range": f"{band_lo:.2f}–{band_hi:.2f}",
        "meter": {"band_left": 100 * band_lo, "band_width": 100 * (band_hi - band_lo),
                  "threshold": 100 * a.threshold,
                  "score": None if a.score is None else 100 * a.score},
        "cautions": _cautions(a),
        "facts": _media_facts(a),
        "provenance": provenance_view(a.provenance) if a.provenance else None,
        "live": a.media.live_session(),
        "models": _models(a),
        "figures": figures,
        "tracks": [_track_context(detailed, tr) for tr in a.tracks],
        "key_frames": key_frames_context(detailed),
        "timings": [("Decoding", a.timings.decode_s), ("Face detection", a.timings.detect_s),
                    ("Face crops", a.timings.crop_s), ("Detectors", a.timings.model_s),
                    ("Provenance", a.timings.provenance_s), ("Voice check", a.timings.audio_s),
                    ("Total", a.timings.total_s)] if not audio_only else [
                    ("Provenance", a.timings.provenance_s), ("Voice check", a.timings.audio_s),
                    ("Total", a.timings.total_s)],
        "is_video": is_video,
        "audio_only": audio_only,
        "voice": _voice_context(a),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


@cache
def _environment() -> Environment:
    return Environment(loader=PackageLoader("fakelens.reports", "templates"),
                       autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                       lstrip_blocks=True)


def render_html(detailed: DetailedAnalysis) -> str:
    """One self-contained, printable HTML page."""
    return _environment().get_template("report.html.j2").render(build_context(detailed))


def render_pdf(detailed: DetailedAnalysis) -> bytes:
    """The HTML report as a paginated PDF (WeasyPrint)."""
    return html_to_pdf(render_html(detailed))


def html_to_pdf(html: str) -> bytes:
    """A rendered HTML report as PDF (for reports stored as HTML, e.g. by the web service)."""
    from PIL import ImageFile

    # WeasyPrint's import sets Pillow's process-wide LOAD_TRUNCATED_IMAGES; left on, a
    # truncated upload would then decode silently in the same (web) process
    loads_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: pango & co. missing on the system
        raise ReportError(f"PDF reports need WeasyPrint and its system libraries: {exc}") from exc
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = loads_truncated
    return HTML(string=html).write_pdf()


def render_json(detailed: DetailedAnalysis) -> str:
    """The versioned result (schema: ``Analysis.model_json_schema()``)."""
    return detailed.analysis.to_json(indent=2)


FORMATS = {".html": "html", ".htm": "html", ".pdf": "pdf", ".json": "json"}


def report_format(path: str | Path) -> str:
    """'html', 'pdf' or 'json' from the file name; a ReportError for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ReportError(f"{path}: cannot tell the report format from '{suffix or 'no suffix'}'"
                          "; use a .html, .pdf or .json file name")
    return FORMATS[suffix]


def write_report(detailed: DetailedAnalysis, path: str | Path) -> Path:
    """Write the report in the format its suffix names (.html, .pdf, .json)."""
    path = Path(path)
    kind = report_format(path)
    if kind == "html":
        data = render_html(detailed).encode("utf-8")
    elif kind == "pdf":
        data = render_pdf(detailed)
    else:
        data = render_json(detailed).encode("utf-8")
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise ReportError(f"cannot write the report {path}: {exc.strerror or exc}") from exc
    return path
