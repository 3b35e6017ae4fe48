"""The distance from real faces (benchmarks/real_face_distance.py, cue test 39): the shrunk
covariance, both distances, and that a clip is never measured against its own group."""

from __future__ import annotations

import numpy as np
import pytest
from scriptmodules import loaded_script


@pytest.fixture(scope="module")
def distance():
    with loaded_script("benchmarks/real_face_distance.py") as module:
        yield module


def test_shrinkage_is_light_with_many_frames_and_heavy_with_few(distance):
    rng = np.random.default_rng(0)
    scales = np.linspace(0.5, 3.0, 8)
    many = rng.normal(size=(20000, 8)) * scales
    _, precision = distance.shrunk_precision(many)
    np.testing.assert_allclose(np.diag(np.linalg.inv(precision)), scales ** 2, rtol=0.05)
    few = rng.normal(size=(5, 64))
    _, precision = distance.shrunk_precision(few)
    assert np.linalg.cond(precision) < 50  # invertible, pulled towards a scaled identity


def test_a_clip_far_from_the_reals_is_farther_by_both_distances(distance):
    rng = np.random.default_rng(1)
    reals = [rng.normal(size=(16, 12)) + 5.0 for _ in range(6)]
    near = rng.normal(size=(16, 12)) + 5.0
    far = rng.normal(size=(16, 12)) + 5.0
    far[:, :3] += 4.0
    keys = [("videos-real", f"g{i}") for i in range(6)] + [("t", "near"), ("t", "far")]
    found = distance.clip_distances(keys, [*reals, near, far], [True] * 6 + [False, False])
    for name in distance.DISTANCES:
        assert found[7][name] > found[6][name], name


def test_a_clip_is_never_measured_against_its_own_group(distance):
    rng = np.random.default_rng(2)
    others = [rng.normal(size=(16, 12)) for _ in range(5)]
    odd = rng.normal(size=(16, 12)) + 3.0
    keys = [("videos-real", f"g{i}") for i in range(5)] + [("videos-real", "odd")]
    clips = [*others, odd]
    kept = distance.clip_distances(keys, clips, [True] * 6)
    alone = distance.clip_distances(keys, clips, [True] * 5 + [False])
    # Whether or not the odd clip is in the reference, it is measured against the others only.
    assert kept[5] == pytest.approx(alone[5])
    assert kept[5]["knn"] > 0.05


def test_the_border_is_never_read(distance):
    crops = np.zeros((2, 64, 64, 3), np.uint8)
    crops[:, 16:48, 16:48] = 77
    matted = crops.copy()
    matted[:, :16] = 255
    assert np.array_equal(distance.central_half(matted), distance.central_half(crops))
    assert distance.central_half(crops).shape == (2, 32, 32, 3)
