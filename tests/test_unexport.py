"""`fakelens unexport`: a checkpoint rebuilt from an exported frame graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.train]

torch = pytest.importorskip("torch")

from fakelens.errors import FakeLensError  # noqa: E402
from fakelens.training.config import TrainConfig  # noqa: E402

SIZE = 64


def _exported(tmp_path: Path, *, flip_average: bool = False, temperature: float = 2.5,
              offset: float = 0.75) -> tuple[Path, torch.nn.Module]:
    """A mobilenet_xray with non-trivial batch-norm statistics, exported as shipped."""
    from safetensors.torch import save_file

    from fakelens.models.architectures import build_model
    from fakelens.training.export import export_detector

    torch.manual_seed(3)
    model = build_model("mobilenet_xray", pretrained=False).eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
    ckpt = tmp_path / "run" / "best.safetensors"
    ckpt.parent.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, ckpt)
    cfg = TrainConfig(name="fakelens-faceswap", architecture="mobilenet_xray",
                      pretrained=False, data={"kind": "sbi", "face_caches": []},
                      input_size=SIZE, flip_average=flip_average)
    export_detector(ckpt, cfg, tmp_path / "w", task="face-swap", description="test",
                    temperature=temperature, logit_offset=offset)
    return tmp_path / "w" / "fakelens-faceswap.json", model


def _graph_outputs(config: Path, crops: np.ndarray) -> list[np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(config.with_name("fakelens-faceswap.frame.onnx")))
    return session.run(["logits", "cam"], {"crops": crops})


def test_rebuilt_checkpoint_gives_the_graphs_calibrated_logits_and_maps(tmp_path):
    from fakelens.cli import main
    from fakelens.training.combine import load_trained

    config, _ = _exported(tmp_path)
    crops = np.random.default_rng(0).normal(size=(3, 3, SIZE, SIZE)).astype(np.float32)
    logits, cam = _graph_outputs(config, crops)
    out = tmp_path / "e" / "v.safetensors"
    assert main(["unexport", str(config), "--out", str(out)]) == 0
    rebuilt = load_trained(out, "mobilenet_xray")
    with torch.no_grad():
        got = rebuilt(torch.from_numpy(crops)[:, None])
    np.testing.assert_allclose(got["frame_logits"][:, 0].numpy(), (logits - 0.75) / 2.5,
                               atol=1e-4)
    np.testing.assert_allclose(got["blend_logits"].numpy(), cam, atol=1e-4)

    raw = tmp_path / "e" / "raw.safetensors"
    assert main(["unexport", str(config), "--out", str(raw), "--raw-logits"]) == 0
    with torch.no_grad():
        got = load_trained(raw, "mobilenet_xray")(torch.from_numpy(crops)[:, None])
    np.testing.assert_allclose(got["frame_logits"][:, 0].numpy(), logits, atol=1e-4)


def test_rebuilt_members_ensemble_on_one_scale(tmp_path):
    """Two members exported with very different calibrations average calibrated logits."""
    from fakelens.training.combine import ensemble_checkpoints, load_trained
    from fakelens.training.unexport import unexport

    crops = np.random.default_rng(1).normal(size=(2, 3, SIZE, SIZE)).astype(np.float32)
    members, expected = [], []
    for k, (t, b) in enumerate(((1.4, 2.9), (17.4, 13.9))):
        config, _ = _exported(tmp_path / str(k), temperature=t, offset=b)
        logits, _ = _graph_outputs(config, crops)
        expected.append((logits - b) / t)
        members.append(unexport(config, tmp_path / str(k) / "m.safetensors"))
    ensemble = ensemble_checkpoints(members, tmp_path / "ens" / "e.safetensors")
    with torch.no_grad():
        got = load_trained(ensemble, "mobilenet_xray")(torch.from_numpy(crops)[:, None])
    np.testing.assert_allclose(got["frame_logits"][:, 0].numpy(),
                               (expected[0] + expected[1]) / 2, atol=1e-4)


def test_a_graph_that_cannot_be_rebuilt_is_refused(tmp_path):
    from fakelens.training.unexport import unexport

    config, _ = _exported(tmp_path, flip_average=True)
    with pytest.raises(FakeLensError, match="flip averaging"):
        unexport(config, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


@pytest.mark.realdata
def test_the_shipped_face_swap_detector_can_be_rebuilt(tmp_path):
    """v2's training checkpoint is gone; its graph alone rebuilds it (parity checked)."""
    from safetensors import safe_open

    from fakelens.training.unexport import unexport

    config = Path(__file__).parents[1] / "src/fakelens/weights/fakelens-faceswap.json"
    out = unexport(config, tmp_path / "v2.safetensors")
    with safe_open(str(out), "pt") as f:
        meta = f.metadata()
    assert meta["architecture"] == "mobilenet_xray"
    assert meta["calibration_folded"].startswith("offset 2.87")
