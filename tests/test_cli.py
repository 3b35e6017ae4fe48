"""CLI behaviour that does not depend on trained weights."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from fakelens.cli import main
from fakelens.types import SCHEMA_VERSION, Analysis


def test_shipped_schema_matches_the_result_type(capsys):
    shipped = json.loads((resources.files("fakelens") / "schemas" / "analysis-v1.json")
                         .read_text())
    assert shipped == Analysis.model_json_schema(), "run: fakelens schema > " \
        "src/fakelens/schemas/analysis-v1.json"
    assert SCHEMA_VERSION.startswith("1.")
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == shipped


def test_detect_refuses_without_a_trained_model(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FAKELENS_WEIGHTS_DIR", str(tmp_path))  # an empty weights folder
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00" * 64)
    code = main(["detect", str(clip), "--json"])
    out, err = capsys.readouterr()
    assert code == 4
    assert out == ""
    assert err.startswith("error: no trained model installed")
    assert "Traceback" not in err


def test_models_list_without_models(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FAKELENS_WEIGHTS_DIR", str(tmp_path))
    assert main(["models", "list", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["installed"] == {}
    assert {"resnext50_lstm", "mobilenet_gru", "mobilenet_frame"} <= set(doc["architectures"])


def test_models_list_shows_the_voice_detector_with_its_card(tmp_path, monkeypatch, capsys):
    """The shipped voice detector is listed, with its measured accuracy and blind spots,
    even when the face detectors are replaced (FAKELENS_WEIGHTS_DIR)."""
    monkeypatch.setenv("FAKELENS_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["models", "list", "--json"]) == 0
    voice = json.loads(capsys.readouterr().out)["voice"]["fakelens-voice"]
    assert voice["task"] == "voice-clone" and voice["metrics"] and voice["missed"]
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "voice detectors" in out and "fakelens-voice v1" in out
    assert "0.878 [0.814, 0.933]" in out and "blind spot: Synthetic speech of tacotron2" in out


@pytest.mark.parametrize("args", [["detect", "x.mp4", "--frames", "0"],
                                  ["detect", "x.mp4", "--threshold", "1.5"],
                                  ["detect", "x.mp4", "--fps", "-1"]])
def test_invalid_options_are_usage_errors(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_unknown_model_is_a_clear_error(capsys):
    assert main(["detect", "x.mp4", "--model", "no-such-model"]) != 0
    err = capsys.readouterr().err
    assert "unknown model 'no-such-model'" in err


@pytest.mark.realdata
@pytest.mark.train
def test_detect_json_one_document_with_verdict_and_score(videos, model_dir, tiny_detector,
                                                         capsys):
    code = main(["detect", str(videos / "talking_head_d0.mp4"), "--json", "--frames", "4",
                 "--model", tiny_detector])
    out = capsys.readouterr().out
    assert code == 0
    doc = json.loads(out)
    assert doc["verdict"] in ("REAL", "FAKE", "UNCERTAIN") and 0 <= doc["score"] <= 1
    assert doc["frames_sampled"] == 4


@pytest.mark.realdata
def test_detect_notes_a_heavily_compressed_video(videos, tmp_path, capsys):
    import subprocess

    from livemedia import ffmpeg

    clips = {}
    for name, qp in (("light", 18), ("heavy", 45)):  # the shipped detectors decide
        clips[name] = tmp_path / f"{name}.mp4"
        subprocess.run([ffmpeg(), "-v", "error", "-y", "-i", str(videos / "talking_head_d0.mp4"),
                        "-t", "2", "-an", "-c:v", "libx264", "-qp", str(qp), str(clips[name])],
                       check=True, timeout=120)
    assert main(["detect", str(clips["heavy"]), "--frames", "4"]) == 0
    out = capsys.readouterr().out
    assert "note: This video is heavily compressed" in out
    assert main(["detect", str(clips["light"]), str(clips["heavy"]), "--frames", "4"]) == 0
    out = capsys.readouterr().out
    assert "note: heavy.mp4: This video is heavily compressed" in out
    assert "light.mp4: This video" not in out


def test_python_entry_point_runs():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "fakelens", "--version"], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0 and proc.stdout.startswith("fakelens ")
