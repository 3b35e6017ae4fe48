"""Dataset adapters and group-wise splits."""

import json

import numpy as np
import pytest

from fakelens.errors import FakeLensError
from fakelens.training.datasets import (
    FAKE,
    REAL,
    celeb_df,
    dfdc,
    faceforensics,
    image_folders,
    open_dataset,
    split_by_group,
)


@pytest.mark.realdata
def test_dev_videos_labels_methods_and_pair_groups(videos):
    items = open_dataset(str(videos))
    assert len(items) == 15 and sum(i.label == FAKE for i in items) == 4
    by_name = {i.path.name: i for i in items}
    fake = by_name["ffpp_deepfakes_519_515.mp4"]
    assert fake.method == "Deepfakes face swap" and fake.label == FAKE
    assert by_name["ffpp_original_519.mp4"].group == fake.group  # a pair never splits


@pytest.mark.realdata
def test_gan_faces_and_dfdc_crops(samples):
    gan = open_dataset(str(samples / "gan-faces"))
    assert len(gan) == 1189 and sum(i.label == FAKE for i in gan) == 650
    dfdc_items = open_dataset(str(samples / "dfdc-crops"))
    assert {i.label for i in dfdc_items} == {REAL, FAKE}


def test_faceforensics_split_lists(tmp_path):
    (tmp_path / "splits").mkdir()
    (tmp_path / "splits" / "test.json").write_text(json.dumps([["953", "974"]]))
    items = list(faceforensics(tmp_path, methods=("Deepfakes",)))
    assert [i.path.name for i in items] == ["953.mp4", "974.mp4", "953_974.mp4", "974_953.mp4"]
    assert {i.group for i in items} == {"953"} and [i.label for i in items] == [0, 0, 1, 1]


def test_celeb_df_and_dfdc_metadata(tmp_path):
    (tmp_path / "List_of_testing_videos.txt").write_text(
        "1 YouTube-real/00170.mp4\n0 Celeb-synthesis/id0_id16_0000.mp4\n")
    items = list(celeb_df(tmp_path))
    assert [i.label for i in items] == [REAL, FAKE] and items[1].group == "id0"
    part = tmp_path / "dfdc_train_part_0"
    part.mkdir()
    (part / "metadata.json").write_text(json.dumps({
        "a.mp4": {"label": "FAKE", "split": "train", "original": "b.mp4"},
        "b.mp4": {"label": "REAL", "split": "train"}}))
    items = sorted(dfdc(tmp_path), key=lambda i: i.path.name)
    assert [i.label for i in items] == [FAKE, REAL] and items[0].group == items[1].group


def test_image_folders_and_errors(tmp_path):
    for sub in ("real", "fake"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / f"{sub}1.jpg").write_bytes(b"x")
    assert [i.label for i in image_folders(tmp_path)] == [REAL, FAKE]
    with pytest.raises(FakeLensError):
        open_dataset(str(tmp_path / "real"))


def test_split_by_group_never_straddles():
    groups = np.array(["a", "a", "b", "b", "c", "c", "d", "d", "e", "e"])
    train, val = split_by_group(groups, 0.4, seed=0)
    assert set(groups[train]).isdisjoint(groups[val])
    assert len(train) + len(val) == len(groups)


@pytest.mark.parametrize("fraction", [0.01, 0.3, 0.99])
def test_split_by_group_keeps_both_sides_whatever_the_seed(fraction):
    """A tiny dataset must not get an empty side by the luck of a hash (the training
    smoke tests train on ten faces with seeds 0 and 1)."""
    for n_groups in (2, 3, 11):
        groups = np.repeat([f"g{i}" for i in range(n_groups)], 2)
        for seed in range(40):
            train, val = split_by_group(groups, fraction, seed=seed)
            assert len(train) and len(val), (n_groups, seed)
            assert set(groups[train]).isdisjoint(groups[val])
    with pytest.raises(FakeLensError, match="at least two groups"):
        split_by_group(np.array(["only", "only"]), 0.3, seed=0)
