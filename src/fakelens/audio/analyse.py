"""The voice check: audio track -> speech segments -> windows -> scores -> voice verdict.

Streamed: the track is decoded in 30 s chunks, speech is found in each chunk and scored
at once, so memory holds one chunk and the scores, whatever the file's length. The voice
verdict uses the one verdict rule (``analysis.verdict.decide``), the speech as one track
of windows. Nothing here raises for a broken track or a file without speech: the result
says so (``status``, ``message``) and the rest of an analysis goes on.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from fakelens.analysis import verdict as vd
from fakelens.audio.decode import SAMPLE_RATE, AudioReader
from fakelens.audio.model import DEFAULT_VOICE_DETECTOR, load_voice_detector
from fakelens.audio.vad import speech_segments
from fakelens.errors import FakeLensError, MediaError
from fakelens.types import (
    AudioAnalysis,
    AudioStatus,
    AudioWindow,
    ModelInfo,
    SpeechSegment,
    Verdict,
)

log = logging.getLogger(__name__)

MAX_SECONDS = 20 * 60.0  # longer tracks: their first 20 minutes are checked

VOICE_WORDS = {
    Verdict.FAKE: "signs of a cloned or synthetic voice",
    Verdict.UNCERTAIN: "a score too close to the threshold to call",
    Verdict.REAL: "no sign of a cloned or synthetic voice found by this detector (not a "
                  "proof of authenticity)",
}


def analyze_audio(path: str | Path, *, detector: str = DEFAULT_VOICE_DETECTOR,
                  threads: int = 0, band: float = vd.DEFAULT_BAND,
                  max_seconds: float = MAX_SECONDS) -> AudioAnalysis:
    """Check the speech in ``path`` (an audio file or a video with a soundtrack).

    A missing voice detector raises ``ModelMissing``; everything about the file itself
    (no audio track, a broken one, no speech) is reported in the result."""
    det = load_voice_detector(detector, threads)
    cfg = det.config
    model = ModelInfo(name=cfg.name, version=cfg.version, task=cfg.task,
                      threshold=cfg.threshold)
    base = {"model": model, "threshold": cfg.threshold, "uncertain_band": band}
    try:
        reader = AudioReader(path, SAMPLE_RATE)
    except MediaError as exc:
        no_track = "no audio track" in str(exc)
        return AudioAnalysis(
            status=AudioStatus.NO_AUDIO if no_track else AudioStatus.UNREADABLE,
            message="The file has no audio track: no voice to check." if no_track else
            f"The audio track could not be read ({type(exc).__name__}): the voice was not "
            "checked.", **base)
    info = reader.info
    base.update(codec=info.codec, sample_rate=info.sample_rate, channels=info.channels)
    segments: list[SpeechSegment] = []
    windows: list[AudioWindow] = []
    warnings: list[str] = []
    offset = 0
    limit = int(max_seconds * SAMPLE_RATE)
    try:
        for chunk in reader:
            chunk = chunk[:max(0, limit - offset)]
            for seg in speech_segments(chunk, SAMPLE_RATE, offset / SAMPLE_RATE):
                a = int(round(seg.start_s * SAMPLE_RATE)) - offset
                b = int(round(seg.end_s * SAMPLE_RATE)) - offset
                wins = det.windows(chunk[a:b])
                probs = det.probs([w for _, w in wins])
                for (start, w), p in zip(wins, probs, strict=True):
                    t0 = seg.start_s + start / SAMPLE_RATE
                    windows.append(AudioWindow(start_s=round(t0, 3), score=float(p),
                                               end_s=round(min(seg.end_s, t0 + w.size
                                                               / SAMPLE_RATE), 3)))
                segments.append(SpeechSegment(start_s=round(seg.start_s, 3),
                                              end_s=round(seg.end_s, 3),
                                              score=float(np.mean(probs))))
            offset += chunk.size
            if offset >= limit:
                warnings.append(f"only the first {max_seconds / 60:.0f} minutes of the audio "
                                "were checked")
                break
    except FakeLensError as exc:
        log.info("audio of %s unreadable: %s", path, exc)
        return AudioAnalysis(status=AudioStatus.UNREADABLE, warnings=warnings,
                             message=f"The audio track could not be decoded "
                                     f"({type(exc).__name__}): the voice was not checked.",
                             **base)
    if reader.truncated_at is not None:
        warnings.append(f"the audio track broke off at {reader.truncated_at:.1f} s (damaged "
                        "or truncated): only what came before was checked")
    duration = offset / SAMPLE_RATE
    speech = sum(s.end_s - s.start_s for s in segments)
    if not windows:
        return AudioAnalysis(status=AudioStatus.NO_SPEECH, duration_s=round(duration, 3),
                             warnings=warnings, message=f"No speech found in {duration:.1f} s "
                             "of audio (silence, music or noise): no voice to check.", **base)
    probs = [w.score for w in windows]
    score = vd.robust_mean(probs)
    decision = vd.decide([vd.TrackVote(len(probs), {cfg.name: score})], len(probs),
                         cfg.threshold, band)
    high = [w for w in windows if w.score >= cfg.threshold]
    detail = (f"Speech found: {speech:.1f} s in {len(segments)} segment"
              f"{'s' if len(segments) != 1 else ''}; the voice scored {score:.2f}, "
              f"{len(high)} of its {len(windows)} windows {cfg.threshold:.2f} or more")
    if high:
        detail += f", between {vd.clock(high[0].start_s)} and {vd.clock(high[-1].end_s)}"
    return AudioAnalysis(
        status=AudioStatus.ANALYSED, verdict=decision.verdict, score=score,
        duration_s=round(duration, 3), speech_s=round(speech, 3), segments=segments,
        windows=windows, warnings=warnings,
        message=f"{detail}: {VOICE_WORDS[decision.verdict]}.", **base)
