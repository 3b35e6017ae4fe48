"""The verdict in words, with what a reader must know before trusting it: the measured
accuracy of the detector that decided (from its model card), the uncertain band, which
detector said what, the known failure cases. One wording for every place a verdict is
shown (result page, forum, reports, JSON)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from fakelens.errors import FakeLensError
from fakelens.models.pretrained import MEDIA_WORDS, MeasuredAccuracy, PretrainedConfig
from fakelens.types import Analysis, MediaInfo, ScoreBand, Track, Verdict

VERDICT_LABELS = {
    Verdict.FAKE: "Likely manipulated",
    Verdict.REAL: "No sign found by these detectors",
    Verdict.UNCERTAIN: "Uncertain",
    Verdict.NO_FACE: "No face found",
    Verdict.NO_SPEECH: "No speech found",
}

VERDICT_MEANING = {
    Verdict.FAKE: "The most suspicious face scored at or above the threshold, clear of the "
                  "uncertain band: the detectors found signs of manipulation.",
    Verdict.REAL: "Every face scored below the uncertain band: these detectors found no sign "
                  "of the manipulations they know. That is not a clean bill of health: they "
                  "miss whole kinds of deepfakes (below), so check the source and the context.",
    Verdict.UNCERTAIN: "The score lies in the uncertain band (it reaches far below the "
                       "threshold, where these detectors leave many deepfakes), or another "
                       "detector contradicts it: fakelens does not call it either way. Treat "
                       "the media as unverified.",
    Verdict.NO_FACE: "No face was found, so nothing could be checked for manipulation. This "
                     "says nothing about whether the media is authentic.",
    Verdict.NO_SPEECH: "No speech was found in the audio, so no voice could be checked. This "
                       "says nothing about whether the media is authentic.",
}

EVIDENCE_NOT_PROOF = ("Evidence, not proof: a high score can come from beauty filters, heavy "
                      "compression or unusual lighting, and a low score does not prove that "
                      "the media is authentic. Check the source and the context too.")

VOICE_MEANING = {
    Verdict.FAKE: "The speech scored at or above the threshold, clear of the uncertain band: "
                  "the voice detector found signs of a cloned or synthetic voice.",
    Verdict.REAL: "The speech scored below the uncertain band: the voice detector found no "
                  "sign of the voice generators it knows. That is not a clean bill of health: "
                  "it misses whole kinds of synthetic speech (below), so check the source and "
                  "the context.",
    Verdict.UNCERTAIN: "The speech scored in the uncertain band: fakelens does not call it "
                       "either way. Treat the recording as unverified.",
    Verdict.NO_SPEECH: VERDICT_MEANING[Verdict.NO_SPEECH],
}

VOICE_EVIDENCE_NOT_PROOF = ("Evidence, not proof: a high score can come from low-bit-rate "
                            "codecs (phone calls, messengers), noise or unusual recording "
                            "equipment, and a low score does not prove that the voice is "
                            "real. Check the source and the context too.")

VOICE_KNOWN_FAILURES = (
    "voice generators the detector never met in training: commercial voice clones "
    "(ElevenLabs and the like), voice conversion, codec language models (VALL-E style)",
    "real speech that went through a low-bit-rate codec (phone calls, messenger voice "
    "notes), which scores higher than clean speech",
    "very short speech (under about 2 s), singing, music and noisy or overlapping speakers",
    "languages other than English and Mandarin",
)

STATUS_LABELS = {"no_speech": "No speech found", "no_audio": "No audio track",
                 "unreadable": "Audio unreadable"}

KNOWN_FAILURES = (
    "faces seen from the side, tiny faces (under about 80 pixels across), covered or "
    "motion-blurred faces",
    "heavy compression (low-bit-rate re-uploads, messenger re-encodes)",
    "face reenactment (expression transfer such as Face2Face or NeuralTextures) and edits "
    "that leave the faces alone (voice, body, background, false captions)",
    "whole talking heads generated from one picture (SadTalker-style), which the face-swap "
    "detector scores as real",
    "generation methods newer than the detectors' training material",
)


# A video under this many bits per pixel and frame at 640x480 (scaled by the square root
# of the frame size: small frames need more bits per pixel) is compressed about as hard as
# FaceForensics++ c40 (x264 at QP 40). Measured on the 139 public clips and their copies
# re-encoded at QP 40 (benchmarks/recompress_sets.sh): 130 of the copies fall below it, 2 of
# the clips as published do.
HEAVY_COMPRESSION_BPP = 0.02
_REFERENCE_PIXELS = 640 * 480


def heavily_compressed(media: MediaInfo) -> bool:
    bpp = media.bits_per_pixel
    if media.kind != "video" or bpp is None or media.width * media.height <= 0:
        return False
    return bpp < HEAVY_COMPRESSION_BPP * (_REFERENCE_PIXELS / (media.width * media.height)) ** 0.5


# A still photo saved at this JPEG quality or lower (the IJG scale, estimated from its
# quantisation table: media/jpeg.py) is compressed hard enough to weaken the face-swap
# detector. Measured on the public held-out stills re-encoded at quality 90 to 10
# (benchmarks/photo_compression.py, docs/eval/photo-compression.md): the highest quality
# from which down its AUC on the DFDC face-swap photos lies more than 0.03 below the AUC as
# published (0.754; 0.734 at 50, 0.697 at 40, 0.585 at 20, 0.503 at 10); the GAN-face
# detector v2 caught every GAN face down to quality 15 and 126 of 129 at 10, and real photos
# called Likely manipulated stayed at 0 to 4 of about 108 at every quality (2 as published).
HEAVY_JPEG_QUALITY = 40
PHOTO_COMPRESSION_FOUND = (
    "with the benchmark's held-out face-swap photos re-saved at JPEG quality 40, 20 and 10, "
    "the face-swap detector caught 13 of 27, 9 of 26 and 1 of 23 of them (Likely "
    "manipulated or Uncertain; 14 of 27 as published) and told them from real photos less "
    "and less well (AUC 0.70, 0.59 and 0.50, chance, against 0.75). Fully generated faces "
    "(StyleGAN2) were still caught: 129 of 129, 129 of 129 and 126 of 129.")
SMALL_FACE_PX = 80  # faces under this (median box side) lose the detail detectors read


def heavily_compressed_photo(media: MediaInfo) -> bool:
    """A JPEG still saved at HEAVY_JPEG_QUALITY or lower. Other formats never count: a
    PNG is lossless as stored, and WebP, HEIC and AVIF get no quality estimate
    (``media.jpeg_quality`` is None: their quantisers are not JPEG tables)."""
    q = media.jpeg_quality
    return media.kind == "image" and q is not None and q <= HEAVY_JPEG_QUALITY


def tiny_image(media: MediaInfo) -> bool:
    """A still whose shorter side is under SMALL_FACE_PX: any face in it is small."""
    return media.kind == "image" and 0 < min(media.width, media.height) < SMALL_FACE_PX


def media_warnings(a: Analysis) -> list[str]:
    """What about this very file weakens its verdict (beside the general failure cases):
    a video or a JPEG photo compressed hard, a tiny photo."""
    out = []
    if heavily_compressed(a.media):
        out.append(f"This video is heavily compressed ({a.media.bits_per_pixel:.3f} bits per "
                   "pixel and frame, as low as a low-quality re-upload). Compression erases "
                   "much of what the detectors look for: with the benchmark's held-out face "
                   "swaps re-encoded this hard, most fakes came out with no sign found. A low "
                   "score is weak evidence for this file.")
    if heavily_compressed_photo(a.media):
        out.append(f"This photo is heavily compressed (saved at JPEG quality about "
                   f"{a.media.jpeg_quality} of 100; {HEAVY_JPEG_QUALITY} or lower counts as "
                   "heavy). "
                   f"Compression erases much of what the detectors look for: "
                   f"{PHOTO_COMPRESSION_FOUND} A low score is weak evidence for this file.")
    if tiny_image(a.media):
        out.append(f"This photo is tiny ({a.media.width}x{a.media.height} pixels): any face in "
                   f"it is under {SMALL_FACE_PX} pixels across, too little detail for the "
                   "detectors to read. A low score is weak evidence for this file.")
    return out


def blind_spots(a: Analysis) -> list[str]:
    """What these detectors are known to miss that applies to this very result, beside a
    verdict that is not Likely manipulated: the kinds of deepfakes the detectors' model
    cards show as missed on this kind of media (a photo: those measured on photos, else
    the video ones with words that say so), and small faces (heavy compression and a tiny
    photo: ``media_warnings``)."""
    if a.verdict in (Verdict.FAKE, Verdict.NO_FACE, Verdict.NO_SPEECH):
        return []
    out = []
    seen: set[str] = set()
    for m in a.models:
        cfg = _config(m.name)
        if cfg is None:
            continue
        spots = cfg.blind_spots_on(a.media.kind)
        note = f" {spots.note}" if spots.note else ""
        for kind, measured in spots.spots.items():
            if kind not in seen:
                seen.add(kind)
                out.append(f"{kind}: {m.name} often misses these ({measured}).{note}")
    track = deciding_track(a)
    if track is not None and track.frames and not tiny_image(a.media):  # said once
        sides = sorted(max(f.box.w, f.box.h) for f in track.frames)
        side = sides[len(sides) // 2]
        if side < SMALL_FACE_PX:
            out.append(f"The face is small ({side:.0f} pixels across, under {SMALL_FACE_PX}): "
                       "too little detail survives for the detectors to read.")
    return out


def false_alarms(a: Analysis) -> list[str]:
    """Kinds of real media a detector that pushed this verdict up is known to call
    manipulated (its model card, measured on this kind of media: how many such real files
    it scored at or above its threshold), beside a verdict of Likely manipulated or
    Uncertain: the user can tell whether the file is one of them. A detector pushed it up
    when it scored this file at or above its own threshold; a score below it (an Uncertain
    verdict from the band's lower part) is not what the card's figure measured."""
    if a.verdict not in (Verdict.FAKE, Verdict.UNCERTAIN):
        return []
    track = deciding_track(a)
    if track is None:
        return []
    out = []
    for ms in track.model_scores:
        cfg = _config(ms.model)
        if cfg is None or ms.score < cfg.threshold:
            continue
        for kind, measured in cfg.false_alarms_by_media.get(a.media.kind, {}).items():
            out.append(f"{kind}: {ms.model} scored {ms.score:.2f} here, and it scores some "
                       f"real ones high too ({measured}). If this file is one, the score "
                       "may be a false alarm.")
    return out


def verdict_label(verdict: Verdict | str | None) -> str:
    """The one wording of a verdict (unknown values are shown as they are)."""
    try:
        return VERDICT_LABELS[Verdict(verdict)]
    except ValueError:
        return str(verdict or "")


class DetectorFacts(BaseModel):
    """One detector of an analysis: what it said and how good its model card says it is."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    task: str
    threshold: float
    description: str = ""
    metrics: dict[str, str] = {}  # measured accuracy on the kind of media analysed
    media: str = ""  # that kind: video, image (audio: the voice detector)
    metrics_note: str = ""  # in words: none measured on this kind, or the card names none
    score: float | None = None  # on the face that decided (None: no face)
    decided: bool = False
    contradicts: bool = False  # below the band while the verdict's score is above

    @property
    def media_words(self) -> str:
        """The kind of media the figures are of, in words ("still photos"); empty when the
        figures name none (audio, an older card)."""
        return MEDIA_WORDS.get(self.media, "") if not (self.metrics and self.metrics_note) \
            else ""


class VoiceFacts(BaseModel):
    """The voice check of an analysis as a reader sees it: its verdict in the one wording,
    what it found, and its detector's model card (accuracy, blind spots)."""

    model_config = ConfigDict(frozen=True)

    status: str
    label: str
    message: str
    verdict: Verdict | None = None
    score: float | None = None
    threshold: float = 0.5
    band_low: float = 0.4
    band_high: float = 0.6
    speech_s: float = 0.0
    duration_s: float = 0.0
    windows: int = 0
    detector: DetectorFacts | None = None
    blind_spots: list[str] = []
    known_failures: list[str] = list(VOICE_KNOWN_FAILURES)
    evidence_not_proof: str = VOICE_EVIDENCE_NOT_PROOF


def voice_facts(a: Analysis) -> VoiceFacts | None:
    """The voice check for display; None for stills and results without one."""
    v = a.audio
    if v is None:
        return None
    label = verdict_label(v.verdict) if v.verdict is not None else STATUS_LABELS.get(
        v.status.value, str(v.status.value))
    detector, spots = None, []
    if v.model is not None:
        from fakelens.audio.model import find_voice_detector

        try:
            cfg, _ = find_voice_detector(v.model.name)
            description, metrics, missed = cfg.description, dict(cfg.metrics), dict(cfg.missed)
        except FakeLensError:
            description, metrics, missed = "", {}, {}
        detector = DetectorFacts(name=v.model.name, version=v.model.version,
                                 task=v.model.task, threshold=v.model.threshold,
                                 description=description, metrics=metrics, media="audio",
                                 score=v.score, decided=True)
        if v.verdict in (Verdict.REAL, Verdict.UNCERTAIN):
            spots = [f"{kind}: {v.model.name} often misses these ({what})."
                     for kind, what in missed.items()]
    band = ScoreBand.around(v.threshold, v.uncertain_band)
    return VoiceFacts(status=v.status.value, label=label, message=v.message,
                      verdict=v.verdict, score=v.score, threshold=v.threshold,
                      band_low=band.low, band_high=band.high, speech_s=v.speech_s,
                      duration_s=v.duration_s, windows=len(v.windows), detector=detector,
                      blind_spots=spots)


class VerdictCaveats(BaseModel):
    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    label: str
    meaning: str
    score: float | None
    threshold: float
    band_low: float
    band_high: float
    deciding_detector: str | None
    deciding_face: int | None  # track id
    detectors: list[DetectorFacts]
    known_failures: list[str]
    blind_spots: list[str] = []  # what the detectors miss that applies to this result
    media_warnings: list[str] = []  # about this file: heavy compression, a tiny photo
    false_alarms: list[str] = []  # real media the detectors behind this verdict are known to flag
    evidence_not_proof: str = EVIDENCE_NOT_PROOF
    voice: VoiceFacts | None = None  # the voice check (audio files, soundtracks)
    audio_only: bool = False  # the voice is the whole analysis: no face was looked for

    @property
    def deciding(self) -> DetectorFacts | None:
        return next((d for d in self.detectors if d.decided), None)

    @property
    def contradicting(self) -> list[str]:
        return [d.name for d in self.detectors if d.contradicts]


def model_card(name: str, media: str) -> tuple[str, MeasuredAccuracy]:
    """(description, measured accuracy on ``media``: video or image) of an installed
    detector, from its model card: never the figures of the other kind of media."""
    cfg = _config(name)
    if cfg is None:  # not installed here: nothing to read
        return "", MeasuredAccuracy(media=media)
    return cfg.description, cfg.accuracy_on(media)


def accuracy_note(acc: MeasuredAccuracy) -> str:
    """What a reader must be told beside the figures: that there are none for this kind of
    media, or that the card does not name the media they were measured on."""
    if not acc.figures:
        return acc.missing
    return "" if acc.stated else acc.unstated


def _config(name: str) -> PretrainedConfig | None:
    from fakelens.models.registry import get_detector

    try:
        return get_detector(name).config
    except FakeLensError:
        return None


def deciding_track(a: Analysis) -> Track | None:
    """The face that decided the verdict: the most suspicious decisive one (the longest if
    none is decisive), as ``analysis.verdict.decide`` picks it."""
    if not a.tracks:
        return None
    decisive = [t for t in a.tracks if t.decisive]
    if decisive:
        return max(decisive, key=lambda t: t.score)
    return max(a.tracks, key=lambda t: len(t.frames))


def verdict_caveats(a: Analysis) -> VerdictCaveats:
    voice = voice_facts(a)
    if a.media.kind == "audio":  # an audio file: the voice detector is the only one
        detectors = [voice.detector] if voice is not None and voice.detector else []
        return VerdictCaveats(
            verdict=a.verdict, label=verdict_label(a.verdict),
            meaning=VOICE_MEANING.get(a.verdict, VERDICT_MEANING[a.verdict]),
            score=a.score, threshold=a.threshold, band_low=a.band.low, band_high=a.band.high,
            deciding_detector=detectors[0].name if detectors else None, deciding_face=None,
            detectors=detectors, known_failures=list(VOICE_KNOWN_FAILURES),
            blind_spots=voice.blind_spots if voice else [],
            evidence_not_proof=VOICE_EVIDENCE_NOT_PROOF, voice=voice, audio_only=True)
    track = deciding_track(a)
    scores = {m.model: m.score for m in track.model_scores} if track else {}
    if track is not None and not scores and len(a.models) == 1:
        scores = {a.models[0].name: track.score}
    deciding = max(scores, key=scores.__getitem__) if scores else None
    above = a.score is not None and a.score >= a.threshold
    detectors = []
    for m in a.models:
        description, accuracy = model_card(m.name, a.media.kind)
        score = scores.get(m.name)
        detectors.append(DetectorFacts(
            name=m.name, version=m.version, task=m.task, threshold=m.threshold,
            description=description, metrics=accuracy.figures, media=accuracy.media,
            metrics_note=accuracy_note(accuracy), score=score, decided=m.name == deciding,
            contradicts=above and score is not None and score < a.threshold - a.uncertain_band))
    return VerdictCaveats(
        verdict=a.verdict, label=verdict_label(a.verdict), meaning=VERDICT_MEANING[a.verdict],
        score=a.score, threshold=a.threshold,
        band_low=a.band.low, band_high=a.band.high,
        deciding_detector=deciding, deciding_face=track.track_id if track else None,
        detectors=detectors, known_failures=list(KNOWN_FAILURES),
        blind_spots=blind_spots(a), media_warnings=media_warnings(a),
        false_alarms=false_alarms(a), voice=voice)


def accuracy_line(d: DetectorFacts) -> str:
    """The "how reliable" sentence of a detector: its measured accuracy on the kind of
    media analysed (model card), or in words that there is none for that kind."""
    head = f"The verdict comes from {d.name} {d.version}"
    if not d.metrics:
        return f"{head}. {d.metrics_note or 'No measured accuracy is recorded for it.'}"
    on = f" on {MEDIA_WORDS[d.media]}" if d.media in MEDIA_WORDS and not d.metrics_note else ""
    measured = "; ".join(f"{k}: {v}" for k, v in d.metrics.items())
    line = f"{head}; its measured accuracy{on} (model card, 95% interval): {measured}."
    return f"{line} {d.metrics_note}" if d.metrics_note else line


def voice_lines(a: Analysis) -> list[str]:
    """What to know about the voice check, when it scored speech: its detector's measured
    accuracy (model card) and what it is known to miss."""
    v = a.audio
    if v is None or v.model is None or v.verdict is None:
        return []
    from fakelens.audio.model import find_voice_detector

    try:
        cfg, _ = find_voice_detector(v.model.name)
    except FakeLensError:
        return []
    measured = "; ".join(f"{k}: {x}" for k, x in cfg.metrics.items())
    lines = [f"The voice check comes from {cfg.name} {cfg.version}; its measured accuracy "
             f"(model card, 95% interval): {measured or 'not recorded'}."]
    if v.verdict is not Verdict.FAKE:
        lines += [f"Blind spot: {kind}: {cfg.name} often misses these ({what})."
                  for kind, what in cfg.missed.items()]
    return lines


def caveat_lines(a: Analysis) -> list[str]:
    """The caveats as sentences (the JSON result's ``caveats``)."""
    c = verdict_caveats(a)
    lines = []
    if c.deciding is not None:
        lines.append(accuracy_line(c.deciding))
        if len(c.detectors) > 1:
            said = ", ".join(f"{x.name} {x.score:.2f}" for x in c.detectors
                             if x.score is not None)
            lines.append(f"Scores of each detector on face {c.deciding_face + 1}: {said}.")
    if c.score is not None:
        lines.append(f"Scores from {c.band_low:.2f} to {c.band_high:.2f} (the uncertain band "
                     f"around the threshold {c.threshold:.2f}) are called Uncertain.")
    if c.contradicting:
        lines.append(f"Contradicted by {', '.join(c.contradicting)}, which scored below the "
                     "band.")
    if not c.audio_only:  # of an audio file the voice check is the verdict (above)
        lines += voice_lines(a)
    lines += [f"Blind spot: {b}" for b in c.blind_spots]
    lines += [f"Known false alarm: {f}" for f in c.false_alarms]
    lines += c.media_warnings
    lines.append("Known failure cases: " + "; ".join(c.known_failures) + ".")
    lines.append(c.evidence_not_proof)
    return lines
