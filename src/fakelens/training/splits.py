"""The fixed train / validation / test roles of the material in ``../shared/data``.

One place decides which clip is used for what, so that training, checkpoint selection,
calibration and the quality benchmark can never overlap:

* ``train``: gradient steps;
* ``val``: checkpoint selection and calibration (threshold, temperature), never trained on;
* ``test``: the benchmark (``fakelens eval --suite default``) only.

``live-swap`` is split by face model (the part of ``group`` before the last ``_N``), so
a fake and its own original, and every clip of one fake identity, stay on one side.

``swap-generators`` and ``talking-heads`` are split by ``group`` (a demo: a fake and the
clips it was made from), never by file, and whole generators are held out:

* ``swap-generators``: two of the three roop / inswapper_128 pairs and two faceswap-GAN
  pairs train (aligned pairs, frame by frame); the third roop pair, the faceswap-GAN
  application's pair (another faceswap-GAN code base) and the landmark warp, a generator
  seen nowhere else, are ``test``; one faceswap-GAN demo pair and the unpaired GAN v1 / v2
  panels select checkpoints (``val``). Target clips with no fake are spread over the roles.
* ``talking-heads``: PD-FGC (12 fakes with their 6 drivers, a generator family of its own)
  is ``val``; EDTalk (+ FaceSR), the 24 ROME-grid fakes (ROME, Bi-Layer,
  first-order-model: matted on white while their drivers keep real backgrounds, a
  shortcut a training run must not see), GPAvatar and Wav2Lip (HD) are ``test``;
  AniPortrait, ATVGnet, StyleTalk and Wav2Lip-288 train. Real-only groups (MEAD emotions,
  DPE, VidTIMIT, interview clips) are spread over the three roles.

``audio`` (real and cloned speech) is split by ``group`` (one speaker's real clips with every
clone of that voice), never by file:

* ``test``: the LJSpeech group whole (its 37 real clips with FastSpeech2, NaturalSpeech,
  Tacotron2 and fine-tuned Tortoise, generators trained on nowhere, and 6 zero-shot Tortoise
  clones), two AISHELL-3 speakers (Mandarin FastSpeech2) and four Tortoise voices (geralt,
  halle, weaver, train_kennard: zero-shot clones of voices never heard in training);
* ``val`` (checkpoint choice, temperature and threshold): four Tortoise voices, two
  real-only voices and two AISHELL-3 speakers;
* ``train``: the other Tortoise voices (zero-shot clones against their references) and six
  AISHELL-3 speakers (Mandarin FastSpeech2 against their real clips). So NaturalSpeech,
  Tacotron2, fine-tuned Tortoise and English FastSpeech2 are held out whole, and every
  test speaker is unheard.

Groups not named below (a dataset that grows) are ``test``: new material is benchmark
material until it is given a role here.
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


# swap-generators: groups (a demo or a tool's target clip) per role; the rest is test
SWAP_GENERATORS_TRAIN = frozenset({
    "roop_preview", "phantom_face6",          # roop / inswapper_128 pairs
    "fsg_maskvis", "fsg_clip4",               # faceswap-GAN pairs (and the raw swap)
    "ljc_trump", "insightface_810", "hollysite_target",  # targets, no fake
})
SWAP_GENERATORS_VAL = frozenset({
    "fsg_maskvisualization",                  # a faceswap-GAN pair
    "fsg_ver1ver2",                           # GAN v1 / v2 panels, no original
    "ljc_obama",
})
# test: roop_demo (roop pair), ljc_johnson (FaceSwap-GAN-Application pair),
# wuhuikai_realtime (landmark warp), rope_target, ljc_biden

TALKING_HEADS_TRAIN = frozenset({
    "g_ap_aragaki", "g_ap_cxk", "g_ap_lyl", "g_ap_zl",  # AniPortrait
    "g_atvg", "g_styletalk_andrew", "g_w288",           # ATVGnet, StyleTalk, Wav2Lip-288
    "g_ap_num18", "g_dpe_d", "g_dpe_s", "g_iplap129", "g_st_KristiNoem",
    "g_vidtimit_fadg0", "g_mead_contempt", "g_mead_disgusted", "g_mead_fear",
    "g_mead_happy",
})
TALKING_HEADS_VAL = frozenset({
    "g_pdfgc",                                          # PD-FGC, held out whole
    "g_mead_sad", "g_mead_surprised", "g_paddle_fomdv",
})
# test: g_edtalk, g_rome, g_gpavatar, g_w2l_kennedy and the real g_obama,
# g_st_feifeili_clip1, g_st_reagan_clip1, g_mead_M030crop

AUDIO_TRAIN = frozenset({
    "tortoise_voice:angie", "tortoise_voice:applejack", "tortoise_voice:deniro",
    "tortoise_voice:freeman", "tortoise_voice:grace_train", "tortoise_voice:jlaw",
    "tortoise_voice:myself", "tortoise_voice:pat", "tortoise_voice:snakes",
    "tortoise_voice:tim_reynolds", "tortoise_voice:train_atkins",
    "tortoise_voice:train_lescault", "tortoise_voice:william",
    "tortoise_voice:henry_cavill", "tortoise_voice:patrick_stewart",
    "tortoise_voice:william_shatner",
    "aishell3:SSB0080", "aishell3:SSB0470", "aishell3:SSB0590", "aishell3:SSB0629",
    "aishell3:SSB0794", "aishell3:SSB0822",
})
AUDIO_VAL = frozenset({
    "tortoise_voice:daniel", "tortoise_voice:emma", "tortoise_voice:tom",
    "tortoise_voice:train_dotrice", "tortoise_voice:mol", "tortoise_voice:rainbow",
    "aishell3:SSB0863", "aishell3:SSB1020",
})
# test: ljspeech:LJ (every generator but zero-shot Tortoise held out whole),
# aishell3:SSB1593, aishell3:SSB1607, tortoise_voice:geralt, :halle, :weaver, :train_kennard

GROUP_ROLES = {
    "swap-generators": (SWAP_GENERATORS_TRAIN, SWAP_GENERATORS_VAL),
    "talking-heads": (TALKING_HEADS_TRAIN, TALKING_HEADS_VAL),
    "audio": (AUDIO_TRAIN, AUDIO_VAL),
}


# The two kinds of fake a rotation reports on (runs 34 and 35, docs/training-log.md): face
# swaps, by the methods' names in the sets' labels; every other method is a talking head,
# lip-sync or reenactment (the person's own face made to say or do something else).
FACE_SWAP = "face swaps"
TALKING_HEAD = "talking heads"
FACE_SWAP_METHODS = frozenset({"roop_inswapper128", "landmark_warp_opencv", "faceswap_gan",
                               "faceswap_gan_raw", "ghost_faceswap", "Deepfakes face swap",
                               "FaceSwap"})


def fake_kind(method: str) -> str:
    """``FACE_SWAP`` or ``TALKING_HEAD``: the kind of fake a labelled method makes."""
    return FACE_SWAP if method in FACE_SWAP_METHODS else TALKING_HEAD


def face_model(group: str) -> str:
    """``Ava_de_Addario_3`` -> ``Ava_de_Addario`` (the fake identity of a live-swap demo)."""
    head, sep, tail = group.rpartition("_")
    return head if sep and tail.isdigit() else group


def role_of(dataset: str, item: Item) -> str:
    """The role of one item of a named dataset folder (``live-swap``, ``videos-real``,
    ``videos``, ``dfdc-crops``, ``swap-generators``, ``talking-heads``, ``audio``); every other
    dataset is ``test`` material."""
    stem = Path(item.path).stem
    if dataset in GROUP_ROLES:
        train, val = GROUP_ROLES[dataset]
        return "train" if item.group in train else "val" if item.group in val else "test"
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
