"""``fakelens live``: a file played at its own speed, a local HTTP stream served by ffmpeg,
streams that stop, stall or send garbage (a clear message and a summary, never a
traceback), Ctrl-C; and the pieces (newest-wins slot, alert rule, tracker)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from livemedia import CLIP, ffmpeg_http_stream, hls_stream, make_clip, raw_http_server

from fakelens.faces.detector import FaceDetection
from fakelens.live.alerts import AlertRule
from fakelens.live.slot import Closed, LatestSlot
from fakelens.live.tracker import LiveTracker, Observation

pytestmark = [pytest.mark.realdata]


def _live(*args: str, timeout: float = 120, once_analysing=None):
    """Run ``fakelens live``; ``once_analysing(proc)`` is called once, when the first
    ``--jsonl`` update reports an analysed frame: an event, not a sleep, so that a slow or
    busy machine (model loading, stream start) cannot make the test act too early."""
    cmd = [sys.executable, "-m", "fakelens", "live", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: list[str] = []

    def read() -> None:
        fired = once_analysing is None
        for line in proc.stdout:
            lines.append(line)
            if not fired and line.startswith("{"):
                doc = json.loads(line)
                if doc.get("type") == "update" and doc.get("frames_analysed", 0) >= 1:
                    fired = True
                    once_analysing(proc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    err = proc.stderr.read()
    proc.wait(timeout=timeout)
    reader.join(timeout)
    assert "Traceback" not in err, err
    return proc.returncode, "".join(lines), err


def _docs(out: str) -> tuple[list[dict], dict]:
    docs = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert docs[-1]["type"] == "summary"
    return [d for d in docs if d["type"] == "update"], docs[-1]


def _assert_live_stream_read(summary: dict) -> None:
    """A stream served at its own speed was read through and analysed. How many frames the
    analysis keeps up with depends on the machine (the newest frame wins, the rest are
    dropped), so only what holds on any CPU is checked: most of the clip's frames arrived,
    every one was analysed or counted as dropped, and analysis went on past the first."""
    print("live counts:", {k: summary[k] for k in
                           ("frames_received", "frames_analysed", "frames_dropped")})
    assert summary["frames_received"] >= 45  # 1.5 s or more of the 4 s clip at 30 fps
    assert summary["frames_analysed"] >= 2
    assert summary["frames_analysed"] + summary["frames_dropped"] <= summary["frames_received"]


@pytest.fixture(scope="module")
def clip(samples: Path, model_dir: Path, tmp_path_factory) -> Path:
    return make_clip(samples / CLIP, tmp_path_factory.mktemp("live") / "clip.mp4", 4)


def test_file_in_real_time_prints_updates_every_second_and_a_summary(clip, tmp_path):
    report = tmp_path / "live.json"
    started = time.monotonic()
    rc, out, err = _live(str(clip), "--realtime", "--jsonl", "--alert-after", "0.5",
                         "--report", str(report))
    wall = time.monotonic() - started
    assert rc == 0, err
    updates, summary = _docs(out)
    assert len(updates) >= 3  # about one a second over a 4 s clip
    assert all(u["frames_analysed"] <= u["frames_received"] for u in updates)
    assert updates[-1]["stream_time_s"] >= 3.5
    assert wall >= 3.5  # played at its own speed, not as fast as possible
    assert summary["ended"] == "the end of the file was reached" and not summary["error"]
    _assert_live_stream_read(summary)
    assert summary["verdict"] in ("REAL", "FAKE", "UNCERTAIN")
    faces = [f for u in updates for f in u["faces"]]
    assert faces and all(0 <= f["score"] <= 1 for f in faces)
    # the same verdict rule: an alert appears once a face's rolling score stays above it
    assert all(a["score"] >= a_thr for u in updates for a in u["alerts"]
               for a_thr in [u["threshold"]])
    saved = json.loads(report.read_text())
    assert saved["media"]["format"] == "live" and saved["tracks"]
    assert saved["tracks"][0]["frames"]  # a timeline
    print("live scores (file, real time):", [round(u["score"] or 0, 3) for u in updates])


def test_file_as_fast_as_possible_analyses_every_frame(clip):
    rc, out, err = _live(str(clip), "--jsonl")
    assert rc == 0, err
    _, summary = _docs(out)
    assert summary["frames_dropped"] == 0
    assert summary["frames_analysed"] == summary["frames_received"] >= 100


def test_plain_output_on_a_pipe(clip):
    rc, out, err = _live(str(clip), "--alert-after", "0")
    assert rc == 0, err
    assert "live session ended: the end of the file was reached" in out
    assert "summary:" in out


def test_local_http_stream_served_by_ffmpeg(clip):
    with ffmpeg_http_stream(clip) as (url, _):
        rc, out, err = _live(url, "--jsonl", "--stall-timeout", "5")
    assert rc == 0, err
    updates, summary = _docs(out)
    assert updates and summary["source"] == url
    assert summary["ended"] == "the stream ended"
    _assert_live_stream_read(summary)
    print("live scores (HTTP stream):", [round(u["score"] or 0, 3) for u in updates])


def test_local_hls_stream(clip, tmp_path):
    with hls_stream(clip, tmp_path / "hls") as url:
        rc, out, err = _live(url, "--jsonl", "--stall-timeout", "8")
    assert rc == 0, err
    updates, summary = _docs(out)
    assert not summary["error"]
    _assert_live_stream_read(summary)
    print("live scores (HLS):", [round(u["score"] or 0, 3) for u in updates])


def test_a_stream_that_stops_midway_ends_with_a_summary(clip):
    with ffmpeg_http_stream(clip, loop=True) as (url, server):
        rc, out, err = _live(url, "--jsonl", "--stall-timeout", "3",
                             once_analysing=lambda _: server.kill())
    _, summary = _docs(out)
    assert summary["frames_analysed"] >= 1
    assert summary["ended"] in ("the stream ended",) or "stalled" in summary["ended"] \
        or "decoded" in summary["ended"]
    assert rc in (0, 3)


def test_a_stalled_stream_ends_with_a_clear_message_and_a_summary(clip, tmp_path):
    ts = make_clip(clip, tmp_path / "head.ts", 1.0)
    with raw_http_server(ts.read_bytes(), hold_s=30) as url:
        rc, out, err = _live(url, "--jsonl", "--stall-timeout", "2", timeout=60)
    assert rc == 3
    _, summary = _docs(out)
    assert summary["error"] and "stall" in summary["ended"]
    assert "error: the stream stalled" in err


def test_garbage_is_refused_with_a_clear_message(tmp_path):
    rng = np.random.default_rng(0)
    with raw_http_server(rng.integers(0, 256, 200_000, dtype=np.uint8).tobytes()) as url:
        rc, out, err = _live(url, "--stall-timeout", "3", timeout=60)
    assert rc == 3
    assert "error:" in err and "summary:" in (out + err)


def test_ctrl_c_stops_with_a_summary(samples, model_dir, tmp_path):
    # the whole 7 s source, not the 4 s clip: the signal, sent at the first analysed
    # frame, comes before its end on a slow machine too
    long_clip = make_clip(samples / CLIP, tmp_path / "long.mp4", 8)
    rc, out, err = _live(str(long_clip), "--realtime", "--jsonl",
                         once_analysing=lambda proc: proc.send_signal(signal.SIGINT))
    assert rc == 0, err
    _, summary = _docs(out)
    assert summary["ended"] == "stopped by the user"


def test_unknown_source_is_a_usage_error():
    rc, _, err = _live("/nonexistent/clip.mp4")
    assert rc == 2 and "no such file, camera or stream URL" in err


# the pieces


def test_slot_newest_wins_and_counts_drops():
    slot: LatestSlot[int] = LatestSlot()
    for i in range(5):
        slot.put(i)
    assert slot.get(0.1) == 4
    assert (slot.received, slot.dropped) == (5, 4)
    assert slot.get(0.05) is None
    slot.close("done")
    with pytest.raises(Closed):
        slot.get(0.1)


def test_slot_waits_for_files_without_dropping():
    slot: LatestSlot[int] = LatestSlot()
    stop = threading.Event()
    got = []

    def consume():
        for _ in range(3):
            got.append(slot.get(2.0))

    thread = threading.Thread(target=consume)
    thread.start()
    for i in range(3):
        assert slot.put_wait(i, stop)
    thread.join(5)
    assert got == [0, 1, 2] and slot.dropped == 0


def _face(x: float) -> FaceDetection:
    return FaceDetection((x, 10.0, 50.0, 50.0), np.zeros((5, 2), np.float32), 0.9)


def test_alert_after_a_face_stays_above_the_threshold():
    tracker = LiveTracker()
    (track,) = tracker.assign(0, [_face(0)])
    rule = AlertRule(0.5, 2.0)
    assert rule.check(track, 0.9, 0.0) is None
    assert rule.check(track, 0.9, 1.5) is None
    alert = rule.check(track, 0.9, 2.0)
    assert alert and alert.track_id == 0 and "ALERT" in alert.message
    assert rule.check(track, 0.9, 3.0) is None  # once per episode
    assert rule.check(track, 0.2, 3.5) is None  # re-arms below
    assert rule.check(track, 0.9, 4.0) is None
    assert rule.check(track, 0.9, 6.0) is not None


def test_tracker_follows_faces_and_bounds_its_memory():
    tracker = LiveTracker(window_len=4, history_cap=8)
    for pos in range(100):
        faces = [_face(pos * 0.5), _face(400 + pos * 0.5)]
        for face, t in zip(faces, tracker.assign(pos, faces), strict=True):
            t.add(Observation(pos, pos / 10, face, {"m": 0.5}, {"m": np.zeros(2)}), pos)
    assert [t.track_id for t in tracker.tracks] == [0, 1]
    t = tracker.tracks[0]
    assert t.seen == 100 and len(t.window) == 4 and len(t.history) < 16
    gaps = np.diff([o.frame_index for o in t.history])
    assert len(set(gaps)) == 1  # evenly spaced over the whole session


def test_live_and_file_analysis_score_a_frame_alike(clip):
    """One code path: a frame's face scores the same whether the frame came through
    ``analyze`` or through a live source."""
    from fakelens.analysis.pipeline import analyze
    from fakelens.live.runner import run_live
    from fakelens.live.sources import parse_source

    batch = analyze(clip, frames=6)
    seen: dict[int, float] = {}
    result = run_live(parse_source(str(clip)),
                      on_frame=lambda r: seen.update(
                          {r.frame_index: max(f.frame_score for f in r.faces if f.box)}
                          if any(f.box for f in r.faces) else {}))
    assert result.summary.frames_dropped == 0
    frames = [f for t in batch.tracks for f in t.frames]
    assert len(frames) >= 5
    for f in frames:
        assert seen[f.frame_index] == pytest.approx(f.score, abs=1e-4), f.frame_index
    assert result.detailed.analysis.threshold == batch.threshold
