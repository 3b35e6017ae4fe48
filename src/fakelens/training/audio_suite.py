"""``fakelens eval --suite audio``: the voice detector's quality benchmark.

Scores the ``test`` role of ``data/audio`` (``training/splits.py``: unheard speakers, and
generators never trained on) through the product's own ``analyze()`` path, three ways:

* ``as-is``: the clips as published (16 kHz FLAC);
* ``phone``: a phone call: resampled to 8 kHz, band-limited to 300-3,400 Hz, encoded as
  12 kbps narrow-band Opus (Ogg), then read back like any upload;
* ``mp3-64k``: re-encoded as 64 kbps MP3.

The re-encoded files are made with PyAV into a cache folder (``OUT/media``), once, the
same bytes on every run for the same input. Per set: the AUC of the voice score with a
bootstrap interval, per generator the AUC against the set's real clips, real clips called
FAKE, fakes caught (FAKE or UNCERTAIN), NO_SPEECH counts. Generators of the test role that
no training clip comes from are named in the report (a leave-generator-out view).

``--baseline-aasist`` (or ``aasist=PATH``) scores AASIST (Jung et al., ICASSP 2022,
trained on ASVspoof 2019 LA) on the same files beside it: the first 64,600 samples,
repeat-padded, spoof = class 0, at 0.5 (no uncertain band; no speech detection).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from fakelens.errors import FakeLensError
from fakelens.training import metrics
from fakelens.training.datasets import Item, labelled_folder
from fakelens.training.splits import role_of
from fakelens.training.suite import share, write_report

SR = 16_000
PHONE_RATE = 8_000
PHONE_BAND = (300.0, 3400.0)
PHONE_BIT_RATE = 12_000
MP3_BIT_RATE = 64_000
RECIPE = 1  # bump when an encoding changes: cached files are rebuilt
CURRENT = "fakelens-voice"
AASIST = "AASIST"


@dataclass(frozen=True)
class AudioSet:
    name: str
    suffix: str
    description: str


AUDIO_SETS = (
    AudioSet("as-is", "", "the test clips as published (16 kHz mono FLAC)"),
    AudioSet("phone", ".ogg", "phone-call audio: 8 kHz, 300-3,400 Hz, 12 kbps Opus (Ogg)"),
    AudioSet("mp3-64k", ".mp3", "re-encoded as 64 kbps MP3 (16 kHz mono)"),
)


# -- re-encoding ----------------------------------------------------------------------


def read_audio(path: Path, rate: int = SR) -> np.ndarray:
    """A whole (short) file as float32 mono at ``rate``."""
    from fakelens.audio.decode import AudioReader

    reader = AudioReader(path, rate)
    pieces = list(reader)
    return np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, np.float32)


def band_limit(audio: np.ndarray, rate: int, low: float, high: float) -> np.ndarray:
    spec = np.fft.rfft(audio.astype(np.float64))
    freqs = np.fft.rfftfreq(audio.size, 1 / rate)
    spec[(freqs < low) | (freqs > high)] = 0
    return np.fft.irfft(spec, n=audio.size).astype(np.float32)


def _encode(audio: np.ndarray, rate: int, dst: Path, *, fmt: str, codec: str,
            bit_rate: int) -> None:
    """``audio`` (float32 mono at ``rate``, the encoder's own rate) into ``dst``.
    Written to a temporary name first: an interrupted run leaves no half file."""
    tmp = dst.with_name(dst.name + ".part")
    # bitexact: no random Ogg serial number, no library version in the header
    with av.open(str(tmp), "w", format=fmt, options={"fflags": "+bitexact"}) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.bit_rate = bit_rate
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.clip(audio, -1, 1).astype(np.float32)[None],
                                           format="flt", layout="mono")
        frame.sample_rate = rate
        frame.pts = 0
        resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=rate,
                                      frame_size=stream.frame_size or None)
        for f in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    tmp.replace(dst)


def to_phone(src: Path, dst: Path) -> Path:
    """A phone call's version of ``src``: 8 kHz, 300-3,400 Hz, 12 kbps Opus in Ogg."""
    audio = band_limit(read_audio(src, PHONE_RATE), PHONE_RATE, *PHONE_BAND)
    _encode(audio, PHONE_RATE, dst, fmt="ogg", codec="libopus", bit_rate=PHONE_BIT_RATE)
    return dst


def to_mp3(src: Path, dst: Path, bit_rate: int = MP3_BIT_RATE) -> Path:
    """``src`` as a 16 kHz mono MP3 at ``bit_rate``."""
    _encode(read_audio(src, SR), SR, dst, fmt="mp3", codec="libmp3lame", bit_rate=bit_rate)
    return dst


ENCODERS = {"phone": to_phone, "mp3-64k": to_mp3}


def set_files(entry: AudioSet, items: list[Item], cache: Path) -> list[Path]:
    """The files of one set: the originals, or their re-encoded copies (made when
    missing) in ``cache/NAME-rRECIPE/``."""
    if entry.name not in ENCODERS:
        return [Path(i.path) for i in items]
    folder = cache / f"{entry.name}-r{RECIPE}"
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for item in items:
        dst = folder / (Path(item.path).stem + entry.suffix)
        if not dst.exists():
            ENCODERS[entry.name](Path(item.path), dst)
        out.append(dst)
    return out


# -- scoring ---------------------------------------------------------------------------


def score_voice(files: list[Path]) -> list[tuple[float | None, str]]:
    """(voice score, media verdict) of each file through ``fakelens.analyze``."""
    from fakelens.analysis.pipeline import analyze

    out: list[tuple[float | None, str]] = []
    for path in files:
        try:
            a = analyze(path)
        except FakeLensError as exc:
            out.append((None, f"ERROR: {exc}"))
            continue
        score = a.audio.score if a.audio is not None else None
        out.append((score, a.verdict.value))
    return out


def score_aasist_files(files: list[Path], weights: Path) -> list[tuple[float | None, str]]:
    """AASIST's spoof probability of each file, called FAKE at 0.5 (no band)."""
    from fakelens.models.architectures.aasist import load_aasist, score_waveforms

    model = load_aasist(weights)
    scores = score_waveforms(model, [read_audio(p, SR) for p in files])
    return [(float(s), "FAKE" if s >= 0.5 else "REAL") for s in scores]


def summarise(items: list[Item], scored: list[tuple[float | None, str]],
              n_boot: int = 1000) -> dict:
    ok = [(i, s, v) for i, (s, v) in zip(items, scored, strict=True) if s is not None]
    y = np.array([i.label for i, _, _ in ok], dtype=int)
    score = np.array([s for _, s, _ in ok], dtype=float)
    verdicts = np.array([v for _, _, v in ok], dtype=object)
    methods = np.array([i.method for i, _, _ in ok], dtype=object)
    reals, fakes = y == 0, y == 1
    caught = np.isin(verdicts, ("FAKE", "UNCERTAIN"))
    out: dict = {
        "n": len(items), "n_scored": len(ok), "n_fake": int(fakes.sum()),
        "n_real": int(reals.sum()),
        "no_speech": sum(v == "NO_SPEECH" for _, v in scored),
        "not_scored": [{"file": Path(i.path).name, "reason": v}
                       for i, (s, v) in zip(items, scored, strict=True) if s is None],
        "real_flagged_fake": int((verdicts[reals] == "FAKE").sum()),
        "real_uncertain": int((verdicts[reals] == "UNCERTAIN").sum()),
        "fake_called_fake": int((verdicts[fakes] == "FAKE").sum()),
        "fake_caught": int(caught[fakes].sum()),
    }
    if fakes.any():
        out["fake_caught_ci95"] = list(metrics.proportion_ci(out["fake_caught"],
                                                             out["n_fake"]))
    if reals.any() and fakes.any():
        out["auc"] = metrics.roc_auc(y, score)
        out["auc_ci95"] = list(metrics.bootstrap_ci(metrics.roc_auc, y, score, n=n_boot))
    out["per_method"] = {}
    for m in sorted(set(methods[fakes])):
        mine = fakes & (methods == m)
        block = {"n_fake": int(mine.sum()), "caught": int(caught[mine].sum()),
                 "called_fake": int((verdicts[mine] == "FAKE").sum())}
        versus = mine | reals
        if reals.any():
            block["auc_vs_reals"] = metrics.roc_auc(y[versus], score[versus])
            block["auc_ci95"] = list(metrics.bootstrap_ci(metrics.roc_auc, y[versus],
                                                          score[versus], n=n_boot))
        out["per_method"][m] = block
    out["items"] = [{"file": Path(i.path).name, "label": i.label, "method": i.method,
                     "score": s, "verdict": v}
                    for i, (s, v) in zip(items, scored, strict=True)]
    return out


def generators(data_dir: Path) -> dict:
    """The test role's generators, and those no training clip comes from."""
    rows = list(labelled_folder(data_dir / "audio"))
    by_role: dict[str, set[str]] = {}
    for i in rows:
        if i.label == 1:
            by_role.setdefault(role_of("audio", i), set()).add(i.method)
    test, train = by_role.get("test", set()), by_role.get("train", set())
    return {"test": sorted(test), "never_trained_on": sorted(test - train),
            "trained_on": sorted(train)}


def role_items(data_dir: Path, limit: int | None = None) -> list[Item]:
    items = [i for i in labelled_folder(data_dir / "audio") if role_of("audio", i) == "test"]
    if limit:  # a small subset with both classes: every k-th clip
        step = max(1, len(items) // limit)
        items = items[::step][:limit]
    return items


def run_audio_suite(data_dir: Path, out_dir: Path, *, aasist: Path | None = None,
                    limit: int | None = None, cache: Path | None = None,
                    progress=None) -> dict:
    """Score the three sets, write ``suite.json`` and ``suite.md`` into ``out_dir``."""
    from fakelens.audio.model import DEFAULT_VOICE_DETECTOR, load_voice_detector

    data_dir = Path(data_dir)
    if not (data_dir / "audio" / "labels.csv").is_file():
        raise FakeLensError(f"no audio set in {data_dir} (audio/labels.csv)")
    items = role_items(data_dir, limit)
    cfg = load_voice_detector(DEFAULT_VOICE_DETECTOR).config
    versions = [CURRENT] + ([AASIST] if aasist else [])
    report: dict = {"suite": "audio", "data": data_dir.name, "role": "test",
                    "clips": len(items), "generators": generators(data_dir),
                    "weights": {CURRENT: {"version": cfg.version,
                                          "threshold": cfg.threshold}},
                    "sets": {}}
    if aasist:
        report["weights"][AASIST] = {"file": Path(aasist).name,
                                     "rule": "first 64,600 samples, spoof = class 0, "
                                             "FAKE at 0.5"}
    cache = Path(cache) if cache else Path(out_dir) / "media"
    for entry in AUDIO_SETS:
        files = set_files(entry, items, cache)
        report["sets"][entry.name] = {"description": entry.description, "versions": {}}
        for label in versions:
            t0 = time.perf_counter()
            scored = (score_voice(files) if label == CURRENT
                      else score_aasist_files(files, Path(aasist)))
            block = summarise(items, scored)
            block["seconds"] = round(time.perf_counter() - t0, 1)
            report["sets"][entry.name]["versions"][label] = block
            if progress:
                progress(entry.name, label)
    return write_report(report, out_dir, to_markdown)


# -- report ----------------------------------------------------------------------------


def _auc(b: dict, key: str = "auc") -> str:
    if key not in b:
        return "n/a"
    lo, hi = b.get("auc_ci95", (float("nan"), float("nan")))
    return f"{b[key]:.3f} [{lo:.3f}, {hi:.3f}]"


def to_markdown(report: dict) -> str:
    gen = report["generators"]
    lines = [f"# Quality benchmark: suite `audio` (the `{report['role']}` role of "
             f"`{report['data']}/audio`, {report['clips']} clips, through `analyze()`)", "",
             "AUC of the voice score (95% bootstrap interval). fakelens-voice's verdicts at "
             "its shipped threshold and band; AASIST (if present) called FAKE at 0.5. "
             "Fakes caught: FAKE or UNCERTAIN.", "",
             "| set | n (fake/real) | detector | AUC [95% CI] | real called FAKE | real "
             "UNCERTAIN | fakes called FAKE | fakes caught [95% CI] | NO_SPEECH |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, s in report["sets"].items():
        for label, b in s["versions"].items():
            caught = "n/a"
            if b["n_fake"]:
                lo, hi = b["fake_caught_ci95"]
                caught = f"{share(b['fake_caught'], b['n_fake'])} [{lo:.2f}, {hi:.2f}]"
            lines.append(
                f"| {name} | {b['n_scored']} ({b['n_fake']}/{b['n_real']}) | {label} | "
                f"{_auc(b)} | {share(b['real_flagged_fake'], b['n_real'])} | "
                f"{share(b['real_uncertain'], b['n_real'])} | "
                f"{share(b['fake_called_fake'], b['n_fake'])} | {caught} | "
                f"{b['no_speech']} |")
    never = set(gen["never_trained_on"])
    lines += ["", "Per generator: its fakes against all real clips of the set (AUC with a "
              "95% bootstrap interval), and how many the rule catches. *Never trained on*: "
              "no training clip comes from that generator (a leave-generator-out view).", "",
              "| set | generator | detector | fakes | AUC vs reals [95% CI] | caught | "
              "called FAKE |", "|---|---|---|---|---|---|---|"]
    for name, s in report["sets"].items():
        for label, b in s["versions"].items():
            for m, x in b["per_method"].items():
                tag = f"{m} (never trained on)" if m in never else m
                lines.append(f"| {name} | {tag} | {label} | {x['n_fake']} | "
                             f"{_auc(x, 'auc_vs_reals')} | {share(x['caught'], x['n_fake'])} "
                             f"| {share(x['called_fake'], x['n_fake'])} |")
    lines += ["", f"Generators of the test role: {', '.join(gen['test'])}; never trained on: "
              f"{', '.join(gen['never_trained_on']) or 'none'} (training has "
              f"{', '.join(gen['trained_on'])}: zero-shot Tortoise of other voices and "
              "Mandarin FastSpeech2 of other speakers; every test speaker is unheard).",
              "", "Sets:"] + [f"- `{n}`: {s['description']}" for n, s in
                              report["sets"].items()]
    skipped = [(n, label, x) for n, s in report["sets"].items()
               for label, b in s["versions"].items() for x in b["not_scored"]]
    if skipped:
        lines += ["", "Not scored (no speech found or unreadable):"] + [
            f"- {n} ({label}): {x['file']}: {x['reason']}" for n, label, x in skipped]
    return "\n".join(lines) + "\n"
