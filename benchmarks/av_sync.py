"""Experiment (issue #29, item 2): does the mouth move with the soundtrack less in talking
heads, lip-syncs and reenactments than in real talking faces? A cue that needs no fake to
learn from: only how real speakers' lips follow their own voice.

Per clip with a soundtrack (up to 10 s): the largest YuNet face in every frame, the
468-point face mesh, and the inner-lip opening (points 13-14) over the outer eye span
(33-263). The soundtrack's log energy in the speech band (300-3400 Hz) is read in a
window of one frame around each frame's own timestamp. Both series are standardised
and their Pearson correlation is taken with the audio shifted by -0.5 to +0.5 s.

Two sync statistics (higher = more in sync; a fake's should be lower):

* ``peak``: the best correlation at a lag a real speaker shows (|lag| <= 0.2 s);
* ``confidence``: that peak minus the median correlation over all lags (SyncNet's
  "min distance against median distance" idea, on a hand-made feature).

Prints each clip's statistics, per generator the AUC against every real clip with sound,
and each pair (a fake and the real clip of its ``group``) ranked. Exploratory: nothing is
shipped from it, and "has audio" is not a cue (clips without a soundtrack are skipped,
counted, and never scored).

    python benchmarks/av_sync.py ../shared/data [--out runs/av_sync.json]
    python benchmarks/av_sync.py --from-json runs/av_sync.json   # the report again
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import numpy as np

from fakelens.audio.decode import SAMPLE_RATE, decode_audio
from fakelens.audio.vad import speech_segments
from fakelens.config import Settings
from fakelens.errors import FakeLensError
from fakelens.faces.detector import YuNetDetector
from fakelens.faces.mesh import FaceMesh
from fakelens.models import store
from fakelens.training import metrics

FOLDERS = ("videos", "videos-real", "generated-videos", "talking-heads")
MAX_SECONDS = 10.0
MAX_LAG_S, REAL_LAG_S = 0.5, 0.2
UPPER_LIP, LOWER_LIP, EYE_R, EYE_L = 13, 14, 33, 263
BAND_HZ = (300.0, 3400.0)
MIN_SPEECH_S = 1.5  # a soundtrack with less speech than this is not scored


@dataclass
class ClipSync:
    folder: str
    file: str
    label: str
    method: str
    group: str
    frames: int
    speech_s: float
    peak: float
    confidence: float
    lag_s: float


def has_audio(path: Path) -> bool:
    with av.open(str(path)) as container:
        return bool(container.streams.audio)


def mouth_opening(path: Path, det: YuNetDetector, mesh: FaceMesh
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Per decoded frame: its time (s) and the inner-lip opening over the eye span
    (NaN where no face was found)."""
    times, opening = [], []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time is None or frame.time > MAX_SECONDS:
                break
            rgb = frame.to_ndarray(format="rgb24")
            faces = det.detect(rgb)
            value = np.nan
            if faces:
                face = max(faces, key=lambda f: f.box[2] * f.box[3])
                pts = mesh.landmarks(rgb, face.box, face.landmarks)
                span = float(np.linalg.norm(pts[EYE_R] - pts[EYE_L]))
                if span > 1:
                    value = float(np.linalg.norm(pts[UPPER_LIP] - pts[LOWER_LIP])) / span
            times.append(float(frame.time))
            opening.append(value)
    return np.array(times), np.array(opening)


def speech_energy(audio: np.ndarray, times: np.ndarray, frame_s: float) -> np.ndarray:
    """Log speech-band energy of the audio in a window of one frame centred on each time."""
    half = max(int(frame_s * SAMPLE_RATE / 2), 64)
    n_fft = 1 << int(np.ceil(np.log2(2 * half)))
    freqs = np.fft.rfftfreq(n_fft, 1 / SAMPLE_RATE)
    band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
    window = np.hanning(2 * half)
    out = np.full(len(times), np.nan)
    for i, t in enumerate(times):
        c = int(round(t * SAMPLE_RATE))
        if c - half < 0 or c + half > audio.size:
            continue
        spec = np.abs(np.fft.rfft(audio[c - half:c + half] * window, n_fft)) ** 2
        out[i] = np.log(spec[band].sum() + 1e-8)
    return out


def lagged_correlations(video: np.ndarray, audio: np.ndarray, max_lag: int
                        ) -> dict[int, float]:
    """Pearson correlation of video[t] with audio[t + lag] over the frames both have."""
    out = {}
    for lag in range(-max_lag, max_lag + 1):
        a = audio[lag:] if lag >= 0 else audio[:lag]
        v = video[:len(video) - lag] if lag >= 0 else video[-lag:]
        ok = np.isfinite(a) & np.isfinite(v)
        if ok.sum() < 20 or np.std(a[ok]) == 0 or np.std(v[ok]) == 0:
            continue
        out[lag] = float(np.corrcoef(v[ok], a[ok])[0, 1])
    return out


class NoSpeech(FakeLensError):
    pass


def clip_sync(path: Path, det: YuNetDetector, mesh: FaceMesh
              ) -> tuple[int, float, float, float, float]:
    audio = decode_audio(path, max_seconds=MAX_SECONDS + 1)
    speech_s = sum(s.duration_s for s in speech_segments(audio[:int(MAX_SECONDS * SAMPLE_RATE)]))
    if speech_s < MIN_SPEECH_S:
        raise NoSpeech(f"{path.name}: {speech_s:.1f} s of speech")
    times, opening = mouth_opening(path, det, mesh)
    if len(times) < 25:
        raise FakeLensError(f"{path.name}: under 25 frames")
    frame_s = float(np.median(np.diff(times)))
    energy = speech_energy(audio, times, frame_s)
    corr = lagged_correlations(opening, energy, int(round(MAX_LAG_S / frame_s)))
    if not corr:
        raise FakeLensError(f"{path.name}: too few frames with a face and sound")
    real_lags = [k for k in corr if abs(k) * frame_s <= REAL_LAG_S]
    best = max(real_lags, key=corr.get)
    return (int(np.isfinite(opening).sum()), speech_s, corr[best],
            corr[best] - float(np.median(list(corr.values()))), best * frame_s)


def measure(data: Path) -> tuple[list[ClipSync], dict[str, int]]:
    settings = Settings()
    det = YuNetDetector(store.resolve(settings.face_model, settings.model_dir, False),
                        score_threshold=0.6, max_side=settings.detect_max_side,
                        min_face_px=24, max_faces=1)
    mesh = FaceMesh(store.resolve("face_mesh", settings.model_dir, False))
    rows, skipped = [], {"no soundtrack": 0, "no speech": 0, "unreadable": 0}
    for folder in FOLDERS:
        for r in csv.DictReader((data / folder / "labels.csv").open()):
            path = data / folder / r["file"]
            if not has_audio(path):
                skipped["no soundtrack"] += 1
                continue
            try:
                frames, speech_s, peak, confidence, lag = clip_sync(path, det, mesh)
            except NoSpeech as exc:
                print(f"skip {exc}", file=sys.stderr)
                skipped["no speech"] += 1
                continue
            except FakeLensError as exc:
                print(f"skip {exc}", file=sys.stderr)
                skipped["unreadable"] += 1
                continue
            method = "real" if r["label"] == "REAL" else r["method"].split(" ")[0]
            rows.append(ClipSync(folder, r["file"], r["label"], method,
                                 r.get("group") or Path(r["file"]).stem, frames, speech_s, peak,
                                 confidence, lag))
            print(f"{folder:17s} {r['file']:45s} {method:24s} peak {peak:+.3f} "
                  f"conf {confidence:+.3f} lag {lag:+.2f}s", flush=True)
    return rows, skipped


def report(rows: list[ClipSync], skipped: dict[str, int]) -> None:
    reals = [r for r in rows if r.label == "REAL"]
    fakes = [r for r in rows if r.label != "REAL"]
    print(f"\n{len(reals)} real clips and {len(fakes)} fakes with a soundtrack; skipped {skipped}")
    for stat in ("peak", "confidence"):
        real_values = np.array([getattr(r, stat) for r in reals])
        print(f"\n{stat}: real median {np.median(real_values):+.3f}, "
              f"1 in 10 reals below {np.percentile(real_values, 10):+.3f}")
        fake_values = np.array([getattr(r, stat) for r in fakes])
        y = np.r_[np.zeros(len(reals)), np.ones(len(fakes))]
        auc_lo, auc_hi = metrics.bootstrap_ci(metrics.roc_auc, y, -np.r_[real_values, fake_values])
        print(f"  all fakes               n={len(fakes):2d} AUC vs real "
              f"{metrics.roc_auc(y, -np.r_[real_values, fake_values]):.3f} "
              f"[{auc_lo:.3f}, {auc_hi:.3f}]")
        for method in sorted({r.method for r in fakes}):
            f = np.array([getattr(r, stat) for r in fakes if r.method == method])
            y = np.r_[np.zeros(len(reals)), np.ones(len(f))]
            below = int((f < np.percentile(real_values, 10)).sum())
            print(f"  {method:24s} n={len(f):2d} AUC vs real "
                  f"{metrics.roc_auc(y, -np.r_[real_values, f]):.3f}  "
                  f"{below} below the reals' 10th percentile")
    by_group: dict[str, list[ClipSync]] = {}
    for r in rows:
        by_group.setdefault(r.group, []).append(r)
    ranked = total = 0
    for members in by_group.values():
        real = [m for m in members if m.label == "REAL"]
        for fake in (m for m in members if m.label != "REAL"):
            for original in real:
                total += 1
                ranked += fake.confidence < original.confidence
    print(f"\npairs (a fake and a real clip of its group): fake less in sync in "
          f"{ranked} of {total}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, nargs="?", default=Path("../shared/data"))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--from-json", type=Path, help="report a saved --out file again")
    args = parser.parse_args()
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        rows, skipped = [ClipSync(**c) for c in saved["clips"]], saved["skipped"]
    else:
        rows, skipped = measure(args.data)
    report(rows, skipped)
    if args.out:
        args.out.write_text(json.dumps({"skipped": skipped, "clips": [asdict(r) for r in rows]},
                                       indent=1))


if __name__ == "__main__":
    main()
