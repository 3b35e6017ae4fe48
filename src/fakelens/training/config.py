"""Training configurations, validated from YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fakelens.errors import ConfigError
from fakelens.faces.regions import Region


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


DegradationRecipe = Literal["heavy", "mild", "video"]


class SBIData(_Strict):
    kind: Literal["sbi"] = "sbi"
    face_caches: list[Path] = Field(description="face caches of real faces (preprocess output)")
    cache_weights: list[float] | None = Field(None, description="sampling weight per cache")
    cross_blend_prob: float = Field(0.3, ge=0, le=1)
    val_fraction: float = Field(0.05, gt=0, lt=0.5)
    degradation: DegradationRecipe = Field(
        "heavy", description="compression/resize recipe applied alike to reals and fakes "
        "(training.synth.random_degradation)")


class MixedData(_Strict):
    """Aligned real/fake pairs of real manipulations mixed with pseudo-fakes of real faces;
    checkpoints are selected on held-out real clips and real fakes (video-level AUC)."""

    kind: Literal["mixed"] = "mixed"
    face_caches: list[Path] = Field(description="real faces (stills and video frames): "
                                    "self-blends, cross-blends, self-reenactments")
    cache_weights: list[float] | None = Field(None, description="sampling weight per cache")
    pair_caches: list[Path] = Field(default_factory=list,
                                    description="preprocess --pairs caches (training role)")
    pair_share: float = Field(0.35, ge=0, le=1, description="share of items from pair caches")
    fake_caches: list[Path] = Field(default_factory=list, description="labelled caches "
                                    "(preprocess without --pairs, training role): their FAKE "
                                    "faces are unpaired fakes (no aligned original)")
    fake_share: float = Field(0.0, ge=0, le=1, description="share of items made of a real "
                              "face of face_caches and an unpaired fake of fake_caches, both "
                              "given the same degradation; their fake leaves the map loss out")
    fake_balance: Literal["face", "method"] = Field(
        "face", description="how an unpaired fake is drawn: any fake face alike, or a "
        "generator first (the caches' method column), then one of its faces, so that each "
        "generator counts alike however many frames it has")
    own_original_prob: float = Field(
        0.0, ge=0, le=1, description="share of unpaired items whose real face is one of the "
        "fake's own group (the clip it was made from: a demo's input, a swap's target) when "
        "that group has real faces among face_caches, so that a demo's source style never "
        "tells a fake; the rest draw any real face by cache weight")
    holdout_groups: list[str] = Field(default_factory=list, description="groups left out "
                                      "of every training cache (a rotation fold's held-out "
                                      "generators with the clips they were made from)")
    cross_blend_prob: float = Field(0.25, ge=0, le=1)
    reenact_prob: float = Field(0.15, ge=0, le=1, description="for faces of video tracks")
    degradation: DegradationRecipe = "heavy"
    smooth_prob: float = Field(0.0, ge=0, le=1, description="share of items whose two faces "
                               "get the same beauty-filter smoothing")
    real_soften_prob: float = Field(0.0, ge=0, le=1, description="share of items whose real "
                                    "face alone is down- and up-scaled (a soft, low-resolution "
                                    "face must not read as fake; the blend's local seams must)")
    val_pair_caches: list[Path] = Field(description="pair caches of the validation role")
    val_real_caches: list[Path] = Field(default_factory=list,
                                        description="real clips of the validation role")
    val_caches: list[Path] = Field(default_factory=list, description="labelled caches of "
                                   "the validation role (real and unpaired fake clips; a "
                                   "clip is a group's faces of one label)")
    val_frames_per_clip: int = Field(16, ge=1)

    @model_validator(mode="after")
    def _own_originals_need_unpaired_fakes(self) -> MixedData:
        if self.own_original_prob and not (self.fake_share and self.fake_caches):
            raise ValueError("own_original_prob picks the real face beside an unpaired fake: "
                             "give fake_caches and a fake_share")
        return self


class ImageFolderData(_Strict):
    kind: Literal["images"] = "images"
    face_caches: list[Path] = Field(description="face caches with real (0) and fake (1) labels")
    val_fraction: float = Field(0.2, gt=0, lt=0.5)


class TemporalData(_Strict):
    """The temporal head over a frozen frame encoder, on windows of face tracks.

    Without clip-level validation caches: tracks of ``face_caches`` (each group one track)
    and stills, against temporally consistent self-blends (the first temporal stage).
    With them (``val_real_caches`` / ``val_caches``): each clip of a cache (a preprocess
    shard of ``--shard-size 1``) is a track; the real side is the REAL tracks of
    ``face_caches``, the fake side the FAKE tracks of ``fake_caches`` (real generated clips,
    beside a real window with the same degradation), lip-sync-like reenactments of the real
    tracks (``reenact_prob``: each frame's lower face from a time-shifted or shuffled frame
    of its own track) and temporal self-blends; validation scores each held-out clip whole.
    """

    kind: Literal["temporal"] = "temporal"
    face_caches: list[Path] = Field(description="caches whose groups are face tracks in order")
    still_caches: list[Path] = Field(default_factory=list,
                                     description="stills turned into jittered pseudo-tracks")
    sequence_length: int = Field(8, ge=2)
    cache_weights: list[float] | None = Field(None, description="sampling weight per "
                                              "cache of face_caches (clip tracks)")
    fake_caches: list[Path] = Field(default_factory=list, description="labelled caches "
                                    "(training role) whose FAKE clips are tracks of real "
                                    "generated clips")
    fake_share: float = Field(0.0, ge=0, le=1, description="share of items whose fake is a "
                              "window of a generated clip of fake_caches")
    reenact_prob: float = Field(0.0, ge=0, le=1, description="share of the other items whose "
                                "fake is a lip-sync-like reenactment of the real window "
                                "(the rest: temporal self-blends)")
    clip_frames: int | None = Field(None, ge=2, description="frames analysis samples over a "
                                    "clip: a window steps through a track of n cached frames "
                                    "every round(n / clip_frames) frames, so its spacing is "
                                    "the one the temporal head meets at analysis (None: "
                                    "consecutive cached frames)")
    degradation: DegradationRecipe = Field("heavy", description="one compression/resize per "
                                           "window, the same for every frame of both sides")
    val_real_caches: list[Path] = Field(default_factory=list,
                                        description="real clips of the validation role")
    val_caches: list[Path] = Field(default_factory=list, description="labelled caches of "
                                   "the validation role (real and fake clips)")

    @property
    def clip_level(self) -> bool:
        return bool(self.val_real_caches or self.val_caches)

    @model_validator(mode="after")
    def _clip_level_options(self) -> TemporalData:
        if not self.clip_level and (self.fake_caches or self.reenact_prob or
                                    self.clip_frames or self.fake_share):
            raise ValueError("fake_caches, fake_share, reenact_prob and clip_frames are for "
                             "clip tracks: give the validation role's clips (val_real_caches "
                             "or val_caches)")
        if self.cache_weights is not None and (
                not self.clip_level or len(self.cache_weights) != len(self.face_caches)):
            raise ValueError("cache_weights: one weight per face cache, for clip tracks")
        if self.fake_share and not self.fake_caches:
            raise ValueError("fake_share needs fake_caches")
        return self


class TrainConfig(_Strict):
    name: str = Field(description="name of the trained model (file names, registry)")
    architecture: str
    pretrained: bool = True
    data: SBIData | MixedData | ImageFolderData | TemporalData = Field(discriminator="kind")
    init_from: Path | None = Field(None, description="checkpoint to start from (temporal stage)")
    input_size: int = Field(160, ge=32)
    crop_scale: float = Field(1.0, gt=0.5, le=3.0)
    region: Region = Field("face", description="the part of each face crop the model sees "
                           "(faces/regions.py), cut after the pseudo-fakes are made and "
                           "before augmentation; the exported config carries it, so analysis "
                           "cuts the same pixels")
    region_source_size: int | None = Field(None, ge=32, description="side of the face "
                                           "caches' crops (every cache of a region run must "
                                           "have it): analysis cuts the region from a face "
                                           "crop of this size")
    batch_size: int = Field(32, ge=1, description="pairs (sbi) or items per step")
    lr: float = Field(2e-4, gt=0)
    backbone_lr_scale: float = Field(1.0, gt=0, le=1, description="the pretrained trunk "
                                     "learns at lr x this; the heads at lr (keeps more of the "
                                     "ImageNet features on small training sets)")
    weight_decay: float = Field(1e-4, ge=0)
    max_steps: int = Field(1500, ge=1)
    max_minutes: float = Field(60.0, gt=0)
    warmup_steps: int = Field(50, ge=0)
    schedule: Literal["steps", "time"] = Field(
        "steps", description="cosine decay over max_steps, or over max_minutes (a fixed "
        "time budget: the rate reaches its floor when the time is up)")
    blend_loss_weight: float = Field(0.0, ge=0, description="auxiliary where-blended map "
                                     "loss (architectures with a blend head)")
    flip_average: bool = Field(False, description="score each crop and its mirror image and "
                               "average them (baked into the exported graph; calibration "
                               "sees the same scores)")
    ema_decay: float = Field(0.0, ge=0, lt=1, description="evaluate, select and ship an "
                             "exponential moving average of the weights (0: off)")
    stop_at_step: int | None = Field(None, ge=1, description="end the run after this step "
                                     "(evaluated and checkpointed) without changing the "
                                     "schedule: a checkpoint of a longer run, chosen in advance")
    eval_every: int = Field(100, ge=1)
    patience: int = Field(6, ge=1, description="evaluations without improvement before stop")
    checkpoint_every: int = Field(50, ge=1)
    seed: int = 0
    workers: int = Field(1, ge=0)
    threads: int = Field(2, ge=1)
    version: str = "1"

    @model_validator(mode="after")
    def _region(self) -> TrainConfig:
        if self.region == "face":
            if self.region_source_size is not None:
                raise ValueError("region_source_size is for a face region; region is face")
            return self
        if self.region_source_size is None:
            raise ValueError(f"region {self.region!r} needs region_source_size (the side of "
                             "the face caches' crops, e.g. 224)")
        if self.data.kind == "temporal" and not self.data.clip_level:
            raise ValueError("a face region's temporal stage cuts the region from clip "
                             "tracks: give the validation role's clips (val_real_caches or "
                             "val_caches)")
        return self


def _merged(base: dict, override: dict) -> dict:
    """``override`` on top of ``base``; nested mappings merge key by key, lists replace."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            value = _merged(out[key], value)
        out[key] = value
    return out


def _read(path: Path, chain: tuple[Path, ...] = ()) -> dict:
    path = Path(path)
    if path.resolve() in chain:
        raise ConfigError(f"{path.name}: `base` chain loops back on itself")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read training config {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path.name}: a training config is a YAML mapping")
    base = raw.pop("base", None)
    if base is None:
        return raw
    if not isinstance(base, str):
        raise ConfigError(f"{path.name}: `base` names one config file")
    return _merged(_read(path.parent / base, (*chain, path.resolve())), raw)


def _rebased(raw: dict, path: Path) -> dict:
    """``cache_root: runs/cache160-crop1.3`` reads every cache the data section names from
    that folder instead, under the same name: one line moves a recipe onto caches cut at
    another crop scale or size (lists replace when configs merge, so without it each
    derived config would write every list out again)."""
    root = raw.pop("cache_root", None)
    if root is None:
        return raw
    data = raw.get("data")
    if not isinstance(root, str) or not isinstance(data, dict):
        raise ConfigError(f"{path.name}: `cache_root` names one folder and needs a data section")
    rebased = {key: [str(Path(root) / Path(str(cache)).name) for cache in value]
               if key.endswith("_caches") and isinstance(value, list) else value
               for key, value in data.items()}
    return {**raw, "data": rebased}


def load_config(path: Path) -> TrainConfig:
    """Validate a YAML config. ``base: other.yaml`` (a path relative to the file) starts from
    that config and overrides what this one sets, so a run's file shows only what changed;
    ``cache_root`` (applied after the merge) moves every cache into one folder."""
    try:
        return TrainConfig.model_validate(_rebased(_read(Path(path)), Path(path)))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}"
                             for e in exc.errors())
        raise ConfigError(f"{Path(path).name} is not a valid training config: {problems}") \
            from exc
