"""Shared fixtures.

Real data: ``FAKELENS_SAMPLES`` points at a folder laid out like ``../shared/data``.
When it is set the data must be there (tests fail loudly); when unset, real-data tests
are skipped with a reason. ``FAKELENS_MODEL_DIR`` must hold the YuNet face detector.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _samples_root() -> Path | None:
    raw = os.environ.get("FAKELENS_SAMPLES")
    return Path(raw) if raw else None


@pytest.fixture(scope="session")
def samples() -> Path:
    root = _samples_root()
    if root is None:
        pytest.skip("FAKELENS_SAMPLES is not set (point it at ../shared/data)")
    if not (root / "videos" / "labels.csv").is_file():
        pytest.fail(f"FAKELENS_SAMPLES={root} is set but holds no videos/labels.csv")
    return root


@pytest.fixture(scope="session")
def videos(samples: Path) -> Path:
    return samples / "videos"


@pytest.fixture(scope="session")
def model_dir() -> Path:
    raw = os.environ.get("FAKELENS_MODEL_DIR")
    if not raw:
        pytest.skip("FAKELENS_MODEL_DIR is not set (point it at ../shared/models)")
    path = Path(raw)
    if not (path / "yunet" / "yunet_n_dynamic.onnx").is_file():
        pytest.fail(f"FAKELENS_MODEL_DIR={path} holds no yunet/yunet_n_dynamic.onnx")
    return path


@pytest.fixture(scope="session")
def face_image(samples: Path) -> Path:
    return samples / "faces-real" / "100_0_0_20170112213500903.jpg.chip.jpg"


@pytest.fixture(scope="session")
def tiny_weights_dir(tmp_path_factory) -> Path:
    """An untrained detector exported exactly like the shipped ones (torch needed): for
    plumbing tests that must not depend on what training achieved."""
    pytest.importorskip("torch")
    from detectors import export_untrained

    return export_untrained(tmp_path_factory.mktemp("tiny-weights"), "tiny-test",
                            input_size=64, pretrained=False)


@pytest.fixture
def tiny_detector(tiny_weights_dir: Path, monkeypatch) -> str:
    monkeypatch.setenv("FAKELENS_WEIGHTS_DIR", str(tiny_weights_dir))
    return "tiny-test"
