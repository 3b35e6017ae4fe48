"""Copy the measured accuracy from docs/eval (the quality benchmark's suite.json and the
per-set eval.json reports) into the shipped model configs
(`metrics_by_media`, per kind of media: shown by `fakelens models list`, /about and beside
every result of that kind, on the page, in reports and by the CLI), the kinds of
deepfakes the face-swap detector often misses per kind of media (`missed_by_media`, shown
beside the verdicts of that kind), the real media each detector is known to flag
(`false_alarms_by_media`, shown beside the verdicts it pushed up) and the
uncertain band's calibrated lower edge (`uncertain_from`).

    python scripts/record_metrics.py      # after scripts/evaluate_models.sh
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "docs" / "eval"
QP40_SUITE = EVAL / "suite-qp40" / "suite.json"  # the benchmark on the QP 40 mirror
WEIGHTS = ROOT / "src" / "fakelens" / "weights"
# Since E8 (2026-12-06, docs/training-log.md) videos and photos have their own face-swap
# detector: for videos E8 (run 27), since E9 (2026-12-07) the ensemble of runs 28 and 31,
# since E10 (2026-12-07) that of run 42's two seeds at 1.3x crops, since E11 (2026-12-08)
# that of run 47's two seeds (E10's recipe with H.264 among the degradations); v2 for
# photos (its uncertain band's edge stays v2's)
VIDEO, PHOTO = "fakelens-faceswap-video", "fakelens-faceswap"

# Every figure is recorded per kind of media (`metrics_by_media`: video, image): a result
# shows the figures of the kind it analysed, never the other kind's.

# (detector, media, eval folder, label in the card): AUC from the per-set reports
ENTRIES = [
    ("fakelens-synthetic", "image", "gan-heldout-synthetic",
     "AUC, held-out StyleGAN2 vs real stills"),
    ("fakelens-faceswap", "image", "dfdc-validation-faceswap",
     "AUC, DFDC face crops (stills never trained or selected on)"),
]
# (detector, media, eval folder, label): the fakes of a per-set report caught at the
# shipped rule (Likely manipulated or Uncertain), with a Wilson interval
CAUGHT_ENTRIES = [
    ("fakelens-faceswap", "image", "dfdc-validation-faceswap",
     "DFDC fake crops caught (Likely manipulated or Uncertain)"),
]
# (detector, media, eval folder, label): the real media of a per-set report called Likely
# manipulated at the shipped rule, with a Wilson interval, and how many Uncertain
REAL_ENTRIES = [
    ("fakelens-faceswap", "image", "gan-heldout-faceswap",
     "real photos never trained or calibrated on, called Likely manipulated"),
    ("fakelens-faceswap", "image", "dfdc-validation-faceswap",
     "real DFDC crops called Likely manipulated"),
    ("fakelens-synthetic", "image", "gan-heldout-synthetic",
     "held-out real photos called Likely manipulated"),
]
# (detector, media, benchmark set, label in the card) from the quality benchmark (suite.json)
SUITE_ENTRIES = [
    (VIDEO, "video", "live-swap-heldout",
     "video AUC, live face swaps of 5 face models it never trained on vs their originals"),
]
# (detector, benchmark sets, label): real clips of the benchmark called FAKE
SUITE_REAL_ENTRIES = [
    (VIDEO, ("live-swap-heldout",),
     "originals of those live swaps called Likely manipulated"),
]


def _interval(auc: float, ci: list[float], n: int) -> str:
    return f"{auc:.3f} [{ci[0]:.3f}, {ci[1]:.3f}] (n={n})"


def _share(k: int, n: int, rest: str = "") -> str:
    from fakelens.training.metrics import proportion_ci

    lo, hi = proportion_ci(k, n)
    return f"{k} of {n} [{lo:.2f}, {hi:.2f}]{rest}"


def _verdicts(folder: str, label: int) -> list[str]:
    """The verdicts of one class of a per-set report (media without a face left out)."""
    report = json.loads((EVAL / folder / "eval.json").read_text())
    return [x["verdict"] for x in report["items"] if x["label"] == label
            and x["fakelens_score"] is not None]


def figures() -> dict[str, dict[str, dict[str, str]]]:
    """detector -> media kind -> label -> figure, from docs/eval."""
    cards: dict[str, dict[str, dict[str, str]]] = {}

    def put(name: str, media: str, label: str, figure: str) -> None:
        cards.setdefault(name, {}).setdefault(media, {})[label] = figure

    suite = json.loads((EVAL / "suite" / "suite.json").read_text())
    for name, media, set_name, label in SUITE_ENTRIES:
        b = suite["sets"][set_name]["versions"]["current"]
        put(name, media, label, _interval(b["auc"], b["auc_ci95"], b["n_scored"]))
    for name, sets, label in SUITE_REAL_ENTRIES:
        blocks = [suite["sets"][s]["versions"]["current"] for s in sets]
        put(name, "video", label, _share(sum(b["real_flagged_fake"] for b in blocks),
                                         sum(b["n_real"] for b in blocks)))
    pooled = suite["differences"]["sets"]["all videos (pooled)"]
    put(VIDEO, "video", "video AUC, all benchmark videos pooled: most are clips of the public "
        "generators it trained on, so this shows what it learned, not a test",
        f"{pooled['auc']['current']:.3f} (n={pooled['clips']})")
    for name, media, folder, label in ENTRIES:
        b = json.loads((EVAL / folder / "eval.json").read_text())["video_fakelens_score"]
        put(name, media, label, _interval(b["auc"], b["auc_ci95"], b["n"]))
    for name, media, folder, label in CAUGHT_ENTRIES:
        v = _verdicts(folder, 1)
        put(name, media, label, _share(sum(x in ("FAKE", "UNCERTAIN") for x in v), len(v),
                                       f"; {v.count('FAKE')} called Likely manipulated"))
    for name, media, folder, label in REAL_ENTRIES:
        v = _verdicts(folder, 0)
        put(name, media, label, _share(v.count("FAKE"), len(v),
                                       f"; {v.count('UNCERTAIN')} more called Uncertain"))
    return cards


def main() -> None:
    suite = json.loads((EVAL / "suite" / "suite.json").read_text())
    extra = {VIDEO: {"missed_by_media": {"video": missed_on_video(suite, ROTATION)},
                     "uncertain_from": _uncertain_from(suite, compressed_suite())},
             PHOTO: {"missed_by_media": missed_by_media(),
                     "false_alarms_by_media": video_frame_false_alarms(PHOTO)},
             "fakelens-synthetic": {"false_alarms_by_media":
                                    video_frame_false_alarms("fakelens-synthetic")}}
    for name, by_media in figures().items():
        path = WEIGHTS / f"{name}.json"
        config = json.loads(path.read_text())
        config.pop("metrics", None)  # one list of unnamed media: older cards only
        if "missed_by_media" in extra.get(name, {}) or not config.get("missed"):
            config.pop("missed", None)  # likewise
        config["metrics_by_media"] = by_media
        config.update(extra.get(name, {}))
        path.write_text(json.dumps(config, indent=1) + "\n")
        print(name, by_media, extra.get(name, {}))


# The video detector trained on every public generator but the ROME grid's (ROME,
# Bi-Layer, first-order-model: the talking-heads test role, which no run trains on), so its
# talking-head blind spot is measured on those fakes against the set's real clips
GRID_METHODS = ("rome", "bilayer_neural_avatars", "first_order_model")
TALKING_HEADS = ("Talking heads, lip-sync and face reenactment by generators it never "
                 "trained on (the person's own face made to say or do something else; lips "
                 "that match the sound are no sign of a real video)")


# (per-set report, the kind of deepfake in words) that the face-swap detector often misses
# in still photos: measured on stills, shown beside a photo's verdict
MISSED_STILLS = [
    ("dfdc-validation-faceswap", "Face swaps in still photos (DFDC: a face swapped into a "
                                 "video frame, saved as a photo)"),
]


# (set, generator, the kind of deepfake in words): stills of the swap tools' held-out clips
# (benchmarks/swap_stills.py, docs/eval/swap-stills.json, test view) that the shipped
# detectors cannot tell from the stills of the fakes' own originals
MISSED_SWAP_STILLS = [
    ("swap-generators", "roop_inswapper128", "Face swaps of roop, FaceFusion and "
     "Deep-Live-Cam (inswapper_128) in still photos (frames saved as photos)"),
    ("swap-generators", "faceswap_gan", "faceswap-GAN face swaps in still photos (frames "
                                        "saved as photos)"),
    ("live-swap", "deepfacelive_faceswap", "DeepFaceLive live face swaps in still photos "
                                           "(frames saved as photos)"),
]


def missed_by_media() -> dict[str, dict[str, str]]:
    """What the photo face-swap detector (v2) often misses in still photos: the per-set
    still reports and the swap tools' stills."""
    stills = {}
    for folder, words in MISSED_STILLS:
        report = json.loads((EVAL / folder / "eval.json").read_text())
        b, v = report["video_fakelens_score"], _verdicts(folder, 1)
        stills[words] = (f"on {len(v)} public examples AUC {b['auc']:.2f} "
                         f"[{b['auc_ci95'][0]:.2f}, {b['auc_ci95'][1]:.2f}], "
                         f"{v.count('FAKE')} called Likely manipulated, "
                         f"{v.count('REAL')} called no sign")
    return {"image": {**stills, **_missed_swap_stills()}}


def _missed_swap_stills() -> dict[str, str]:
    """From docs/eval/swap-stills.json (test view): AUC against the fakes' own originals,
    the fakes' verdicts and the originals' false alarms."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "swap_stills", ROOT / "benchmarks" / "swap_stills.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows = json.loads((EVAL / "swap-stills.json").read_text())["stills"]
    out = {}
    for set_name, method, words in MISSED_SWAP_STILLS:
        block = next(b for b in bench.generator_rows(rows, set_name, "test")
                     if b["method"] == method)
        s, auc = bench.summary(block), bench.auc_interval(block)
        clips = f"{s['clips']} public clip{'s' if s['clips'] > 1 else ''}"
        out[words] = (f"on {s['n_fake']} stills of {clips}, AUC {auc[0]:.2f} "
                      f"[{auc[1]:.2f}, {auc[2]:.2f}] against their originals' stills, "
                      f"{s['fake_called_fake']} called Likely manipulated, "
                      f"{s['fake_no_sign']} called no sign; the originals' stills: "
                      f"{s['real_called_fake']} of {s['n_real']} called Likely manipulated")
    return out


# Both detectors' false alarms on real video frames saved as photos are measured on the
# stills of benchmarks/video_frame_stills.py (both views, the shipped detectors: 3 frames per
# real clip of no GAN-face training role), leaving out the clips each detector trained on
# (the GAN-face detector v2 trained on none of them; the face-swap detector on 5 dev clips)
VIDEO_FRAME_STILLS = ("synthetic-v2/frames-v2.json", "synthetic-v2/replication-v2.json")
VIDEO_FRAMES = ("Real frames of videos saved as photos (screenshots, video-call captures, "
                "stills of phone and news clips)")


def video_frame_false_alarms(name: str) -> dict[str, dict[str, str]]:
    """How many real video frames saved as photos the detector ``name`` scores at or
    above its threshold (its own false alarms; the verdicts are in docs/MODELS.md)."""
    from fakelens.training.splits import DEV_VIDEOS_TRAIN

    trained = DEV_VIDEOS_TRAIN if name == PHOTO else frozenset()
    rows = [r for f in VIDEO_FRAME_STILLS for r in json.loads((EVAL / f).read_text())
            if r["label"] == 0 and name in r["models"]
            and not (r["set"] == "videos" and r["file"].rsplit(".", 1)[0] in trained)]
    threshold = json.loads((WEIGHTS / f"{name}.json").read_text())["threshold"]
    high = sum(r["models"][name] >= threshold for r in rows)
    clips = len({(r["set"], r["file"]) for r in rows})
    return {"image": {VIDEO_FRAMES: f"it scored {high} of {len(rows)} such frames of {clips} "
                                    "real public clips it never trained on at or above its "
                                    "threshold"}}


def missed_on_video(suite: dict, rotation: Path | None = None) -> dict[str, str]:
    """The video detector's blind spots. Talking heads: the ROME grid's fakes against the
    talking-heads set's real clips, before any widening of the uncertain band, and how many
    of those fakes it calls Likely manipulated and how many "no sign" (as for photos). Then
    each kind of fake whose leave-generators-out figure (``rotation``, run 34's rule in
    docs/training-log.md) is under ROTATION_LINE: listed, or its line extended, with it."""
    fakes = _scored(suite, "talking-heads", 1, GRID_METHODS)
    auc, (lo, hi) = grid_auc(suite)
    called = sum(x["verdict"] == "FAKE" for x in fakes)
    no_sign = sum(x["verdict"] == "REAL" for x in fakes)
    out = {TALKING_HEADS: f"on {len(fakes)} public examples AUC {auc:.2f} [{lo:.2f}, "
                          f"{hi:.2f}], {called} called Likely manipulated, "
                          f"{no_sign} called no sign"}
    if rotation is None or not rotation.is_file():
        return out
    for kind, (mean, per_fold, n_fakes) in rotation_by_kind(rotation).items():
        if mean >= ROTATION_LINE:
            continue
        folds = ", ".join(f"{x:.2f}" for x in per_fold)
        figure = (f"in a leave-generators-out test of its recipe, where each of "
                  f"{len(per_fold)} single models was scored on generators it never trained "
                  f"on: mean AUC {mean:.2f} over the folds ({folds}; {n_fakes} fake clips), "
                  f"the shipped detector averaging two models trained longer")
        if kind == TALKING_HEADS:
            out[kind] += f"; {figure}"
        else:
            out[kind] = figure
    return out


# Run 46 (docs/training-log.md): the shipped recipe's crop and degradations (1.3x, H.264
# among them: E11) in run 34's leave-generators-out rotation; a kind of fake whose mean fold
# AUC is under the line is a blind spot beside every video
ROTATION = EVAL / "rotation-r46" / "rotation.json"
ROTATION_LINE = 0.70
SWAPS = ("Face swaps by tools it never trained on (another person's face put over the "
         "original by tools other than the ones it learned: inswapper-based roop, FaceFusion "
         "and Deep-Live-Cam, DeepFaceLive, faceswap-GAN, GHOST, the FaceForensics++ swaps)")


def rotation_by_kind(path: Path) -> dict[str, tuple[float, list[float], int]]:
    """Per kind of fake (face swaps, talking heads): the mean over a rotation's folds of
    each fold's AUC of its unseen fakes of that kind against its own held-out real clips
    (each fold model on its own score scale), the folds' AUCs, and the fakes counted."""
    from fakelens.training import metrics
    from fakelens.training.splits import FACE_SWAP, TALKING_HEAD, fake_kind

    rows = [r for r in json.loads(path.read_text())["clips"] if r["cache"] != "live-swap-test"]
    out = {}
    for kind, words in ((FACE_SWAP, SWAPS), (TALKING_HEAD, TALKING_HEADS)):
        aucs, n_fakes = [], 0
        for fold in dict.fromkeys(r["fold"] for r in rows):
            mine = [r for r in rows if r["fold"] == fold
                    and (r["label"] == 0 or fake_kind(r["method"]) == kind)]
            fakes = sum(r["label"] for r in mine)
            if not fakes:
                continue
            aucs.append(metrics.roc_auc([r["label"] for r in mine],
                                        [r["fold_score"] for r in mine]))
            n_fakes += fakes
        if aucs:
            out[words] = (sum(aucs) / len(aucs), aucs, n_fakes)
    return out


def grid_auc(suite: dict, version: str = "current") -> tuple[float, tuple[float, float]]:
    """AUC (with its bootstrap interval) of the ROME grid's fakes against the
    talking-heads set's real clips, for one version of a suite run."""
    from fakelens.training import metrics

    fakes = [x["score"] for x in _scored(suite, "talking-heads", 1, GRID_METHODS, version)]
    reals = [x["score"] for x in _scored(suite, "talking-heads", 0, version=version)]
    labels, scores = [0] * len(reals) + [1] * len(fakes), reals + fakes
    return metrics.roc_auc(labels, scores), metrics.bootstrap_ci(metrics.roc_auc, labels, scores)


def _uncertain_from(suite: dict, compressed: dict | None = None) -> float | None:
    """The video detector's uncertain band edge: the one that keeps half the fakes of the
    generators it never trained on (DeepFaceLive's test face models, the ROME grid) out
    of "no sign" (scores, not verdicts: the edge does not move them), as they are and,
    given the benchmark on the QP 40 mirror (``compressed``), re-encoded at QP 40 too:
    since E10 a stricter calibration left half those fakes in "no sign" once re-encoded."""
    sets = {}
    for suffix, run in (("", suite), (" at QP 40", compressed)):
        if run is not None:
            sets[f"live-swap-heldout{suffix}"] = [
                x["score"] for x in _scored(run, "live-swap-heldout", 1)]
            sets[f"ROME grid{suffix}"] = [
                x["score"] for x in _scored(run, "talking-heads", 1, GRID_METHODS)]
    from fakelens.training.calibrate import uncertain_edge

    return uncertain_edge(sets)


def compressed_suite() -> dict | None:
    """The shipped detectors' benchmark run on the QP 40 mirror (scripts/evaluate_models.sh),
    when it has been run."""
    return json.loads(QP40_SUITE.read_text()) if QP40_SUITE.is_file() else None


def _scored(suite: dict, set_name: str, label: int, methods: tuple[str, ...] | None = None,
            version: str = "current") -> list[dict]:
    """One version's scored items of one label (and generators) of a suite set."""
    return [x for x in suite["sets"][set_name]["versions"][version]["items"]
            if x["label"] == label and x["score"] is not None
            and (methods is None or x["method"] in methods)]


if __name__ == "__main__":
    main()
