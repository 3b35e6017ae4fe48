"""Face detection, alignment, the model store and the no-download fallback."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

import fakelens
from fakelens.config import Settings
from fakelens.errors import ModelIntegrityError, ModelMissing
from fakelens.faces import crop_face, load_face_detector
from fakelens.faces.crops import crop_matrix, transform_points
from fakelens.models import store


@pytest.mark.realdata
def test_yunet_finds_the_face_with_landmarks(face_image, model_dir):
    det = load_face_detector(Settings(model_dir=model_dir, allow_download=False),
                             allow_fallback=False)
    rgb = np.asarray(Image.open(face_image).convert("RGB"))
    faces = det.detect(rgb)
    assert len(faces) == 1
    x, y, w, h = faces[0].box
    right_eye, left_eye = faces[0].landmarks[:2]
    assert right_eye[0] < left_eye[0]  # image-left eye first
    assert x - 5 < right_eye[0] < x + w and y < right_eye[1] < y + h / 2 + 5


def test_crop_levels_the_eyes():
    box = (100.0, 100.0, 80.0, 80.0)
    lm = np.array([[120, 130], [160, 150], [140, 150], [125, 165], [155, 175]], np.float32)
    m = crop_matrix(box, lm, 1.0, 64)
    eyes = transform_points(lm[:2], m)
    assert abs(eyes[0][1] - eyes[1][1]) < 1e-3
    centre = transform_points(np.array([[140.0, 140.0]]), m)[0]
    assert np.allclose(centre, [32, 32], atol=1e-3)
    frame = np.zeros((300, 300, 3), np.uint8)
    assert crop_face(frame, box, lm, scale=1.3, size=48).shape == (48, 48, 3)


def test_missing_model_file_message_names_file_and_variable(tmp_path):
    with pytest.raises(ModelMissing) as exc:
        store.resolve("yunet_n_dynamic", tmp_path, allow_download=False)
    assert "yunet_n_dynamic.onnx" in str(exc.value) and "FAKELENS_MODEL_DIR" in str(exc.value)


def test_corrupted_model_file_is_refused(tmp_path):
    (tmp_path / "yunet").mkdir()
    (tmp_path / "yunet" / "yunet_n_dynamic.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelIntegrityError):
        store.resolve("yunet_n_dynamic", tmp_path, allow_download=False)


@pytest.mark.realdata
@pytest.mark.train
def test_without_a_face_model_analysis_stops_unless_the_fallback_is_asked_for(
        face_image, tmp_path, tiny_detector, monkeypatch, capsys):
    from fakelens.cli import main

    monkeypatch.setenv("FAKELENS_MODEL_DIR", str(tmp_path))
    monkeypatch.setenv("FAKELENS_ALLOW_DOWNLOAD", "0")
    with pytest.raises(ModelMissing, match="yunet_n_dynamic.onnx"):
        fakelens.analyze(face_image, model=tiny_detector)  # no verdict on no face at all
    assert main(["detect", str(face_image), "--model", tiny_detector, "-q"]) == 4
    assert "yunet_n_dynamic.onnx" in capsys.readouterr().err
    assert main(["detect", str(face_image), "--model", tiny_detector, "-q",
                 "--centre-fallback"]) == 0
    monkeypatch.setenv("FAKELENS_FACE_FALLBACK", "1")
    result = fakelens.analyze(face_image, model=tiny_detector)
    assert result.face_detector.startswith("fallback")
    assert any("no face detector" in w for w in result.warnings)
    assert len(result.tracks) == 1


def test_models_fetch_copies_verified_files_into_the_store(model_dir, tmp_path, capsys):
    from fakelens.cli import main

    store_dir = tmp_path / "store"
    env = {"FAKELENS_MODEL_DIR": str(store_dir), "FAKELENS_ALLOW_DOWNLOAD": "0"}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        assert main(["models", "fetch", "yunet_n_dynamic", "--from", str(model_dir)]) == 0
        assert "copied" in capsys.readouterr().out
        assert main(["models", "fetch", "yunet_n_dynamic", "--from", str(model_dir)]) == 0
        assert "present" in capsys.readouterr().out
        copied = store_dir / "yunet" / "yunet_n_dynamic.onnx"
        assert store.resolve("yunet_n_dynamic", store_dir, allow_download=False) == copied
        copied.write_bytes(b"damaged")  # a damaged copy is replaced, never used
        assert main(["models", "fetch", "yunet_n_dynamic", "--from", str(model_dir)]) == 0
        assert "copied" in capsys.readouterr().out
        mp.setenv("FAKELENS_MODEL_DIR", str(tmp_path / "empty-store"))
        assert main(["models", "fetch", "yunet_n_dynamic", "--from", str(tmp_path / "x")]) == 4
        assert main(["models", "fetch", "no_such_model"]) == 4


def test_yunet_sees_no_face_in_noise(model_dir):
    det = load_face_detector(Settings(model_dir=model_dir, allow_download=False),
                             allow_fallback=False)
    noise = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    assert det.detect(cv2.GaussianBlur(noise, (5, 5), 0)) == []
