"""Pseudo-fakes: deterministic for a seed, and the blend really covers the face."""

import numpy as np
import pytest

from fakelens.training import synth


@pytest.fixture(scope="module")
def face():
    """A synthetic 'face': textured image with an elliptical landmark ring."""
    rng = np.random.default_rng(0)
    img = (rng.random((128, 128, 3)) * 60 + 100).astype(np.uint8)
    t = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    ring = np.stack([64 + 30 * np.cos(t), 70 + 40 * np.sin(t)], 1).astype(np.float32)
    return img, ring


def test_self_blend_is_deterministic_for_a_seed(face):
    img, lm = face
    a, ma = synth.self_blend(img, lm, np.random.default_rng(7))
    b, mb = synth.self_blend(img, lm, np.random.default_rng(7))
    c, _ = synth.self_blend(img, lm, np.random.default_rng(8))
    assert np.array_equal(a, b) and np.array_equal(ma, mb)
    assert not np.array_equal(a, c)


def test_mask_covers_the_face_and_not_the_background(face):
    img, lm = face
    hull = synth.hull_mask(lm, img.shape[:2]) > 0
    for seed in range(10):
        fake, mask = synth.self_blend(img, lm, np.random.default_rng(seed))
        assert mask.shape == img.shape[:2]
        shape = mask / mask.max()  # the blend ratio scales the whole mask
        assert shape[hull].mean() > 0.45 and shape[hull].mean() > 3 * shape[~hull].mean()
        assert mask[:5, :5].max() < 0.05  # corners untouched
        assert fake.shape == img.shape and fake.dtype == np.uint8


def test_cross_blend_brings_the_donor_inside_the_mask(face):
    img, lm = face
    donor = np.full_like(img, 20)
    fake, mask = synth.cross_blend(img, lm, donor, lm, np.random.default_rng(1))
    changed = np.abs(fake.astype(int) - img.astype(int)).sum(-1) > 30
    hull = synth.hull_mask(lm, img.shape[:2]) > 0
    assert changed[hull].mean() > 0.3
    assert changed[~hull].mean() < 0.2


def test_temporal_blend_shares_parameters_across_frames(face):
    img, lm = face
    frames = [img, np.roll(img, 2, axis=1), np.roll(img, 4, axis=1)]
    lms = [lm, lm + [2, 0], lm + [4, 0]]
    fakes, masks = synth.temporal_self_blend(frames, lms, np.random.default_rng(3))
    assert len(fakes) == 3
    # same deformation, shifted with the face: masks agree after undoing the motion
    assert np.abs(np.roll(masks[0], 2, axis=1)[:, 10:-10] - masks[1][:, 10:-10]).mean() < 0.06
    ratios = [m.max() for m in masks]
    assert max(ratios) - min(ratios) < 0.07


def test_degrade_keeps_shape_and_is_seeded(face):
    img, _ = face
    d = synth.Degradation(jpeg_quality=40, scale=0.5, noise_sigma=2.0)
    a = synth.degrade(img, d, np.random.default_rng(0))
    b = synth.degrade(img, d, np.random.default_rng(0))
    assert a.shape == img.shape and a.dtype == np.uint8 and np.array_equal(a, b)
    assert not np.array_equal(a, img)


def test_mild_degradation_is_milder_than_heavy():
    from fakelens.training.synth import random_degradation

    rng = np.random.default_rng(0)
    mild = [random_degradation(rng, "mild") for _ in range(500)]
    heavy = [random_degradation(rng, "heavy") for _ in range(500)]
    assert min(d.jpeg_quality for d in mild if d.jpeg_quality) >= 65
    assert min(d.scale for d in mild if d.scale) >= 0.6
    assert min(d.jpeg_quality for d in heavy if d.jpeg_quality) < 40
    assert sum(d.jpeg_quality is not None for d in mild) < sum(
        d.jpeg_quality is not None for d in heavy)


def test_video_recipe_swaps_part_of_the_jpeg_for_h264():
    rng = np.random.default_rng(0)
    video = [synth.random_degradation(rng, "video") for _ in range(500)]
    h264 = [d for d in video if d.h264_qp is not None]
    assert all(d.jpeg_quality is None for d in h264)  # one codec per item
    assert 100 < len(h264) < 250 and {d.h264_qp for d in h264} <= set(range(24, 46))
    assert sum(d.jpeg_quality is not None for d in video) > 100


def test_h264_round_trip_loses_more_at_a_higher_quantiser(face):
    img, _ = face
    odd = np.ascontiguousarray(img[:127, :125])  # x264 wants even sides: the edge is kept
    errors = []
    for qp in (24, 45):
        out = synth.h264_round_trip(odd, qp)
        assert out.shape == odd.shape and out.dtype == np.uint8
        assert np.array_equal(out[-1], odd[-1]) and np.array_equal(out[:, -1], odd[:, -1])
        errors.append(np.abs(out.astype(int) - odd).mean())
    assert 0 < errors[0] < errors[1]
    d = synth.Degradation(jpeg_quality=None, scale=None, noise_sigma=0.0, h264_qp=40)
    assert np.array_equal(synth.degrade(img, d, np.random.default_rng(0)),
                          synth.h264_round_trip(img, 40))  # deterministic, rng unused
