"""The detectors shipped inside the package: present, intact, small, and working."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

import fakelens
from fakelens.models.pretrained import PretrainedConfig
from fakelens.models.registry import DEFAULT_DETECTORS, default_detector_names
from fakelens.models.store import file_sha256
from fakelens.types import Verdict

WEIGHTS = Path(str(resources.files("fakelens") / "weights"))


@pytest.fixture(autouse=True)
def _shipped_weights_only(monkeypatch):
    monkeypatch.delenv("FAKELENS_WEIGHTS_DIR", raising=False)


def configs() -> list[PretrainedConfig]:
    return [PretrainedConfig.load(p) for p in sorted(WEIGHTS.glob("*.json"))]


def test_every_default_detector_is_shipped():
    assert {c.name for c in configs()} == set(DEFAULT_DETECTORS)


@pytest.mark.parametrize("name", DEFAULT_DETECTORS)
def test_files_match_sha256_and_load(name):
    cfg = PretrainedConfig.load(WEIGHTS / f"{name}.json")
    graphs = [(cfg.frame_graph, cfg.frame_sha256)]
    if cfg.temporal_graph:
        graphs.append((cfg.temporal_graph, cfg.temporal_sha256))
    for filename, sha in graphs:
        assert file_sha256(WEIGHTS / filename) == sha
        sess = ort.InferenceSession(str(WEIGHTS / filename), providers=["CPUExecutionProvider"])
        assert sess.get_inputs()[0].name in ("crops", "embeddings")
    assert cfg.metrics_by_media and not cfg.metrics, \
        "the model card's measured accuracy belongs in the config, per kind of media"


def test_recorded_benchmark_and_readme_are_of_the_shipped_files():
    """docs/eval/suite/suite.json was scored with exactly the shipped files, and the
    README's accuracy table repeats its numbers (a retrained model cannot ship with the
    old table)."""
    root = Path(__file__).resolve().parents[1]
    suite = json.loads((root / "docs" / "eval" / "suite" / "suite.json").read_text())
    scored = suite["weights"]["current"]
    for cfg in configs():
        assert scored[cfg.name] == {"version": cfg.version, "frame_sha256": cfg.frame_sha256}
    readme = (root / "README.md").read_text().split("## How good is it")[1].split("\n## ")[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in readme.splitlines()
            if line.startswith("| ") and "[" in line]
    assert len(rows) == len(suite["sets"])
    by_n = {f"{b['n_scored']} ({b['n_fake']}/{b['n_real']})": b for b in
            (s["versions"]["current"] for s in suite["sets"].values())}
    for _, n, auc, caught, called_fake in rows:
        b = by_n[n]
        assert auc == f"{b['auc']:.3f} [{b['auc_ci95'][0]:.3f}, {b['auc_ci95'][1]:.3f}]", n
        assert caught == f"{b['fake_caught']} of {b['n_fake']}", n
        assert called_fake == f"{b['real_flagged_fake']} of {b['n_real']}", n


def test_the_uncertain_band_keeps_half_the_fakes_of_every_benchmark_set_from_no_sign():
    """The shipped rule, as recorded by the benchmark: at most 1 in 12 real media FAKE and
    at least half the fakes of every held-out set FAKE or UNCERTAIN."""
    root = Path(__file__).resolve().parents[1]
    suite = json.loads((root / "docs" / "eval" / "suite" / "suite.json").read_text())
    floor = next(c.uncertain_from for c in configs() if c.name == "fakelens-faceswap")
    assert floor is not None and 0 < floor < 0.4
    blocks = {name: s["versions"]["current"] for name, s in suite["sets"].items()}
    for name, b in blocks.items():
        assert b["fake_caught"] >= b["n_fake"] / 2, name
    # over all real media (per set, the 10 held-out webcam originals hold 2 of the 5)
    assert sum(b["real_flagged_fake"] for b in blocks.values()) <= \
        sum(b["n_real"] for b in blocks.values()) / 12


def test_shipped_weights_fit_the_size_budget():
    """Four MobileNetV2 graphs of about 8.5 MiB (the video detector is an ensemble of two
    since E9) and the voice detector, with room for one more small graph."""
    total = sum(p.stat().st_size for p in WEIGHTS.rglob("*.onnx"))  # voice/ included
    assert total <= 40 * 1024 * 1024


@pytest.mark.realdata
def test_dev_fakes_against_their_own_originals(videos, model_dir):
    """The three FF++ pairs of the dev clips (Face2Face's original is not among them). The
    video detector (E11: run 47's two seeds) trained on these clips, so this is no test of
    generalisation: it ranks all three far apart (fakes 0.31-0.53, originals 0.02), as
    docs/eval/suite records. v2, which never trained on them, missed the graphics-based
    FaceSwap (0.330 against 0.412). A regression fails here."""
    pairs = {"519": "ffpp_deepfakes_519_515", "004": "ffpp_neuraltextures_004_982",
             "634": "ffpp_faceswap_634_660"}
    scores = {}
    for original, fake_name in pairs.items():
        fake = fakelens.analyze(videos / f"{fake_name}.mp4", check_voice=False)
        real = fakelens.analyze(videos / f"ffpp_original_{original}.mp4", check_voice=False)
        assert fake.verdict is not Verdict.NO_FACE and real.verdict is not Verdict.NO_FACE
        scores[original] = (fake.score, real.score)
    missed = sorted(o for o, (fake, real) in scores.items() if not fake > real)
    assert missed == [], scores


@pytest.mark.realdata
@pytest.mark.slow
def test_heldout_live_swap_fakes_score_above_their_own_originals(samples, model_dir):
    """The face models of the benchmark's live-swap set were never trained on. Scored like
    the benchmark (32 frames), the video detector (E11) ranks all 10 pairs, as E10 did; the
    closest is Dean_Wiesel_0 (0.2065 against its original's 0.2050: a gap of 0.0015, far
    beyond the float noise of thread counts), as docs/eval/suite records (E9 missed
    Dean_Wiesel_0 and Tim_Norland_0, E8 Natalie_Fatman_0 and Tim_Norland_0, v2
    Tim_Norland_0). A regression fails here."""
    from fakelens.training.datasets import labelled_folder
    from fakelens.training.splits import LIVE_SWAP_TEST_MODELS, face_model

    by_group: dict[str, dict[int, float]] = {}
    for item in labelled_folder(samples / "live-swap"):
        if face_model(item.group) in LIVE_SWAP_TEST_MODELS:
            by_group.setdefault(item.group, {})[item.label] = fakelens.analyze(item.path).score
    pairs = {g: s for g, s in by_group.items() if len(s) == 2}
    assert len(pairs) == 10
    missed = sorted(g for g, s in pairs.items() if not s[1] > s[0])
    assert missed == [], f"fakes not above their originals: {missed}"


@pytest.mark.realdata
def test_default_detect_json_end_to_end(videos, model_dir, capsys):
    from fakelens.cli import main

    assert main(["detect", str(videos / "ffpp_deepfakes_519_515.mp4"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] in ("REAL", "FAKE", "UNCERTAIN")
    assert {m["name"] for m in doc["models"]} == {"fakelens-faceswap-video"}
    frames = [f["score"] for f in doc["tracks"][0]["frames"]]
    assert len(frames) == 32 and 0 <= min(frames) <= max(frames) <= 1


@pytest.mark.realdata
def test_stills_use_both_detectors_and_gan_faces_score_higher(samples, model_dir):
    """Held-out stills (the validation split of the synthetic-face run) rank fakes higher."""
    from fakelens.training.datasets import open_dataset, split_by_group

    items = open_dataset(str(samples / "gan-faces"))
    groups = np.array([i.group for i in items])
    _, val = split_by_group(groups, 0.2, seed=0)
    rng = np.random.default_rng(0)
    chosen = [items[i] for i in rng.choice(val, 24, replace=False)]
    scores, labels = [], []
    for item in chosen:
        result = fakelens.analyze(item.path)
        if result.score is None:
            continue
        assert {m.name for m in result.models} == set(default_detector_names("image"))
        scores.append(result.score)
        labels.append(item.label)
    from fakelens.training.metrics import roc_auc

    assert roc_auc(labels, scores) > 0.8


@pytest.mark.realdata
@pytest.mark.slow
def test_heldout_swap_tool_fakes_against_their_own_originals(samples, model_dir):
    """The swap-generators pairs of the benchmark's test role (training/splits.py). The
    video detector (E11) trained on every public swap-tool clip, these included, so this
    is no test of generalisation: it ranks roop's third demo (inswapper_128: 0.13 against
    its target's 0.02) and the FaceSwap-GAN-Application pair (ljc_johnson: 0.10 against
    0.02), as docs/eval/suite records. v2, which never trained on a swap tool, missed
    ljc_johnson. A regression fails here."""
    from fakelens.training.datasets import labelled_folder
    from fakelens.training.splits import role_of

    folder = samples / "swap-generators"
    by_group: dict[str, dict[int, float]] = {}
    for item in labelled_folder(folder):
        if role_of("swap-generators", item) == "test":
            by_group.setdefault(item.group, {})[item.label] = fakelens.analyze(
                item.path, check_voice=False).score
    pairs = {g: s for g, s in by_group.items() if len(s) == 2}
    assert sorted(pairs) == ["ljc_johnson", "roop_demo"]
    missed = sorted(g for g, s in pairs.items() if not s[1] > s[0])
    assert missed == [], f"fakes not above their originals: {missed}"


@pytest.mark.realdata
@pytest.mark.slow
def test_heldout_talking_head_pairs_rank_as_recorded(samples, model_dir):
    """The talking-heads groups of the benchmark's test role that hold both fakes and the
    real clips they were made from (training/splits.py), scored like the benchmark. The
    video detector (E11) trained on every EDTalk clip, these included, and on no clip of the
    ROME grid (ROME, Bi-Layer, first-order-model). It ranks all 50 of EDTalk's pairs and
    39 of the ROME grid's 96 fake/driver pairs (E10: 60, E9: 25, E8: 23, v2: 27), as
    docs/eval/suite records: against the set's other real clips it ranks the grid's fakes
    well (AUC 0.84), but three of the grid's four drivers (0.04-0.06) sit in the middle of
    its fakes (0.02-0.25) and the fourth, low-quality demo footage, scores 0.30, above all
    of them. The closest ROME-grid fake and real scores are 0.00009 apart, about a hundred
    times the float noise of thread counts and CPUs in a score (about 1e-6; E8's pins held
    a gap of 0.0005 on every CI). A regression, or a fix, fails here."""
    from fakelens.training.datasets import labelled_folder
    from fakelens.training.splits import role_of

    by_group: dict[str, dict[int, list[float]]] = {}
    for item in labelled_folder(samples / "talking-heads"):
        if role_of("talking-heads", item) == "test" and item.group in ("g_rome", "g_edtalk"):
            score = fakelens.analyze(item.path, check_voice=False).score
            by_group.setdefault(item.group, {0: [], 1: []})[item.label].append(score)
    ranked = {g: (sum(f > r for f in s[1] for r in s[0]), len(s[1]) * len(s[0]))
              for g, s in by_group.items()}
    assert ranked == {"g_rome": (39, 96), "g_edtalk": (50, 50)}
