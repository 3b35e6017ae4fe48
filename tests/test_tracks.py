"""The temporal stage on clip tracks (training/tracks.py): tracks of clip caches, windows at
analysis's spacing, lip-sync-like reenactments of real tracks, generated clips as fakes,
whole clips for validation; a region's track is the same pixels in training and analysis."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fakelens.errors import ConfigError
from fakelens.training.config import TrainConfig, load_config

torch = pytest.importorskip("torch")

from fakelens.training import synth  # noqa: E402
from fakelens.training.data import model_input  # noqa: E402
from fakelens.training.tracks import (  # noqa: E402
    ClipTracks,
    TrackPairs,
    clip_input,
    clip_validation,
    donor_indices,
    load_cached_clips,
    load_tracks,
    window_indices,
)


def _mesh(n: int, side: int = 224, seed: int = 0) -> np.ndarray:
    """Face-mesh-like points: a cloud over the face, the nose tip (index 1) in its middle."""
    rng = np.random.default_rng(seed)
    pts = np.stack([rng.uniform(0.25, 0.75, 468), rng.uniform(0.2, 0.95, 468)], -1) * side
    pts[1] = (side / 2, 0.55 * side)
    return np.repeat(pts[None], n, 0).astype(np.float16)


def _clips(folder: Path, clips: list[tuple[str, int, np.ndarray]]) -> Path:
    """A clip cache: one shard per clip (preprocess --shard-size 1)."""
    folder.mkdir(parents=True)
    shards = {}
    for k, (group, label, crops) in enumerate(clips):
        n = len(crops)
        name = f"faces-{k:04d}.npz"
        np.savez(folder / name, crops=crops, mesh=_mesh(n, crops.shape[1], k),
                 five=np.zeros((n, 5, 2), np.float16), group=np.array([group] * n),
                 label=np.full(n, label, np.int8))
        shards[str(k)] = {"file": name, "faces": n, "skipped": 0}
    (folder / "manifest.json").write_text(json.dumps(
        {"crop_scale": 1.0, "size": int(clips[0][2].shape[1]), "skipped": [],
         "shards": shards}))
    return folder


def _frames(n: int, seed: int, side: int = 224) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    return np.stack([cv2.GaussianBlur(rng.integers(0, 256, (side, side, 3), dtype=np.uint8),
                                      (0, 0), 2) for _ in range(n)])


def test_cached_clips_come_one_per_shard_with_their_label_and_method(tmp_path):
    _clips(tmp_path / "a", [("g1", 0, _frames(3, 0, 32)), ("g1", 1, _frames(4, 1, 32))])
    _clips(tmp_path / "b", [("g2", 0, _frames(2, 2, 32))])
    clips = load_cached_clips(tmp_path, ("a", "b"))
    assert [(c.cache, c.shard, c.group, c.label, c.method, len(c.crops)) for c in clips] == [
        ("a", "0", "g1", 0, "real", 3), ("a", "1", "g1", 1, "", 4), ("b", "0", "g2", 0, "real", 2)]
    assert np.array_equal(clips[1].crops, _frames(4, 1, 32))


TEMPORAL = """\
name: t
architecture: mobilenet_xray_gru
data:
  kind: temporal
  face_caches: [a]
{extra}input_size: 112
"""


@pytest.mark.parametrize("extra,message", [
    ("  fake_caches: [b]\n", "for clip tracks"),
    ("  reenact_prob: 0.5\n", "for clip tracks"),
    ("  val_caches: [v]\n  fake_share: 0.5\n", "fake_share needs fake_caches"),
    ("  val_caches: [v]\n  cache_weights: [1, 2]\n", "one weight per face cache"),
])
def test_clip_track_options_need_clip_validation(tmp_path, extra, message):
    path = tmp_path / "c.yaml"
    path.write_text(TEMPORAL.format(extra=extra))
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_a_region_temporal_stage_validates_with_clip_validation(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(TEMPORAL.format(extra="  val_caches: [v]\n  fake_caches: [b]\n"
                                          "  fake_share: 0.3\n  reenact_prob: 0.5\n")
                    + "region: lower_face\nregion_source_size: 224\n")
    cfg = load_config(path)
    assert cfg.region == "lower_face" and cfg.data.clip_level and cfg.data.fake_share == 0.3


def test_tracks_are_the_clips_of_one_label(tmp_path):
    a, b = _frames(5, 0, 32), _frames(4, 1, 32)
    mixed = np.concatenate([a[:3], b[:2]])
    cache = _clips(tmp_path / "c", [("g1", 0, a), ("g2", 1, b)])
    real, fake = load_tracks(cache, 0), load_tracks(cache, 1)
    assert [(t.name, len(t.crops)) for t in real] == [("c:g1#0", 5)]
    assert [(t.name, len(t.crops)) for t in fake] == [("c:g2#1", 4)]
    assert np.array_equal(real[0].crops, a) and real[0].mesh.dtype == np.float32
    # a shard holding two groups (several sources per shard) splits where the group changes
    folder = tmp_path / "m"
    _clips(folder, [("x", 0, mixed)])
    z = dict(np.load(folder / "faces-0000.npz"))
    z["group"] = np.array(["x"] * 3 + ["y"] * 2)
    np.savez(folder / "faces-0000.npz", **z)
    assert [len(t.crops) for t in load_tracks(folder, 0)] == [3, 2]


def test_windows_step_at_the_spacing_analysis_samples():
    rng = np.random.default_rng(0)
    for n, clip_frames, stride in ((64, 32, 2), (96, 32, 3), (48, 32, 2), (16, 32, 1),
                                   (64, None, 1)):
        idx = window_indices(n, 16, clip_frames, rng)
        assert len(idx) == 16 and idx[-1] < n and set(np.diff(idx)) == {stride}
    # a track too short for the spacing gets the widest that fits
    assert set(np.diff(window_indices(20, 8, 4, rng))) == {2}
    with pytest.raises(ValueError, match="no window of 16"):
        window_indices(10, 16, 32, rng)


def test_donors_are_other_frames_of_the_track():
    rng = np.random.default_rng(0)
    shifted = shuffled = 0
    for _ in range(200):
        n = int(rng.integers(6, 80))
        idx = window_indices(n, 6, None, rng)
        donors = donor_indices(idx, n, rng)
        assert ((donors >= 0) & (donors < n) & (donors != idx)).all()
        if len(set((donors - idx) % n)) == 1:  # the window shifted whole
            shifted += 1
            assert max(2, n // 8) <= (donors[0] - idx[0]) % n <= n - max(2, n // 8)
        else:
            shuffled += 1
    assert shifted > 50 and shuffled > 50
    # a two-frame track: the other frame
    assert donor_indices(np.array([0, 1]), 2, rng).tolist() == [1, 0]


def test_lip_sync_pseudo_fake_replaces_the_lower_face_alike_on_every_frame():
    frames = list(_frames(3, 2))
    donors = list(_frames(3, 3))
    mesh = [m.astype(np.float32) for m in _mesh(3)]
    # frames 0 and 2 are the same picture with the same donor: the same fake
    frames[2], donors[2] = frames[0], donors[0]
    fakes, masks = synth.temporal_self_reenact(frames, mesh, donors, mesh,
                                               np.random.default_rng(5))
    assert np.array_equal(fakes[0], fakes[2]) and np.array_equal(masks[0], masks[2])
    for real, fake, mask in zip(frames, fakes, masks, strict=True):
        changed = np.abs(real.astype(int) - fake.astype(int)).max(axis=2) > 0
        assert changed[150:200, 70:154].mean() > 0.5  # the mouth, cheeks and chin
        assert not changed[:40].any() and mask[:40].max() == 0  # the eyes and forehead kept


def _pairs(real, fake, **kw) -> TrackPairs:
    args = dict(size=112, region="lower_face", seed=0, length=8, sequence_length=4,
                clip_frames=None, fake_share=0.0, reenact_prob=0.0, augment=False)
    return TrackPairs(real, fake, np.ones(len(real)), **{**args, **kw})


def test_training_windows_are_the_region_of_each_frame(tmp_path):
    """Unaugmented, a window of either side is each frame's region exactly as validation
    and analysis cut it; the generated side is a window of a generated clip."""
    real_crops, fake_crops = _frames(6, 0), _frames(6, 1)
    real = load_tracks(_clips(tmp_path / "r", [("r", 0, real_crops)]), 0)
    fake = load_tracks(_clips(tmp_path / "f", [("f", 1, fake_crops)]), 1)
    generated = _pairs(real, fake, fake_share=1.0)
    for key in range(4):
        r, f, how = generated.frames(key)
        assert how == "generated"
        x, y = generated[key]
        assert x.shape == (2, 4, 3, 112, 112) and y.tolist() == [0.0, 1.0]
        assert torch.equal(x[0], clip_input(r, "lower_face", 112))
        assert torch.equal(x[1], clip_input(f, "lower_face", 112))
        assert any(np.array_equal(f[0], c) for c in fake_crops)
        assert torch.equal(x[0][0], model_input(r[0], "lower_face", 112))
    kinds = {_pairs(real, fake, reenact_prob=0.5).frames(k)[2] for k in range(12)}
    assert kinds == {"reenact", "self-blend"}
    augmented = _pairs(real, fake, fake_share=0.3, reenact_prob=0.5, augment=True,
                       degradation="video")
    x, _ = augmented[3]
    assert x.shape == (2, 4, 3, 112, 112) and torch.equal(augmented[3][0], x)  # keyed


def test_validation_scores_each_held_out_clip_whole(tmp_path):
    reals = _clips(tmp_path / "vr", [("a", 0, _frames(5, 0)), ("b", 0, _frames(1, 1))])
    labelled = _clips(tmp_path / "vl", [("p", 1, _frames(4, 2)), ("p", 0, _frames(3, 3))])
    cfg = TrainConfig.model_validate(dict(
        name="t", architecture="mobilenet_xray_gru", region="lower_face",
        region_source_size=224, input_size=112,
        data={"kind": "temporal", "face_caches": [str(reals)],
              "val_real_caches": [str(reals)], "val_caches": [str(labelled)]}))
    val = clip_validation(cfg.data, 112, "lower_face")
    assert isinstance(val, ClipTracks)
    assert list(val.clips) == ["vr:a#0", "vl:p#1", "vl:p#0"]  # one-frame clips left out
    assert val.labels.tolist() == [0, 0, 1]
    x, y = val[2]
    assert x.shape == (1, 4, 3, 112, 112) and y.item() == 1.0
    crops = load_tracks(labelled, 1)[0].crops
    assert torch.equal(x[0], torch.stack([model_input(c, "lower_face", 112) for c in crops]))


@pytest.mark.train
@pytest.mark.slow
def test_temporal_region_stage_trains_exports_and_analysis_scores_the_same_track(
        tmp_path, monkeypatch):
    """A mouth frame checkpoint, its temporal stage on clip tracks (frame stage frozen),
    calibration and export; then the frame core's crops of a face track are the pixels
    validation feeds the model, and the exported graphs' track score is the torch model's."""
    from safetensors.torch import load_file, save_file

    from fakelens.analysis.frames import FrameWork, geometry, load_detectors
    from fakelens.config import get_settings
    from fakelens.faces.crops import crop_face
    from fakelens.faces.detector import FaceDetection
    from fakelens.models.architectures import build_model
    from fakelens.training.combine import load_trained
    from fakelens.training.loop import Trainer
    from fakelens.training.ship import ship

    torch.manual_seed(0)
    frame_run = tmp_path / "frame"
    frame_run.mkdir()
    frame_model = build_model("mobilenet_xray", pretrained=False)
    save_file({k: v.contiguous() for k, v in frame_model.state_dict().items()},
              frame_run / "step-00001.safetensors")
    reals = _clips(tmp_path / "reals", [(f"r{i}", 0, _frames(6, i)) for i in range(3)])
    heads = _clips(tmp_path / "heads", [("g", 1, _frames(6, 10)), ("g", 0, _frames(6, 11))])
    val = _clips(tmp_path / "val", [("v", 1, _frames(4, 20)), ("v", 0, _frames(4, 21)),
                                    ("w", 1, _frames(4, 22))])
    val_real = _clips(tmp_path / "val-real", [("u", 0, _frames(4, 23))])
    common = dict(region="lower_face", region_source_size=224, input_size=112,
                  pretrained=False, batch_size=1, max_steps=2, eval_every=2, warmup_steps=1,
                  checkpoint_every=2, workers=0, threads=1)
    frame_cfg = tmp_path / "frame.yaml"
    frame_cfg.write_text(json.dumps(dict(
        name="mouth-test", architecture="mobilenet_xray", **common,
        data={"kind": "mixed", "face_caches": [str(reals)], "val_pair_caches": [],
              "val_real_caches": [str(val_real)], "val_caches": [str(val)],
              "val_frames_per_clip": 4})))
    temporal_cfg = tmp_path / "temporal.yaml"
    temporal_cfg.write_text(json.dumps(dict(
        name="mouth-test", version="2", architecture="mobilenet_xray_gru",
        init_from=str(frame_run / "step-00001.safetensors"), **common,
        data={"kind": "temporal", "face_caches": [str(reals), str(heads)],
              "cache_weights": [2.0, 1.0], "fake_caches": [str(heads)], "fake_share": 0.5,
              "reenact_prob": 0.5, "sequence_length": 3, "clip_frames": 3,
              "degradation": "video", "val_real_caches": [str(val_real)],
              "val_caches": [str(val)]})))
    trainer = Trainer(load_config(temporal_cfg), tmp_path / "temporal")
    summary = trainer.fit()
    assert summary["steps"] == 2 and "video_auc" in summary["history"][-1]
    step = load_file(tmp_path / "temporal" / "step-00002.safetensors")
    frozen = load_file(frame_run / "step-00001.safetensors")
    assert all(torch.equal(frozen[k], step[k]) for k in frozen)  # the frame stage unchanged
    assert any(k.startswith("temporal.") for k in step)

    weights = tmp_path / "weights"
    info = ship(frame_run=frame_run, frame_config=frame_cfg, out_dir=weights,
                task="lip-sync", description="tests only", applies_to=("video",),
                checkpoint="step-00001", temporal_run=tmp_path / "temporal",
                temporal_config=temporal_cfg, temporal_checkpoint="step-00002")
    assert info["clips_real_n"] == 2 and info["clips_fake_n"] == 2
    monkeypatch.setenv("FAKELENS_WEIGHTS_DIR", str(weights))
    (det,) = load_detectors("video", "mouth-test", get_settings())
    card = det.config
    assert card.temporal_graph and card.version == "2" and card.region == "lower_face"
    assert card.temporal_offset == pytest.approx(info["temporal_offset"], abs=1e-3)

    # a face track through the frame core, and the same crops as training caches them
    frames = _frames(5, 30, 320)
    landmarks = np.array([[130, 120], [190, 124], [160, 155], [137, 185], [183, 188]],
                         np.float32)
    work = FrameWork([det], face_detector=None)
    analysed, cached = [], []
    for t, rgb in enumerate(frames):
        face = FaceDetection((110.0 + t, 80.0, 100.0, 130.0), landmarks + (t, 0), 0.9)
        analysed.append(work.crop(rgb, [face])[0][geometry(det)])
        cached.append(crop_face(rgb, face.box, face.landmarks, scale=1.0, size=224))
    track = ClipTracks([type(load_tracks(val, 0)[0])("x", np.stack(cached),
                                                     np.zeros((5, 468, 2), np.float32))],
                       [1], size=112, region="lower_face")
    trained_input = track[0][0]
    assert np.allclose(det.preprocess(analysed), trained_input[0].numpy(), atol=1e-6)
    outs = det.score_frames(analysed)
    got = det.score_track(outs.embeddings)
    model = load_trained(tmp_path / "temporal" / "step-00002.safetensors",
                         "mobilenet_xray_gru")
    with torch.no_grad():
        out = model(trained_input)
    z = float(out["track_logit"][0])
    expected = 1 / (1 + np.exp(-(z - card.temporal_offset) / card.temporal_temperature))
    assert got == pytest.approx(expected, abs=1e-3)
    assert np.allclose(outs.logits, out["frame_logits"][0].numpy(), atol=1e-3)


@pytest.mark.train
def test_export_ships_a_mixed_run_under_another_name(tmp_path, monkeypatch, capsys):
    """`fakelens export --name` (how the video detector was shipped from a run whose config
    names the face-swap detector): graph, card and registry all carry the new name, the
    config's name is left alone, the calibration gets `--max-real-at-threshold` and the
    card records it, and a run that is not calibrated on real media refuses both."""
    from safetensors.torch import save_file

    from fakelens.analysis.frames import load_detectors
    from fakelens.cli import main
    from fakelens.config import get_settings
    from fakelens.models.architectures import build_model
    from fakelens.training import calibrate as calibration

    run = tmp_path / "run"
    run.mkdir()
    torch.manual_seed(0)
    model = build_model("mobilenet_xray", pretrained=False)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              run / "step-00001.safetensors")
    val = _clips(tmp_path / "val", [("v", 1, _frames(2, 1)), ("v", 0, _frames(2, 2))])
    config = tmp_path / "mixed.yaml"
    config.write_text(json.dumps(dict(
        name="faceswap-test", architecture="mobilenet_xray", pretrained=False,
        input_size=64, data={"kind": "mixed", "face_caches": [str(val)],
                             "val_pair_caches": [], "val_caches": [str(val)],
                             "val_frames_per_clip": 2})))
    # an untrained net ranks two clips by chance: the fit (tested on its own) is fixed here
    # so that this test is about where the detector lands, on any CPU
    limits = []
    monkeypatch.setattr(calibration, "calibrate", lambda media, limit: limits.append(limit)
                        or calibration.Calibration(offset=0.25, temperature=2.0,
                                                   fitted_offset=0.25, media=media))
    weights = tmp_path / "weights"
    code = main(["export", str(run), "--config", str(config), "--checkpoint", "step-00001",
                 "--name", "faceswap-video-test", "--max-real-at-threshold", "0",
                 "--task", "face-swap",
                 "--applies-to", "video", "--description", "tests only",
                 "--out", str(weights)])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["offset"] == 0.25
    assert sorted(p.name for p in weights.iterdir()) == [
        "faceswap-video-test.frame.onnx", "faceswap-video-test.json"]
    card = json.loads((weights / "faceswap-video-test.json").read_text())
    assert card["name"] == "faceswap-video-test"
    assert card["frame_graph"] == "faceswap-video-test.frame.onnx"
    assert card["applies_to"] == ["video"] and card["logit_offset"] == 0.25
    assert card["training"]["checkpoint"] == "step-00001"
    assert limits == [0.0] and card["training"]["calibration_max_real_at_threshold"] == "0.0000"
    monkeypatch.setenv("FAKELENS_WEIGHTS_DIR", str(weights))
    (det,) = load_detectors("video", "faceswap-video-test", get_settings())
    assert det.config.temperature == 2.0
    assert load_config(config).name == "faceswap-test"

    sbi = tmp_path / "sbi.yaml"
    sbi.write_text(json.dumps(dict(name="sbi-test", architecture="mobilenet_xray",
                                   data={"kind": "sbi", "face_caches": [str(val)]})))
    code = main(["export", str(run), "--config", str(sbi), "--name", "other",
                 "--task", "face-swap", "--description", "tests only",
                 "--out", str(tmp_path / "refused")])
    assert code != 0 and "are for mixed runs" in capsys.readouterr().err
    assert not (tmp_path / "refused").exists()
    with pytest.raises(SystemExit):  # a share, not a count
        main(["export", str(run), "--config", str(config), "--max-real-at-threshold", "1",
              "--task", "face-swap", "--description", "tests only", "--out", str(weights)])
