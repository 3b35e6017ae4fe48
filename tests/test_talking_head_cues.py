"""The training-free talking-head cues (benchmarks/talking_head_cues.py, cue test 36): each
is signed so that higher is more suspicious, and reads only the crop's central half."""

from __future__ import annotations

import numpy as np
import pytest
from scriptmodules import loaded_script


@pytest.fixture(scope="module")
def cues():
    with loaded_script("benchmarks/talking_head_cues.py") as module:
        yield module


def _clip(rng, noise: float, frames: int = 6) -> np.ndarray:
    base = np.full((frames, 64, 64, 3), 128.0)
    return np.clip(base + rng.normal(0, noise, base.shape), 0, 255).astype(np.uint8)


def test_a_smooth_still_face_is_more_suspicious_than_a_grainy_moving_one(cues):
    rng = np.random.default_rng(0)
    still = np.tile(rng.normal(size=(1, 16)), (6, 1))
    moving = rng.normal(size=(6, 16))
    smooth = cues.clip_cues(_clip(rng, 1.0), still)
    grainy = cues.clip_cues(_clip(rng, 12.0), moving)
    for name in ("texture", "noise", "drift"):
        assert smooth[name] > grainy[name], name
    assert smooth["drift"] == pytest.approx(0.0)


def test_the_border_is_never_read(cues):
    rng = np.random.default_rng(1)
    crops = _clip(rng, 4.0)
    matted = crops.copy()
    matted[:, :16] = 255  # a white matte round the face, as on the ROME grid
    matted[:, :, :16] = 255
    embeddings = rng.normal(size=(6, 16))
    assert cues.clip_cues(matted, embeddings) == cues.clip_cues(crops, embeddings)


def test_colour_moves_with_the_light(cues):
    rng = np.random.default_rng(2)
    crops = _clip(rng, 2.0)
    lit = crops.astype(np.int16)
    lit += np.arange(6, dtype=np.int16)[:, None, None, None] * 10
    embeddings = rng.normal(size=(6, 16))
    assert (cues.clip_cues(crops, embeddings)["colour"]
            > cues.clip_cues(np.clip(lit, 0, 255).astype(np.uint8), embeddings)["colour"])
