"""Typed results that cross module borders (all JSON-serialisable through pydantic)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

# 1.1: provenance; 1.2: caveats; 1.3: media.bits_per_pixel; 1.4: uncertain_from; 1.5: audio
# (the voice check), media kind "audio", verdict NO_SPEECH (each absent from older results);
# 1.6: provenance.source (media fetched from a link); media.live, and null media.size_bytes
# and media.sha256 for a live session (no file); 1.7: provenance.source.entries (the
# videos a link holds, listed); 1.8: media.jpeg_quality (a still's estimated JPEG quality)
SCHEMA_VERSION = "1.8"
PROVENANCE_VERSION = "1.0"


class Verdict(StrEnum):
    REAL = "REAL"
    FAKE = "FAKE"
    UNCERTAIN = "UNCERTAIN"
    NO_FACE = "NO_FACE"
    NO_SPEECH = "NO_SPEECH"  # an audio file in which no speech was found (schema 1.5)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ScoreBand(_Frozen):
    """The threshold and the uncertain band around it: where a score lies."""

    low: float
    threshold: float
    high: float

    @classmethod
    def around(cls, threshold: float, half_width: float, uncertain_from: float | None = None
               ) -> ScoreBand:
        """The band of half-width ``half_width`` around ``threshold``, its lower edge moved
        down to ``uncertain_from`` when that is lower (never narrowed)."""
        low = threshold - half_width
        if uncertain_from is not None:
            low = min(low, uncertain_from)
        return cls(low=max(0.0, low), threshold=threshold,
                   high=min(1.0, threshold + half_width))

    def where(self, score: float) -> str:
        """'above' (the threshold, clear of the band), 'uncertain' or 'below' (the band)."""
        if self.low <= score < self.high:
            return "uncertain"
        return "above" if score >= self.threshold else "below"


class Box(_Frozen):
    """Face box in pixels of the (rotation-corrected) frame."""

    x: float
    y: float
    w: float
    h: float


LIVE_SOURCES = {"camera": "a camera", "shared screen or window": "a shared screen or window"}


class LiveSource(_Frozen):
    """What a live check watched (schema 1.6). Its frames were analysed as they came and
    none was kept: there is no file, so no size, no SHA-256, and no file metadata or
    content credentials to read."""

    source: str = Field(description="what was watched: 'camera' or 'shared screen or "
                        "window' (the web page), or the camera, stream or file the command "
                        "line followed")
    duration_s: float = Field(description="how long the session watched, in seconds")

    def describe(self) -> str:
        """'a live session of 42 s from a camera'."""
        seconds = round(self.duration_s)
        length = f"{seconds} s" if seconds < 120 else f"{seconds // 60} min {seconds % 60} s"
        return f"a live session of {length} from {LIVE_SOURCES.get(self.source, self.source)}"


class MediaInfo(_Frozen):
    path: str
    kind: str = Field(description="'video', 'image' or 'audio' (schema 1.5)")
    format: str = Field(description="container or image format as detected from content "
                        "('live' for a live session)")
    size_bytes: int | None = Field(description="the file's size; null for a live session "
                                   "(no file was kept; schema 1.6)")
    sha256: str | None = Field(description="of the file's bytes; null for a live session "
                               "(no file was kept; schema 1.6)")
    width: int
    height: int
    codec: str | None = None
    fps: float | None = None
    duration_s: float | None = None
    frame_count: int | None = Field(None, description="frames in the stream (estimated if absent)")
    rotation: int = Field(0, description="degrees applied to honour rotation metadata")
    has_audio: bool = False
    bits_per_pixel: float | None = Field(None, description="video bits per pixel and frame "
                                         "(bit rate / (width x height x fps)): how hard the "
                                         "video was compressed; null for stills or unknown")
    jpeg_quality: int | None = Field(None, description="a JPEG still's estimated quality "
                                     "(1-100, the IJG scale, from its luminance quantisation "
                                     "table): how hard the photo was compressed; null for "
                                     "videos, other image formats (PNG, WebP, HEIC, ...) and "
                                     "results before schema 1.8")
    warnings: list[str] = Field(default_factory=list, description="what reading the file "
                                "noticed (e.g. which of several video streams was used)")
    live: LiveSource | None = Field(None, description="set for a live check: what it watched "
                                    "and for how long (schema 1.6)")

    def live_session(self) -> LiveSource | None:
        """The live session this result describes, None for a file; a live check saved
        before schema 1.6 (format 'live', a made-up hash) is recognised too."""
        if self.live is not None or self.format != "live":
            return self.live
        start, end = self.path.find("("), self.path.find(")")
        source = self.path[start + 1:end] if 0 <= start < end else "camera"
        return LiveSource(source=source, duration_s=self.duration_s or 0.0)


class FrameScore(_Frozen):
    frame_index: int = Field(description="index among the decoded frames of the stream")
    timestamp_s: float
    box: Box
    landmarks: list[tuple[float, float]] = Field(description="eyes, nose, mouth corners")
    detector_confidence: float
    score: float = Field(description="probability that this face in this frame is fake")


class ModelScore(_Frozen):
    model: str
    score: float


class Track(_Frozen):
    track_id: int
    frames: list[FrameScore]
    frame_score: float = Field(description="robust mean of the per-frame scores")
    temporal_score: float | None = Field(None, description="temporal head over the whole track")
    model_scores: list[ModelScore] = Field(default_factory=list)
    score: float = Field(description="probability that this face is manipulated")
    decisive: bool = Field(description="long enough to take part in the media verdict")


class ModelInfo(_Frozen):
    name: str
    version: str
    task: str
    threshold: float


class CredentialState(StrEnum):
    NONE = "none"
    VALID = "valid"
    UNTRUSTED_SIGNER = "valid_untrusted_signer"
    INVALID_SIGNATURE = "invalid_signature"
    TAMPERED = "tampered"
    REMOTE = "remote"
    UNREADABLE = "unreadable"
    UNSUPPORTED = "unsupported"


class CredentialAction(_Frozen):
    action: str = Field(description="C2PA action, e.g. c2pa.created, c2pa.edited")
    words: str = Field(description="the action in plain words")
    software: str | None = None
    digital_source_type: str | None = Field(
        None, description="IPTC digital source type code, e.g. trainedAlgorithmicMedia")


class CredentialIngredient(_Frozen):
    title: str | None = None
    format: str | None = None
    relationship: str | None = Field(None, description="parentOf, componentOf or inputTo")
    has_credentials: bool = False


class ContentCredentials(_Frozen):
    """The C2PA manifest store of the file, as its active manifest describes it."""

    state: CredentialState = Field(
        description="none, valid (trusted signer), valid_untrusted_signer, invalid_signature, "
                    "tampered (content changed after signing), remote (stored online, not "
                    "fetched), unreadable (damaged manifest) or unsupported (format)")
    summary: str = Field(description="the state in plain words")
    signer: str | None = None
    signer_trusted: bool = False
    signed_at: str | None = None
    claim_generator: str | None = Field(None, description="the software that wrote the claim")
    title: str | None = None
    actions: list[CredentialAction] = Field(default_factory=list)
    ai_generated: bool = Field(False, description="an action declares a trained-algorithm "
                               "(generative AI) digital source type")
    ingredients: list[CredentialIngredient] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list, description="validation failures")
    remote_url: str | None = None


class TraceSignal(StrEnum):
    AI_GENERATED = "ai_generated"
    EDITED = "edited"
    CAPTURED = "captured"
    PROCESSED = "processed"
    INCONSISTENT = "inconsistent"
    NO_METADATA = "no_metadata"


class ProvenanceFinding(_Frozen):
    signal: TraceSignal
    title: str
    evidence: str = Field(description="where it was found and what it says")
    suggests: str
    does_not_prove: str


class MetadataField(_Frozen):
    source: str = Field(description="EXIF, XMP, IPTC, PNG text, container or a stream")
    name: str
    value: str = Field(description="as written in the file (long values shortened)")


class ProvenanceProblem(_Frozen):
    part: str = Field(description="the block that could not be read")
    message: str


class LinkSource(_Frozen):
    """Where media fetched from a link came from, as the site describes it (schema 1.6).
    What a site says about its uploads (uploader, date, title) is the site's claim, kept
    for the verification; it proves nothing about the media itself."""

    url: str = Field(description="the link as given")
    page_url: str | None = Field(None, description="the page of the video, as the site "
                                 "names it (after redirects)")
    site: str = Field(description="host name of the link")
    platform: str = Field(description="the site's name as yt-dlp knows it ('generic' for a "
                          "direct media link or a page with a video tag)")
    video_id: str | None = None
    title: str | None = None
    description: str | None = Field(None, description="as published (long ones shortened)")
    uploader: str | None = None
    channel: str | None = None
    upload_date: str | None = Field(None, description="YYYY-MM-DD, as the site states it")
    duration_s: float | None = None
    view_count: int | None = None
    like_count: int | None = None
    comment_count: int | None = None
    item: int = Field(1, description="which of the link's videos was analysed (1-based)")
    items: int | None = Field(None, description="how many videos the link holds, when "
                              "known (a playlist, a post with several clips)")
    entries: list[str] = Field(default_factory=list, description="the videos the link "
                               "holds, in order, by title (else their link), when the site "
                               "lists them; the first 50 (schema 1.7)")
    sha256: str = Field(description="of the downloaded file")
    size_bytes: int
    fetched_at: str
    note: str = Field(description="what downloading from a site changes, in plain words")


class Provenance(_Frozen):
    """Where the file says it comes from: content credentials and metadata traces. Kept
    apart from the detectors: it never changes the score or the verdict."""

    version: str = PROVENANCE_VERSION
    summary: str
    credentials: ContentCredentials
    findings: list[ProvenanceFinding] = Field(default_factory=list)
    metadata: list[MetadataField] = Field(default_factory=list)
    problems: list[ProvenanceProblem] = Field(
        default_factory=list, description="damaged or hostile blocks that were skipped")
    source: LinkSource | None = Field(None, description="the link the media was fetched "
                                      "from and what the site says about it (schema 1.6; "
                                      "null for files)")


class AudioStatus(StrEnum):
    ANALYSED = "analysed"
    NO_SPEECH = "no_speech"
    NO_AUDIO = "no_audio"
    UNREADABLE = "unreadable"


class AudioWindow(_Frozen):
    start_s: float
    end_s: float
    score: float = Field(description="probability that the voice in this window is cloned "
                         "or synthetic")


class SpeechSegment(_Frozen):
    start_s: float
    end_s: float
    score: float = Field(description="mean of its windows' scores")


class AudioAnalysis(_Frozen):
    """The voice check of an audio file or of a video's soundtrack (schema 1.5)."""

    status: AudioStatus = Field(description="analysed, no_speech, no_audio (no audio track) "
                                "or unreadable (a broken track: the rest of the analysis ran)")
    message: str = Field(description="the outcome in plain words")
    verdict: Verdict | None = Field(None, description="FAKE, UNCERTAIN or REAL (no sign "
                                    "found) for the voice; null when nothing was analysed")
    score: float | None = Field(None, description="probability that the speech is a cloned "
                                "or synthetic voice (robust mean over its windows)")
    threshold: float = 0.5
    uncertain_band: float = 0.1
    model: ModelInfo | None = None
    codec: str | None = None
    sample_rate: int | None = Field(None, description="of the track as stored")
    channels: int | None = None
    duration_s: float = Field(0.0, description="seconds of audio decoded")
    speech_s: float = Field(0.0, description="seconds of speech found")
    segments: list[SpeechSegment] = Field(default_factory=list)
    windows: list[AudioWindow] = Field(default_factory=list,
                                       description="scores over time (2 s windows)")
    warnings: list[str] = Field(default_factory=list)


class StageTimings(_Frozen):
    decode_s: float = 0.0
    detect_s: float = 0.0
    crop_s: float = 0.0
    model_s: float = 0.0
    provenance_s: float = 0.0
    audio_s: float = 0.0
    total_s: float = 0.0


class Analysis(BaseModel):
    """Everything fakelens found out about one file."""

    schema_version: str = SCHEMA_VERSION
    fakelens_version: str
    verdict: Verdict
    score: float | None = Field(description="probability that the media is fake; null if no face")
    threshold: float
    uncertain_band: float
    uncertain_from: float | None = Field(None, description="lower edge of the uncertain band "
                                         "when it reaches below threshold - uncertain_band "
                                         "(schema 1.4; null: threshold - uncertain_band)")
    reason: str = Field(description="plain-language summary derived from the numbers")
    caveats: list[str] = Field(default_factory=list, description="what to know before trusting "
                               "the verdict: measured accuracy of the deciding detector, the "
                               "uncertain band, each detector's score, known failure cases")
    media: MediaInfo
    tracks: list[Track]
    models: list[ModelInfo]
    face_detector: str
    frames_sampled: int
    sampling: str
    warnings: list[str] = Field(default_factory=list)
    provenance: Provenance | None = Field(None, description="content credentials and metadata "
                                          "traces (null in results before schema 1.1)")
    audio: AudioAnalysis | None = Field(None, description="the voice check (schema 1.5; null "
                                        "for stills and in older results)")
    timings: StageTimings
    created_at: str

    @property
    def band(self) -> ScoreBand:
        return ScoreBand.around(self.threshold, self.uncertain_band, self.uncertain_from)

    def to_json(self, **kwargs) -> str:
        return self.model_dump_json(**kwargs)
