"""The fixed train / validation / test roles of the material in ``../shared/data``.

One place decides which clip is used for what, so that training, checkpoint selection,
calibration and the quality benchmark can never overlap:

* ``train``: gradient steps;
* ``val``: checkpoint selection and calibration (threshold, temperature), never trained on;
* ``test``: the benchmark (``fakelens eval --suite default``) only.

``live-swap`` is split by face model (the part of ``group`` before the last ``_N``), so
a fake and its own original, and every clip of one fake identity, stay on one side.
"""

from __future__ import annotations

from pathlib import Path

from fakelens.errors import FakeLensError
from fakelens.training.datasets import Item

ROLES = ("train", "val", "test")

LIVE_SWAP_VAL_MODELS = frozenset({"Emily_Winston", "Meggie_Merkel", "Yohanna_Coralson"})
LIVE_SWAP_TEST_MODELS = frozenset({"Ava_de_Addario", "Dean_Wiesel", "Tim_Norland",
                                   "Natalie_Fatman", "Rob_Doe"})

# real talking-face clips held out of training for selection and calibration
VIDEOS_REAL_VAL = frozenset({
    "deepfacelive_sample_Twitch5", "liveportrait_driving_d7", "liveportrait_driving_d8",
    "liveportrait_source_s32", "pcavs_Audio_Source__00086", "pcavs_Input__00098",
    "pcavs_Pose_Source__741400163", "sadtalker_hdtf_WDA_EdMarkey0_000",
    "videoretalking_face_5", "ghost_2person",
})

# dev clips (data/videos) whose frames are on the real side of training since v1
DEV_VIDEOS_TRAIN = frozenset({"talking_head_d0", "talking_head_d3", "talking_head_d6",
                              "talking_head_d9", "hdtf_WDA_KatieHill_000"})


def face_model(group: str) -> str:
    """``Ava_de_Addario_3`` -> ``Ava_de_Addario`` (the fake identity of a live-swap demo)."""
    head, sep, tail = group.rpartition("_")
    return head if sep and tail.isdigit() else group


def role_of(dataset: str, item: Item) -> str:
    """The role of one item of a named dataset folder (``live-swap``, ``videos-real``,
    ``videos``, ``dfdc-crops``); every other dataset is ``test`` material."""
    stem = Path(item.path).stem
    if dataset == "live-swap":
        model = face_model(item.group)
        if model in LIVE_SWAP_TEST_MODELS:
            return "test"
        return "val" if model in LIVE_SWAP_VAL_MODELS else "train"
    if dataset == "videos-real":
        return "val" if stem in VIDEOS_REAL_VAL else "train"
    if dataset == "videos":
        return "train" if stem in DEV_VIDEOS_TRAIN else "test"
    if dataset == "dfdc-crops":  # its training split selects checkpoints; nothing trains on it
        return "val" if Path(item.path).parts[-3:-2] == ("train",) else "test"
    return "test"


def select(dataset_dir: Path, items: list[Item], role: str) -> list[Item]:
    if role not in ROLES:
        raise FakeLensError(f"unknown split role {role!r} (one of {', '.join(ROLES)})")
    name = Path(dataset_dir).resolve().name
    return [i for i in items if role_of(name, i) == role]
