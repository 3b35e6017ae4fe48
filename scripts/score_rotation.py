"""Score a rotation (runs 25, 26): each fold on the clips it held out, beside the shipped detector.

Every cached clip (one shard of ``runs/cache160/<set>``: 16 evenly spaced frames, 160 px,
1.0x crop, the crops analysis makes) whose group a fold's config holds out is scored by
that fold's fixed checkpoint (``last``: no selection) and by the shipped face-swap
detector on the same crops; DeepFaceLive's test face models (never cached for training)
are scored by both folds. A clip's score is the product's robust mean of its frames'
probabilities. The rule this script applies was fixed in docs/training-log.md (run 25)
before any fold was scored.

    python scripts/score_rotation.py --out docs/eval/rotation-r25
    python scripts/score_rotation.py --folds r26_fold_1 r26_fold_2 r26_fold_3 \
        --out docs/eval/rotation-r26
    python scripts/score_rotation.py --folds r34_fold_1 r34_fold_2 r34_fold_3 \
        --against docs/eval/rotation-r26/rotation.json --out docs/eval/rotation-r34
    python scripts/score_rotation.py --folds r35_fold_1 r35_fold_2 r35_fold_3 \
        --against docs/eval/rotation-r34/rotation.json --out docs/eval/rotation-r35

Folds trained on crops of another scale (run 41: 1.3x) are scored on their own cache
(``--cache runs/cache160-crop1.3``) and v2 on its own crops of the same frames
(``--shipped-cache runs/cache160``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from fakelens.analysis.verdict import robust_mean
from fakelens.models.runtime import load_detector
from fakelens.training import metrics
from fakelens.training.combine import load_trained
from fakelens.training.config import load_config
from fakelens.training.data import to_tensor
from fakelens.training.export import FrameGraph
from fakelens.training.splits import FACE_SWAP, TALKING_HEAD, fake_kind
from fakelens.training.tracks import LABELLED_CLIP_CACHES, load_cached_clips

SEEN = "live-swap-test"  # DeepFaceLive: a generator every fold and v2 trained on


def fold_scorer(run: Path, config: Path):
    """The fold's fixed checkpoint: its last step, as the recipe would ship it (the moving
    average of the weights when the config keeps one)."""
    cfg = load_config(config)
    weights = run / ("last-ema.safetensors" if cfg.ema_decay else "last.safetensors")
    graph = FrameGraph(load_trained(weights, cfg.architecture)).eval()

    def score(crops: np.ndarray) -> float:
        x = torch.stack([to_tensor(c, cfg.input_size) for c in crops])
        with torch.no_grad():
            logits = graph(x)[0].double().numpy()
        return robust_mean(1.0 / (1.0 + np.exp(-logits)))
    return cfg, score


def shipped_scorer(clips: list, shipped_clips: list | None):
    """v2's score of a clip, from its own crops (1.0x) of the clip's frames."""
    detector = load_detector("fakelens-faceswap")
    own = {(c.cache, c.shard): c for c in shipped_clips} if shipped_clips else {}

    def score(clip) -> float:
        crops = own[(clip.cache, clip.shard)].crops if own else clip.crops
        if len(crops) != len(clip.crops):
            raise SystemExit(f"{clip.cache} shard {clip.shard}: {len(clip.crops)} crops, "
                             f"{len(crops)} in the shipped detector's cache")
        return robust_mean(detector.score_frames(list(crops)).probs)
    if own and set(own) != {(c.cache, c.shard) for c in clips}:
        raise SystemExit("the two caches do not hold the same clips")
    return score


def select(rows: list[dict], pred) -> tuple[list, list, list]:
    """Labels, fold scores and v2 scores of the rows ``pred`` keeps."""
    sel = [r for r in rows if pred(r)]
    return ([r["label"] for r in sel], [r["fold_score"] for r in sel],
            [r["v2_score"] for r in sel])


def auc_block(y, a, b, seed: int = 0) -> dict:
    y, a, b = np.asarray(y), np.asarray(a), np.asarray(b)
    out = {"fakes": int(y.sum()), "reals": int((y == 0).sum())}
    if not out["fakes"] or not out["reals"]:
        return out
    d, lo, hi = metrics.paired_bootstrap_difference(metrics.roc_auc, y, a, b, seed=seed)
    out.update(fold_auc=metrics.roc_auc(y, a), v2_auc=metrics.roc_auc(y, b),
               fold_ci=metrics.bootstrap_ci(metrics.roc_auc, y, a, seed=seed),
               v2_ci=metrics.bootstrap_ci(metrics.roc_auc, y, b, seed=seed),
               difference=[d, lo, hi])
    return out


def against_earlier(rows: list[dict], earlier: Path, folds: list[str]) -> dict:
    """This rotation's folds against an earlier rotation's folds of the same held-out groups
    (fold by fold, in order), paired on the same clips (cache and shard) from its saved
    scores: the AUC difference on the unseen generators, and its mean over the folds; the
    same again for each kind of fake (its unseen fakes against the fold's real clips)."""
    saved = json.loads(earlier.read_text())
    old_folds = list(saved["report"]["folds"])
    if len(old_folds) != len(folds):
        raise SystemExit(f"{earlier} has {len(old_folds)} folds, this rotation {len(folds)}")
    out, paired = {"rotation": str(earlier), "folds": {}}, []
    for fold, old in zip(folds, old_folds, strict=True):
        before = {(r["cache"], r["shard"]): r["fold_score"] for r in saved["clips"]
                  if r["fold"] == old and r["cache"] != SEEN}
        mine = [r for r in rows if r["fold"] == fold and r["cache"] != SEEN]
        if {(r["cache"], r["shard"]) for r in mine} != set(before):
            raise SystemExit(f"{fold} and {old} did not hold out the same clips")
        paired.append((np.asarray([r["label"] for r in mine]),
                       np.asarray([r["fold_score"] for r in mine]),
                       np.asarray([before[(r["cache"], r["shard"])] for r in mine]),
                       np.asarray([fake_kind(r["method"]) if r["label"] else "" for r in mine])))
        block = auc_block(*paired[-1][:3])
        out["folds"][fold] = {"earlier_fold": old, "auc": block.get("fold_auc"),
                              "earlier_auc": block.get("v2_auc"),
                              "difference": block.get("difference")}
    out["mean_difference"] = mean_difference([p[:3] for p in paired])
    out["by_kind"] = {kind: _kind_against(paired, folds, kind)
                      for kind in (FACE_SWAP, TALKING_HEAD)}
    return out


def _kind_against(paired: list, folds: list[str], kind: str) -> dict:
    """One kind's paired comparison: each fold's AUC of its unseen fakes of ``kind``
    against its real clips, both rotations, and the mean difference over the folds that
    hold out fakes of that kind."""
    per_fold, kept = {}, []
    for fold, (y, a, b, kinds) in zip(folds, paired, strict=True):
        keep = (y == 0) | (kinds == kind)
        if not y[keep].any():
            continue
        kept.append((y[keep], a[keep], b[keep]))
        per_fold[fold] = {"fakes": int(y[keep].sum()), "auc": metrics.roc_auc(*kept[-1][:2]),
                          "earlier_auc": metrics.roc_auc(kept[-1][0], kept[-1][2])}
    if not kept:
        return {"folds": {}}
    return {"folds": per_fold,
            "mean_auc": float(np.mean([f["auc"] for f in per_fold.values()])),
            "earlier_mean_auc": float(np.mean([f["earlier_auc"] for f in per_fold.values()])),
            "mean_difference": mean_difference(kept)}


def mean_difference(folds: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n: int = 2000,
                    seed: int = 0) -> list[float]:
    """The folds' mean AUC difference (fold model minus v2) with a percentile interval:
    each fold's clips resampled within the fold, stratified by label."""
    def diff(y, a, b):
        return metrics.roc_auc(y, a) - metrics.roc_auc(y, b)
    point = float(np.mean([diff(*f) for f in folds]))
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n):
        per_fold = []
        for y, a, b in folds:
            pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
            idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
            per_fold.append(diff(y[idx], a[idx], b[idx]))
        values.append(np.mean(per_fold))
    return [point, float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path("runs/cache160"))
    ap.add_argument("--shipped-cache", type=Path, help="the same clips cut as v2 cuts them "
                    "(1.0x), when --cache holds crops of another scale")
    ap.add_argument("--configs", type=Path, default=Path("src/fakelens/training/configs"))
    ap.add_argument("--runs", type=Path, default=Path("runs"))
    ap.add_argument("--folds", nargs="+", default=["r25_fold_a", "r25_fold_b"],
                    help="the folds' names: configs faceswap_<name>.yaml, runs runs/<name>")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--against", type=Path, help="an earlier rotation's rotation.json with "
                    "the same held-out groups: its fold scores beside these, on the same "
                    "clips (reported; the rule does not use it)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    clips = load_cached_clips(args.cache, LABELLED_CLIP_CACHES)
    v2 = shipped_scorer(clips, args.shipped_cache
                        and load_cached_clips(args.shipped_cache, LABELLED_CLIP_CACHES))
    rows, report = [], {"folds": {}}
    unseen = []
    for fold in args.folds:
        cfg, score = fold_scorer(args.runs / fold, args.configs / f"faceswap_{fold}.yaml")
        held = set(cfg.data.holdout_groups)
        mine = [c for c in clips if c.cache == SEEN or c.group in held]
        for c in mine:
            rows.append({"fold": fold, "cache": c.cache, "shard": c.shard, "group": c.group,
                         "label": c.label, "method": c.method, "frames": len(c.crops),
                         "fold_score": score(c.crops), "v2_score": v2(c)})
        fold_rows = [r for r in rows if r["fold"] == fold]

        def view(pred, fold_rows=fold_rows):
            return select(fold_rows, pred)
        unseen_view = view(lambda r: r["cache"] != SEEN)
        unseen.append(tuple(np.asarray(v) for v in unseen_view))
        block = {"unseen_generators": auc_block(*unseen_view),
                 "deepfacelive_test": auc_block(*view(lambda r: r["cache"] == SEEN)),
                 "per_generator": {}}
        for method in sorted({r["method"] for r in fold_rows if r["label"] == 1
                              and r["cache"] != SEEN}):
            block["per_generator"][method] = auc_block(*view(
                lambda r, m=method: r["cache"] != SEEN and (r["label"] == 0 or
                                                            r["method"] == m)))
        reals = [r for r in fold_rows if r["label"] == 0]
        block["reals_at_half"] = {"fold": sum(r["fold_score"] >= 0.5 for r in reals),
                                  "v2": sum(r["v2_score"] >= 0.5 for r in reals),
                                  "of": len(reals)}
        report["folds"][fold] = block
    report["mean_difference_unseen"] = mean_difference(unseen)
    per_fold = [report["folds"][f]["unseen_generators"]["difference"][0] for f in args.folds]
    report["rule"] = {"each_fold_at_least_v2": all(d >= 0 for d in per_fold),
                      "mean_difference_ci_above_zero": report["mean_difference_unseen"][1] > 0}
    report["rule"]["passes"] = all(report["rule"].values())
    if args.against:
        report["against"] = against_earlier(rows, args.against, args.folds)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "rotation.json").write_text(json.dumps({"report": report, "clips": rows},
                                                       indent=1, default=float))
    (args.out / "rotation.md").write_text(to_markdown(report))
    print(to_markdown(report))


def _f(x) -> str:
    return "-" if x is None else f"{x:.3f}"


def to_markdown(report: dict) -> str:
    lines = ["# Leave-generators-out rotation (fold model against v2, same frames)", "",
             "| fold | view | fakes / reals | fold AUC [95% CI] | v2 AUC [95% CI] | "
             "difference [95% CI] |", "|---|---|---|---|---|---|"]
    for fold, block in report["folds"].items():
        views = [("unseen generators", block["unseen_generators"]),
                 ("DeepFaceLive, test face models", block["deepfacelive_test"])]
        views += [(f"· {m}", b) for m, b in block["per_generator"].items()]
        for name, b in views:
            if "fold_auc" not in b:
                continue
            d = b["difference"]
            lines.append(f"| {fold} | {name} | {b['fakes']} / {b['reals']} | "
                         f"{_f(b['fold_auc'])} [{_f(b['fold_ci'][0])}, {_f(b['fold_ci'][1])}] | "
                         f"{_f(b['v2_auc'])} [{_f(b['v2_ci'][0])}, {_f(b['v2_ci'][1])}] | "
                         f"{d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}] |")
    m = report["mean_difference_unseen"]
    lines += ["", f"Mean over folds of the difference on unseen generators: **{m[0]:+.3f} "
              f"[{m[1]:+.3f}, {m[2]:+.3f}]**.", ""]
    for fold, block in report["folds"].items():
        r = block["reals_at_half"]
        lines.append(f"- fold {fold}: real clips scored >= 0.5 (uncalibrated fold model / "
                     f"calibrated v2): {r['fold']} / {r['v2']} of {r['of']}")
    if "against" in report:
        a = report["against"]
        lines += ["", f"Against the earlier rotation `{a['rotation']}` (its fold models' saved "
                  "scores, the same clips; reported, not in the rule):", ""]
        for fold, b in a["folds"].items():
            d = b["difference"]
            lines.append(f"- {fold} against {b['earlier_fold']}: {_f(b['auc'])} against "
                         f"{_f(b['earlier_auc'])}, difference {d[0]:+.3f} "
                         f"[{d[1]:+.3f}, {d[2]:+.3f}]")
        m = a["mean_difference"]
        lines.append(f"- mean over folds: {m[0]:+.3f} [{m[1]:+.3f}, {m[2]:+.3f}]")
        for kind, k in a.get("by_kind", {}).items():
            if "mean_difference" not in k:
                continue
            m = k["mean_difference"]
            folds = ", ".join(f"{_f(f['auc'])} against {_f(f['earlier_auc'])} "
                              f"({f['fakes']} fakes)" for f in k["folds"].values())
            lines.append(f"- {kind}, mean of the folds' AUCs: {_f(k['mean_auc'])} against "
                         f"{_f(k['earlier_mean_auc'])} (folds: {folds}); mean difference "
                         f"{m[0]:+.3f} [{m[1]:+.3f}, {m[2]:+.3f}]")
    rule = report["rule"]
    lines += ["", f"Rule: each fold at least v2: {rule['each_fold_at_least_v2']}; mean "
              f"difference interval above zero: {rule['mean_difference_ci_above_zero']}; "
              f"**passes: {rule['passes']}**", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
