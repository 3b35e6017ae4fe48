"""Pretrained configs: everything needed to use a set of weights correctly.

A config travels with its ONNX file (``<name>.json`` beside ``<name>.onnx``) and carries
the preprocessing (crop geometry, input size, mean/std, colour order), the labels, the
decision threshold, the temperature found by calibration, the sha256 of each graph, and
the measured accuracy from the model card.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fakelens.faces.regions import Region

MediaKind = Literal["video", "image"]

# how a media kind is named in a sentence ("no measured accuracy on still photos")
MEDIA_WORDS = {"video": "videos", "image": "still photos"}


class MeasuredAccuracy(BaseModel):
    """A model card's measured accuracy on one kind of media, as a reader is shown it."""

    model_config = ConfigDict(frozen=True)

    media: str  # the kind of media analysed: video or image
    figures: dict[str, str] = {}  # label -> figure with its interval; empty: none measured
    stated: bool = True  # False: an older card that does not say which media it measured
    scored: bool = True  # False: the detector does not score this kind of media at all

    @property
    def media_words(self) -> str:
        return MEDIA_WORDS.get(self.media, self.media + "s")

    @property
    def missing(self) -> str:
        """The sentence shown instead of figures when the card has none for this media."""
        if not self.scored:
            return (f"Not measured on {self.media_words}: this detector does not score "
                    f"{self.media_words}.")
        return f"No measured accuracy on {self.media_words} for this detector."

    @property
    def unstated(self) -> str:
        return ("The model card does not say which kind of media these figures were "
                "measured on.")

    @property
    def heading(self) -> str:
        return f"On {self.media_words}" if self.stated else "On media the card does not name"

    def lines(self) -> list[str]:
        """The figures as plain lines under their heading (``fakelens models list``)."""
        if not self.figures:
            return [self.missing]
        return [f"{self.heading}:"] + [f"  {k}: {v}" for k, v in self.figures.items()]


class MeasuredBlindSpots(BaseModel):
    """What a model card says its detector often misses, for one kind of media analysed:
    the kinds of manipulation with what was measured on them, and the media they were
    measured on (a photo may only have blind spots measured on video)."""

    model_config = ConfigDict(frozen=True)

    media: str  # the kind of media analysed: video or image
    spots: dict[str, str] = {}  # kind of manipulation -> what was measured on it
    measured_on: str | None = None  # the kind they were measured on; None: not stated

    @property
    def heading(self) -> str:
        """"On videos", "On still photos" (the kind measured on), or that it is not named."""
        if self.measured_on is None:
            return "On media the card does not name"
        return f"On {MEDIA_WORDS.get(self.measured_on, self.measured_on)}"

    @property
    def note(self) -> str:
        """In words, when the blind spots were not measured on the kind analysed."""
        if not self.spots or self.measured_on == self.media:
            return ""
        here = MEDIA_WORDS.get(self.media, self.media + "s")
        if self.measured_on is None:
            return "The model card does not say which kind of media this was measured on."
        return (f"Measured on {MEDIA_WORDS.get(self.measured_on, self.measured_on)}: this "
                f"detector's blind spots were not measured on {here}.")


class PretrainedConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    version: str
    architecture: str
    task: Literal["face-swap", "synthetic-face", "lip-sync"]
    description: str
    input_size: int
    crop_scale: float = Field(description="crop side = crop_scale * longer side of the face box")
    region: Region = Field("face", description="the part of the face crop the detector looks "
                           "at (faces/regions.py): the whole face, or the mouth and lower "
                           "face of a lip-sync / talking-head detector")
    region_source_size: int | None = Field(
        None, ge=32, description="side of the face crop the region is cut from (the size of "
        "the face caches it was trained on), then resized to input_size; only with a region "
        "other than the whole face")
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    colour_order: Literal["RGB", "BGR"] = "RGB"
    labels: tuple[str, str] = ("real", "fake")
    temperature: float = Field(1.0, gt=0, description="frame logits are divided by this")
    logit_offset: float = Field(0.0, description="subtracted from frame logits before the "
                                "temperature: probability = sigmoid((logit - offset) / T)")
    temporal_temperature: float = Field(1.0, gt=0, description="same, for the track logit")
    temporal_offset: float = Field(0.0, description="subtracted from the track logit before "
                                   "its temperature (calibrated on real clips like the frame "
                                   "head's offset)")
    threshold: float = Field(0.5, gt=0, lt=1)
    uncertain_from: float | None = Field(
        None, gt=0, lt=1, description="lower edge of the uncertain band when it reaches "
        "further below the threshold than the band's half-width: calibrated so that the "
        "fakes this detector misses most often are called Uncertain, not 'no sign'")
    frame_graph: str = Field(description="ONNX file: crops -> logits, embeddings, cam")
    heatmap: Literal["class-activation", "blend-map"] = Field(
        "class-activation", description="what the graph's cam output is: a class activation "
        "map (per-cell logit contribution) or a where-blended map (per-cell logit)")
    frame_sha256: str
    temporal_graph: str | None = Field(None, description="ONNX file: embeddings -> track logit")
    temporal_sha256: str | None = None
    applies_to: tuple[str, ...] = Field(("video", "image"), description="media kinds scored")
    metrics: dict[str, str] = Field(
        default_factory=dict, description="from the model card, without saying which kind of "
        "media they were measured on (older cards; a detector that scores one kind only "
        "measured them on that kind): new cards use metrics_by_media")
    metrics_by_media: dict[MediaKind, dict[str, str]] = Field(
        default_factory=dict, description="from the model card: measured accuracy per kind "
        "of media (video, image); a result shows the figures of the kind it analysed, and "
        "says so in words where the card has none for it")
    missed: dict[str, str] = Field(
        default_factory=dict, description="from the model card: kinds of manipulation this "
        "detector often misses -> what was measured on them (shown beside every verdict "
        "that is not Likely manipulated); older cards, without saying which kind of media "
        "it was measured on: new cards use missed_by_media")
    missed_by_media: dict[MediaKind, dict[str, str]] = Field(
        default_factory=dict, description="from the model card: what this detector mostly "
        "misses per kind of media it was measured on (video, image); a result shows the "
        "blind spots of the kind it analysed, or another kind's with the words that they "
        "were measured on that kind")
    false_alarms_by_media: dict[MediaKind, dict[str, str]] = Field(
        default_factory=dict, description="from the model card: kinds of REAL media this "
        "detector is known to call manipulated, per kind of media measured on -> what was "
        "measured (shown beside a Likely manipulated or Uncertain verdict it pushed up)")
    training: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _region_geometry(self) -> PretrainedConfig:
        if self.region == "face" and self.region_source_size is not None:
            raise ValueError("region_source_size is for a detector of a face region; this "
                             "one looks at the whole face (region: face)")
        if self.region != "face" and self.region_source_size is None:
            raise ValueError(f"region {self.region!r} needs region_source_size: the side of "
                             "the face crop the region is cut from (its training caches' size)")
        return self

    @model_validator(mode="after")
    def _per_media_fields(self) -> PretrainedConfig:
        """Each per-media field names only kinds this detector scores, none of them empty,
        and is not given beside the older single list it replaces."""
        for field, older, what in (("metrics_by_media", "metrics", "measured accuracy"),
                                   ("missed_by_media", "missed", "blind spots"),
                                   ("false_alarms_by_media", None, "false alarms")):
            if older and getattr(self, older) and getattr(self, field):
                raise ValueError(f"a model card gives its {what} either per kind of media "
                                 f"({field}) or as one list ({older}), not both")
            for kind, entries in getattr(self, field).items():
                if kind not in self.applies_to:
                    raise ValueError(f"{field} has {what} on {MEDIA_WORDS[kind]}, which this "
                                     f"detector does not score (applies_to: "
                                     f"{', '.join(self.applies_to)})")
                if not entries:
                    raise ValueError(f"{field}[{kind!r}] is empty: leave the kind out when "
                                     "nothing was measured on it")
        return self

    def blind_spots_on(self, media: str) -> MeasuredBlindSpots:
        """What this detector often misses, to show beside a result of ``media`` (video
        or image): the blind spots measured on that kind; else those of the kind the card
        has (videos first), saying so; an older card's one list (``missed``) is of the kind
        it scores, or of media it does not name."""
        if self.missed_by_media:
            kind = media if media in self.missed_by_media else next(
                k for k in MEDIA_WORDS if k in self.missed_by_media)
            return MeasuredBlindSpots(media=media, spots=dict(self.missed_by_media[kind]),
                                      measured_on=kind)
        single = self.applies_to[0] if len(self.applies_to) == 1 else None
        return MeasuredBlindSpots(media=media, spots=dict(self.missed), measured_on=single)

    def blind_spots_by_media(self) -> list[MeasuredBlindSpots]:
        """The card's blind spots per kind of media they were measured on (videos, then
        still photos; /about, ``fakelens models list``); an older card's list once."""
        if not self.missed_by_media:
            return [self.blind_spots_on(self.applies_to[0])] if self.missed else []
        return [self.blind_spots_on(kind) for kind in MEDIA_WORDS
                if kind in self.missed_by_media]

    def accuracy_on(self, media: str) -> MeasuredAccuracy:
        """The measured accuracy to show beside a result of this kind of media (video or
        image): never the figures of the other kind."""
        if media not in self.applies_to:
            return MeasuredAccuracy(media=media, scored=False)
        if self.metrics_by_media:
            return MeasuredAccuracy(media=media, figures=dict(self.metrics_by_media.get(media,
                                                                                        {})))
        # an older card: its figures are of the one kind it scores, or of unstated media
        return MeasuredAccuracy(media=media, figures=dict(self.metrics),
                                stated=len(self.applies_to) == 1 or not self.metrics)

    def accuracy_by_media(self) -> list[MeasuredAccuracy]:
        """The card's figures for each kind of media (videos, then still photos), the
        kinds without any included (``fakelens models list``, /about); an older card whose
        figures name no media gives them once."""
        if self.metrics and len(self.applies_to) > 1:
            return [self.accuracy_on(self.applies_to[0])]
        return [self.accuracy_on(kind) for kind in MEDIA_WORDS]

    @property
    def heatmap_temperature(self) -> float:
        """A class activation map shares the frame logit's scale; a where-blended map has
        its own, trained on masks."""
        return self.temperature if self.heatmap == "class-activation" else 1.0

    @classmethod
    def load(cls, path: Path) -> PretrainedConfig:
        return cls.model_validate_json(Path(path).read_text())
