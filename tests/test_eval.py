"""``fakelens eval`` writes JSON, Markdown and a ROC plot with the field's metrics."""

from __future__ import annotations

import json
import shutil

import pytest

from fakelens.cli import main

pytestmark = [pytest.mark.realdata, pytest.mark.train]


def test_eval_on_a_small_labelled_folder(samples, model_dir, tiny_detector, tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    rows = ["file,label,method"]
    for i, name in enumerate(sorted((samples / "faces-real").glob("*.jpg"))[:3]):
        shutil.copy(name, data / f"real{i}.jpg")
        rows.append(f"real{i}.jpg,REAL,pristine")
    for i, name in enumerate(sorted((samples / "gan-faces" / "fake").glob("*.jpg"))[:3]):
        shutil.copy(name, data / f"fake{i}.jpg")
        rows.append(f"fake{i}.jpg,FAKE,StyleGAN2")
    (data / "labels.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    assert main(["eval", str(data), "--model", tiny_detector, "--out", str(out)]) == 0
    report = json.loads((out / "eval.json").read_text())
    block = report["video_mean_of_frames"]
    assert block["n"] + len(report["skipped"]) == 6
    assert 0.0 <= block["auc"] <= 1.0 and len(block["auc_ci95"]) == 2
    assert {"ap", "eer", "log_loss", "accuracy"} <= set(block)
    assert "StyleGAN2" in report["per_method"]
    assert (out / "roc.png").stat().st_size > 1000
    assert "| video_mean_of_frames |" in capsys.readouterr().out
