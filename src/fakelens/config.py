"""Settings, validated from ``FAKELENS_*`` environment variables (built by a factory)."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field, FilePath
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_model_dir() -> Path:
    return Path(platformdirs.user_cache_dir("fakelens")) / "models"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FAKELENS_", extra="ignore")

    model_dir: Path = Field(default_factory=_default_model_dir,
                            description="where downloaded model files (face detector) live")
    allow_download: bool = Field(True, description="fetch missing model files from known URLs")
    face_model: str = Field("yunet_n_dynamic", description="face detector file in the store")
    face_fallback: bool = Field(
        False, description="when no face detector can be had, analyse the centre of each "
                           "frame as one face instead of refusing (ModelMissing, exit 4); the "
                           "result then says it was made without a face detector")
    detect_max_side: int = Field(640, ge=128, le=4096,
                                 description="frames are scaled to this long side for detection")
    face_score_threshold: float = Field(0.7, gt=0, lt=1)
    min_face_px: int = Field(40, ge=8, description="faces smaller than this (box side) are skipped")
    max_faces_per_frame: int = Field(8, ge=1)
    intra_op_threads: int = Field(0, ge=0, description="ONNX Runtime threads (0: all cores)")
    c2pa_trust_anchors: FilePath | None = Field(
        None, description="PEM file of root certificates whose content-credential signers "
                          "count as trusted (default: none is)")

    fetch_allow_private: bool = Field(
        False, description="links (`detect URL`, the web app's link box) may be fetched from "
                           "private, loopback and link-local addresses (tests, intranets); "
                           "cloud metadata addresses stay refused")
    fetch_max_mb: float = Field(500, gt=0, description="largest media a link may bring")
    fetch_max_minutes: float = Field(30, gt=0, description="longest video a link may bring")
    fetch_timeout_s: float = Field(600, gt=0, description="the whole fetch of a link, "
                                   "pages and media together")
    fetch_socket_timeout_s: float = Field(20, gt=0, description="a site silent this long "
                                          "ends the fetch")
    fetch_max_redirects: int = Field(5, ge=0, le=20, description="redirects followed per "
                                     "request of a link")


def get_settings(**overrides) -> Settings:
    return Settings(**overrides)
