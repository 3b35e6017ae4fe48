"""Face regions (a mouth detector looks at the lower face): the region named in a detector's
config is cut by one function, in training from the cached face crops and in analysis from
the face crop the frame core makes, so both see the same pixels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from fakelens.errors import ConfigError
from fakelens.faces.crops import crop_face
from fakelens.faces.detector import FaceDetection
from fakelens.faces.regions import REGION_BOXES, cut_region
from fakelens.models.pretrained import PretrainedConfig
from fakelens.training.config import TrainConfig, load_config

CARD = dict(name="m", version="1", architecture="mobilenet_xray", task="lip-sync",
            description="d", input_size=112, crop_scale=1.0, mean=(0.5, 0.5, 0.5),
            std=(0.2, 0.2, 0.2), frame_graph="m.frame.onnx", frame_sha256="0" * 64,
            applies_to=("video",))


def _coordinates(side: int) -> np.ndarray:
    """An image whose red channel is the row and green channel the column."""
    rows, cols = np.mgrid[0:side, 0:side]
    return np.stack([rows, cols, np.zeros_like(rows)], axis=-1).astype(np.uint8)


def test_lower_face_is_the_lower_half_and_central_width_of_the_crop():
    img = _coordinates(224)
    cut = cut_region(img, "lower_face", 112)
    assert cut.shape == (112, 112, 3)
    # rows 112..223 one to one (the lower half), columns 34..189 squeezed into 112
    assert cut[0, 0, 0] == 112 and cut[-1, 0, 0] == 223
    assert 33 <= cut[0, 0, 1] <= 36 and 187 <= cut[0, -1, 1] <= 190
    assert REGION_BOXES["lower_face"].pixels(224) == (112, 224, 34, 190)
    # a mask is cut alike, and the whole face is left as it is
    mask = cut_region(img[..., 0].astype(np.float32), "lower_face", 112)
    assert mask.shape == (112, 112) and mask.min() >= 112
    assert cut_region(img, "face", 112) is img
    with pytest.raises(ValueError, match="unknown face region 'eyes'"):
        cut_region(img, "eyes", 112)


def test_a_region_card_needs_its_source_size_and_a_face_card_refuses_one():
    card = PretrainedConfig(**CARD, region="lower_face", region_source_size=224)
    assert (card.region, card.region_source_size, card.task) == ("lower_face", 224, "lip-sync")
    assert PretrainedConfig(**CARD).region == "face"  # older cards: the whole face
    with pytest.raises(ValidationError, match="needs region_source_size"):
        PretrainedConfig(**CARD, region="lower_face")
    with pytest.raises(ValidationError, match="looks at the whole face"):
        PretrainedConfig(**CARD, region_source_size=224)
    with pytest.raises(ValidationError, match="region"):
        PretrainedConfig(**CARD, region="mouth", region_source_size=224)


MIXED = """\
name: m
architecture: mobilenet_xray
data:
  kind: {kind}
  face_caches: [a]
  val_pair_caches: []
input_size: 112
"""


@pytest.mark.parametrize("extra,kind,message", [
    ("region: lower_face\n", "mixed", "needs region_source_size"),
    ("region_source_size: 224\n", "mixed", "region is face"),
    ("region: lower_face\nregion_source_size: 224\n", "temporal",
     "cuts the region from clip tracks"),
    ("region: lips\nregion_source_size: 224\n", "mixed", "region"),
])
def test_training_configs_validate_the_region(tmp_path, extra, kind, message):
    path = tmp_path / "c.yaml"
    text = MIXED.format(kind=kind)
    if kind == "temporal":
        text = text.replace("  val_pair_caches: []\n", "")
    path.write_text(text + extra)
    with pytest.raises(ConfigError, match=message):
        load_config(path)
    path.write_text(MIXED.format(kind="mixed") + "region: lower_face\nregion_source_size: 224\n")
    assert load_config(path).region == "lower_face"


def _cache(folder: Path, crops: np.ndarray, labels, groups) -> Path:
    folder.mkdir(parents=True)
    n = len(crops)
    np.savez(folder / "faces-0000.npz", crops=crops, mesh=np.zeros((n, 468, 2), np.float16),
             five=np.zeros((n, 5, 2), np.float16), group=np.array(groups),
             label=np.array(labels, np.int8))
    (folder / "manifest.json").write_text(json.dumps(
        {"crop_scale": 1.0, "size": int(crops.shape[1]), "skipped": [],
         "shards": {"0": {"file": "faces-0000.npz", "faces": n, "skipped": 0}}}))
    return folder


def _region_config(caches: list[Path], source: int = 224, **extra) -> TrainConfig:
    return TrainConfig.model_validate(dict(
        name="fakelens-mouth-test", architecture="mobilenet_xray", pretrained=False,
        region="lower_face", region_source_size=source, input_size=112,
        data={"kind": "mixed", "face_caches": [str(caches[0])],
              "fake_caches": [str(c) for c in caches[1:]], "fake_share": 1.0,
              "val_pair_caches": [], "val_caches": [str(c) for c in caches[1:]],
              "val_frames_per_clip": 2, "cross_blend_prob": 0.0, "reenact_prob": 0.0},
        **extra))


def test_a_region_run_refuses_caches_of_another_size(tmp_path):
    pytest.importorskip("torch")
    from fakelens.training.loop import build_datasets

    small = _cache(tmp_path / "small", np.zeros((2, 64, 64, 3), np.uint8), [0, 0], ["a", "a"])
    with pytest.raises(ConfigError, match="face crops of 64 px, but region_source_size is 224"):
        build_datasets(_region_config([small]), 4)


def test_training_items_are_the_region_of_each_face(tmp_path):
    """Unaugmented items of a region run are exactly the region of the real face and of the
    unpaired fake (made on the whole face, cut before augmentation)."""
    torch = pytest.importorskip("torch")
    from fakelens.training.data import MixedPairs, model_input
    from fakelens.training.loop import build_datasets

    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (1, 224, 224, 3), dtype=np.uint8)
    fake = rng.integers(0, 256, (1, 224, 224, 3), dtype=np.uint8)
    reals = _cache(tmp_path / "reals", real, [0], ["r"])
    heads = _cache(tmp_path / "heads", np.concatenate([real, fake]), [0, 1], ["g", "g"])
    train, val = build_datasets(_region_config([reals, heads]), 4)
    plain = MixedPairs(train.sbi, train.pair_real, train.pair_fake, train.pair_indices,
                       size=112, seed=0, length=4, pair_share=0.0, map_size=4,
                       augment=False, fake_faces=train.fake_faces, fake_share=1.0)
    x, y, maps = plain[0]
    assert x.shape == (2, 3, 112, 112) and maps.shape == (2, 4, 4)
    assert torch.equal(x[0], model_input(real[0], "lower_face", 112))
    assert torch.equal(x[1], model_input(fake[0], "lower_face", 112))
    augmented = train[0][0]
    assert augmented.shape == (2, 3, 112, 112)
    # validation: the region of the cached crops, whole clips
    assert val[0][0].shape == (1, 3, 112, 112) and len(val.crops[0]) == 224


def _frame_and_face() -> tuple[np.ndarray, FaceDetection]:
    rng = np.random.default_rng(1)
    frame = cv2_blur(rng.integers(0, 256, (360, 480, 3), dtype=np.uint8))
    landmarks = np.array([[200, 150], [260, 154], [230, 185], [207, 215], [253, 218]],
                         np.float32)
    return frame, FaceDetection((180.0, 110.0, 100.0, 130.0), landmarks, 0.9)


def cv2_blur(img: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.GaussianBlur(img, (0, 0), 2)


@pytest.mark.train
@pytest.mark.slow
def test_training_and_analysis_give_a_region_detector_the_same_pixels(tmp_path, monkeypatch,
                                                                      capsys):
    """The cached face crop (what `fakelens preprocess` writes) cut by training, and the frame
    core's crop of the same face cut at analysis, are the same input; the exported graph
    scores it as the training code's model does (calibration's logits)."""
    pytest.importorskip("torch")
    import torch
    from safetensors.torch import save_file

    from fakelens.analysis.frames import FrameWork, geometry, load_detectors
    from fakelens.config import get_settings
    from fakelens.models.architectures import build_model
    from fakelens.models.registry import get_detector
    from fakelens.training.calibrate import checkpoint_logits
    from fakelens.training.export import export_detector
    from fakelens.training.loop import VideoFrames
    from fakelens.training.suite import _scored_weights

    torch.manual_seed(0)
    ckpt = tmp_path / "mouth.safetensors"
    model = build_model("mobilenet_xray", pretrained=False)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, ckpt)
    weights = tmp_path / "weights"
    cfg = _region_config([tmp_path / "unused"])
    export_detector(ckpt, cfg, weights, task="lip-sync", description="mouth, tests only",
                    applies_to=("video",))
    whole = TrainConfig.model_validate({**cfg.model_dump(), "name": "whole-face-test",
                                        "region": "face", "region_source_size": None,
                                        "input_size": 96})
    export_detector(ckpt, whole, weights, task="face-swap", description="tests only")
    monkeypatch.setenv("FAKELENS_WEIGHTS_DIR", str(weights))
    card = get_detector("fakelens-mouth-test").config
    assert (card.region, card.region_source_size, card.input_size) == ("lower_face", 224, 112)

    detectors = load_detectors("video", "fakelens-mouth-test, whole-face-test", get_settings())
    mouth, face_det = detectors
    assert [d.config.name for d in detectors] == ["fakelens-mouth-test", "whole-face-test"]
    frame, face = _frame_and_face()
    crops = FrameWork(detectors, face_detector=None).crop(frame, [face])[0]
    cached = crop_face(frame, face.box, face.landmarks, scale=1.0, size=224)
    analysed = crops[geometry(mouth)]
    assert analysed.shape == (112, 112, 3)
    assert np.array_equal(analysed, cut_region(cached, "lower_face", 112))
    # the whole-face detector beside it keeps its own crop
    assert np.array_equal(crops[geometry(face_det)],
                          crop_face(frame, face.box, face.landmarks, scale=1.0, size=96))
    trained = VideoFrames(cached[None], np.array([1]), ["c"], size=112,
                          region="lower_face")[0][0].numpy()
    assert np.allclose(mouth.preprocess([analysed]), trained, atol=1e-6)
    z_train = checkpoint_logits(ckpt, cfg, cached[None])
    z_analysis = mouth.score_frames([analysed]).logits
    assert np.allclose(z_train, z_analysis, atol=1e-3)

    assert set(_scored_weights(weights, "fakelens-mouth-test")) == {"fakelens-mouth-test"}
    from fakelens.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "lip-sync · mobilenet_xray · 112 px of the mouth and lower face" in out
