"""The main job: media -> faces -> detectors -> verdict, as one call."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from fakelens import __version__
from fakelens.analysis import verdict as vd
from fakelens.analysis.caveats import caveat_lines
from fakelens.analysis.frames import (
    FrameWork,
    PreparedFrame,
    geometry,
    load_detectors,
    track_model_score,
    uncertain_floor,
)
from fakelens.audio.analyse import analyze_audio
from fakelens.audio.model import load_voice_detector
from fakelens.config import Settings, get_settings
from fakelens.errors import CorruptMedia, ModelError
from fakelens.faces import load_face_detector, track_faces
from fakelens.fetch.guard import is_link
from fakelens.media import iter_frames, probe
from fakelens.media.scenes import SceneFrames, scene_frames
from fakelens.models.runtime import Detector
from fakelens.provenance import inspect_provenance, reason_note
from fakelens.types import (
    Analysis,
    AudioAnalysis,
    AudioStatus,
    Box,
    FrameScore,
    ModelInfo,
    ModelScore,
    Provenance,
    StageTimings,
    Track,
    Verdict,
)

log = logging.getLogger(__name__)

ProgressFn = Callable[[str, float], None]


@dataclass
class _Timer:
    totals: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.totals[stage] = self.totals.get(stage, 0.0) + now - since
        return now


@dataclass
class TrackEvidence:
    """What a report needs beyond the JSON result: each track's face crops (RGB, in the
    deciding detector's crop geometry) and class activation maps, frame by frame."""

    crops: list[np.ndarray]
    cams: list[np.ndarray]  # [h, w] logit contribution per cell; mean == frame logit


@dataclass
class DetailedAnalysis:
    analysis: Analysis
    evidence: dict[int, TrackEvidence]  # by track_id
    # the scene-change key frames (reverse image search); None when not asked for
    key_frames: SceneFrames | None = None


def analyze(
    path: str | Path,
    *,
    frames: int = 32,
    frames_per_second: float | None = None,
    keyframes_only: bool = False,
    model: str | None = None,
    threshold: float | None = None,
    uncertain_band: float = vd.DEFAULT_BAND,
    settings: Settings | None = None,
    progress: ProgressFn | None = None,
    check_voice: bool = True,
) -> Analysis:
    """Analyse one video, image or audio file (or the media behind a link): is a face in
    it manipulated, is the voice cloned, how sure, where, when.

    ``frames`` evenly spaced frames are read across the whole video (or
    ``frames_per_second`` for a dense timeline; ``keyframes_only`` snaps them to key
    frames, much faster on long videos); ``model`` picks one installed detector
    instead of the shipped defaults. The speech of an audio file or of a video's
    soundtrack is checked for a cloned voice (``check_voice``); the media verdict is FAKE
    when the faces or the voice are. Raises a ``FakeLensError`` for unusable input.
    """
    return analyze_detailed(path, frames=frames, frames_per_second=frames_per_second,
                            keyframes_only=keyframes_only, model=model, threshold=threshold,
                            uncertain_band=uncertain_band, settings=settings,
                            progress=progress, check_voice=check_voice).analysis


def analyze_detailed(
    path: str | Path,
    *,
    frames: int = 32,
    frames_per_second: float | None = None,
    keyframes_only: bool = False,
    model: str | None = None,
    threshold: float | None = None,
    uncertain_band: float = vd.DEFAULT_BAND,
    settings: Settings | None = None,
    progress: ProgressFn | None = None,
    check_voice: bool = True,
    key_frames: bool = False,
) -> DetailedAnalysis:
    """``analyze`` plus the face crops and activation maps behind each track, and (with
    ``key_frames``) the scene-change key frames of a video or the still itself, for the
    reports and the web page. A link (``https://...``) is fetched first
    (``fakelens.fetch``), then analysed the same."""
    if frames < 1:
        raise ValueError("frames must be at least 1")
    settings = settings or get_settings()
    if isinstance(path, str) and is_link(path):
        from fakelens.fetch.analyze import analyze_link

        return analyze_link(path, settings=settings, progress=progress, frames=frames,
                            frames_per_second=frames_per_second,
                            keyframes_only=keyframes_only, model=model, threshold=threshold,
                            uncertain_band=uncertain_band, check_voice=check_voice,
                            key_frames=key_frames)
    report = progress or (lambda stage, fraction: None)
    timer = _Timer()
    t_start = time.perf_counter()

    info = probe(path, allow_audio=check_voice)
    audio_only = info.kind == "audio"
    t = time.perf_counter()
    provenance, provenance_failure = _provenance(path, settings)
    timer.add("provenance", t)
    detectors = [] if audio_only else load_detectors(info.kind, model, settings)
    face_detector = None if audio_only else load_face_detector(settings)
    if audio_only:  # nothing to look at: the missing voice detector is the error
        load_voice_detector(threads=settings.intra_op_threads)

    sampled: list[PreparedFrame] = []
    expected = 1 if info.kind == "image" else (
        max(1, round((info.duration_s or 0) * frames_per_second)) if frames_per_second
        else frames)
    t = time.perf_counter()
    snapped = False
    frame_iter = () if audio_only else iter_frames(
        path, info, frames=frames, frames_per_second=frames_per_second,
        keyframes_only=keyframes_only)
    work = None if audio_only else FrameWork(detectors, face_detector)
    for frame in frame_iter:
        t = timer.add("decode", t)
        snapped = snapped or frame.snapped_to_keyframe
        faces = work.detect(frame.rgb)
        t = timer.add("detect", t)
        sampled.append(PreparedFrame(frame.index, frame.timestamp_s, faces,
                                     work.crop(frame.rgb, faces), work.look(frame.rgb, faces)))
        t = timer.add("crop", t)
        report("decode", min(1.0, len(sampled) / expected))

    t = time.perf_counter()
    scenes = _key_frames(path, info) if key_frames and not audio_only else None
    timer.add("decode", t)  # a decode of its own, at low resolution

    t = time.perf_counter()
    voice, voice_failure = (_voice(path, info, settings, uncertain_band)
                            if check_voice and info.kind != "image" else (None, None))
    timer.add("audio", t)

    raw_tracks = track_faces([s.faces for s in sampled], looks=[s.look for s in sampled])
    report("model", 0.0)
    t = time.perf_counter()
    tracks, evidence = _score_tracks(raw_tracks, sampled, detectors)
    timer.add("model", t)
    report("model", 1.0)

    thr = threshold if threshold is not None else (
        detectors[0].config.threshold if detectors else voice.threshold)
    votes = [vd.TrackVote(len(tr.frames), {m.model: m.score for m in tr.model_scores})
             for tr in tracks]
    floor = uncertain_floor(detectors) if detectors else None
    decision = vd.decide(votes, len(sampled), thr, uncertain_band, floor)
    min_len = vd.min_track_length(len(sampled))
    tracks = [tr.model_copy(update={"decisive": len(tr.frames) >= min_len}) for tr in tracks]
    reason = vd.explain(decision, [[(f.timestamp_s, f.score) for f in tr.frames]
                                   for tr in tracks],
                        [tr.score for tr in tracks], thr, info.kind == "video")
    verdict, score = decision.verdict, decision.score
    if audio_only or voice is not None:
        verdict, score, reason, voice_decides = combine_with_voice(
            decision.verdict, decision.score, reason, voice, audio_only)
        if voice_decides:
            floor = None  # the voice's band is the plain one around its threshold
    note = reason_note(provenance) if provenance else None
    if note:
        reason = f"{reason} {note}"

    warnings = [provenance_failure] if provenance_failure else []
    warnings += info.warnings
    if voice_failure:
        warnings.append(voice_failure)
    if voice is not None:
        warnings += [f"audio: {w}" for w in voice.warnings]
    if face_detector is not None and face_detector.is_fallback:
        warnings.append("no face detector was available: the centre of each frame was "
                        f"analysed as one face ({face_detector.reason})")
    in_file = info.frame_count or frames  # an intact 1-frame video is not short of frames
    if info.kind == "video" and len(sampled) < min(frames, 4, in_file):
        warnings.append(f"only {len(sampled)} frames could be decoded")
    if keyframes_only and info.kind == "video" and not snapped:
        warnings.append("too few key frames for key-frame sampling: the exact instants were "
                        "decoded instead")
    # the last frame starts one frame before the end: a clip of a frame or two (0.1 s)
    # ends right where it starts
    duration = info.duration_s or 0.0
    last_start = max(0.0, duration - 1.0 / (info.fps or 25.0))
    reached = sampled[-1].timestamp_s if sampled else 0.0
    if (info.kind == "video" and len(sampled) < min(expected, in_file)
            and reached < 0.8 * last_start - 1e-6):
        warnings.append(f"decoding stopped at {reached:.1f} s of {duration:.1f} s (truncated "
                        f"or damaged file): only {len(sampled)} of {expected} frames, all "
                        "before that point, were analysed")
    timings = StageTimings(decode_s=timer.totals.get("decode", 0.0),
                           detect_s=timer.totals.get("detect", 0.0),
                           crop_s=timer.totals.get("crop", 0.0),
                           model_s=timer.totals.get("model", 0.0),
                           provenance_s=timer.totals.get("provenance", 0.0),
                           audio_s=timer.totals.get("audio", 0.0),
                           total_s=time.perf_counter() - t_start)
    analysis = Analysis(
        fakelens_version=__version__,
        verdict=verdict,
        score=score,
        threshold=thr,
        uncertain_band=uncertain_band,
        uncertain_from=floor,
        reason=reason,
        media=info,
        tracks=tracks,
        models=[ModelInfo(name=d.config.name, version=d.config.version, task=d.config.task,
                          threshold=d.config.threshold) for d in detectors],
        face_detector=face_detector.name if face_detector is not None else "none (audio)",
        frames_sampled=len(sampled),
        sampling=((f"{frames_per_second:g} frames per second" if frames_per_second
                   else f"{frames} evenly spaced frames")
                  + (", snapped to key frames" if snapped else ""))
        if info.kind == "video" else "still" if info.kind == "image" else "audio only",
        warnings=warnings,
        provenance=provenance,
        audio=voice,
        timings=timings,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    analysis.caveats = caveat_lines(analysis)
    return DetailedAnalysis(analysis, evidence, scenes)


def _key_frames(path: str | Path, info) -> SceneFrames | None:
    """The key frames, or None: they are an aid beside the verdict, so nothing in them
    (damaged data past what the sampling read, a bug) may cost the analysis."""
    try:
        return scene_frames(path, info)
    except Exception:  # noqa: BLE001
        log.exception("key frames of %s could not be found", path)
        return None


def _provenance(path: str | Path, settings: Settings) -> tuple[Provenance | None, str | None]:
    """The provenance step, or why it failed: it stands beside the verdict, so nothing in it
    (a bug, a native-library error on a hostile file) may cost the analysis."""
    try:
        return inspect_provenance(path, trust_anchors=settings.c2pa_trust_anchors), None
    except Exception as exc:  # noqa: BLE001
        log.exception("provenance check of %s failed", path)
        # the message may hold a server path: the log has it, the result only its kind
        return None, f"provenance could not be checked ({type(exc).__name__}; see the log)"


def _voice(path: str | Path, info, settings: Settings, band: float
           ) -> tuple[AudioAnalysis | None, str | None]:
    """The voice check, or why it did not run. Of an audio file it is the whole analysis
    (its failures are the analysis's); beside a video's faces a failure costs nothing
    else."""
    if info.kind == "audio":
        voice = analyze_audio(path, threads=settings.intra_op_threads, band=band)
        if voice.status in (AudioStatus.UNREADABLE, AudioStatus.NO_AUDIO):
            raise CorruptMedia(f"{Path(path).name}: the audio cannot be decoded: damaged or "
                               "truncated")
        return voice, None
    if not info.has_audio:
        return AudioAnalysis(status=AudioStatus.NO_AUDIO,
                             message="The file has no audio track: no voice to check."), None
    try:
        return analyze_audio(path, threads=settings.intra_op_threads, band=band), None
    except ModelError as exc:
        return None, f"the voice was not checked: {exc}"
    except Exception as exc:  # noqa: BLE001 - the faces' verdict must not be lost to it
        log.exception("voice check of %s failed", path)
        return None, f"the voice could not be checked ({type(exc).__name__}; see the log)"


_SEVERITY = {Verdict.FAKE: 3, Verdict.UNCERTAIN: 2, Verdict.REAL: 1}


def combine_with_voice(face_verdict: Verdict, face_score: float | None, face_reason: str,
                       voice: AudioAnalysis | None, audio_only: bool
                       ) -> tuple[Verdict, float | None, str, bool]:
    """The media verdict from the faces' and the voice's: the more severe one decides
    (FAKE when either is FAKE), and the reason says which. -> verdict, score, reason,
    whether the voice decided."""
    if audio_only:
        if voice.verdict is None:
            return Verdict.NO_SPEECH, None, voice.message, True
        return voice.verdict, voice.score, f"Voice: {voice.message}", True
    if voice is None:
        return face_verdict, face_score, face_reason, False
    reason = f"{face_reason} Voice: {voice.message}"
    if voice.verdict is None:
        return face_verdict, face_score, reason, False
    face_rank = _SEVERITY.get(face_verdict, 0)
    voice_rank = _SEVERITY[voice.verdict]
    if voice_rank > face_rank:
        lead = {Verdict.FAKE: "Likely manipulated because of the voice",
                Verdict.UNCERTAIN: "Uncertain because of the voice",
                Verdict.REAL: "No sign found in the voice"}[voice.verdict]
        return voice.verdict, voice.score, f"{lead}. {reason}", True
    if face_verdict is Verdict.FAKE:
        which = "the faces and the voice" if voice.verdict is Verdict.FAKE else "the faces"
        reason = f"Likely manipulated because of {which}. {reason}"
    return face_verdict, face_score, reason, False


def _score_tracks(raw_tracks, sampled: list[PreparedFrame], detectors: list[Detector]
                  ) -> tuple[list[Track], dict[int, TrackEvidence]]:
    per_model: dict[str, list] = {}
    all_crops: dict[str, list[np.ndarray]] = {}
    for det in detectors:
        key = geometry(det)
        crops = [sampled[tf.frame_pos].crops[tf.index][key] for tr in raw_tracks
                 for tf in tr.faces]
        all_crops[det.config.name] = crops
        per_model[det.config.name] = [det.score_frames(crops)] if crops else []
    tracks = []
    evidence: dict[int, TrackEvidence] = {}
    offset = 0
    for tr in raw_tracks:
        n = len(tr.faces)
        model_scores, frame_probs = [], None
        temporal_scores = []
        deciding = None
        for det in detectors:
            if not per_model[det.config.name]:
                continue
            out = per_model[det.config.name][0]
            probs = out.probs[offset:offset + n]
            score, temporal = track_model_score(det, probs, out.embeddings[offset:offset + n])
            if temporal is not None:
                temporal_scores.append(temporal)
            model_scores.append(ModelScore(model=det.config.name, score=score))
            if deciding is None or model_scores[-1].score > deciding[0]:
                deciding = (model_scores[-1].score, det.config.name, out)
            frame_probs = probs if frame_probs is None else np.maximum(frame_probs, probs)
        _, name, out = deciding
        evidence[len(tracks)] = TrackEvidence(crops=all_crops[name][offset:offset + n],
                                              cams=list(out.cams[offset:offset + n]))
        offset += n
        frame_scores = [
            FrameScore(
                frame_index=sampled[tf.frame_pos].index,
                timestamp_s=sampled[tf.frame_pos].timestamp_s,
                box=Box(x=tf.detection.box[0], y=tf.detection.box[1], w=tf.detection.box[2],
                        h=tf.detection.box[3]),
                landmarks=[(float(x), float(y)) for x, y in tf.detection.landmarks],
                detector_confidence=tf.detection.score,
                score=float(p),
            )
            for tf, p in zip(tr.faces, frame_probs, strict=True)
        ]
        tracks.append(Track(
            track_id=len(tracks),
            frames=frame_scores,
            frame_score=vd.robust_mean(frame_probs),
            temporal_score=max(temporal_scores) if temporal_scores else None,
            model_scores=model_scores,
            score=max(m.score for m in model_scores),
            decisive=True,
        ))
    return tracks, evidence
