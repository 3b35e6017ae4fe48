"""fakelens batch (issue 27): Ray local cluster (2 CPUs, started once for the module) over
a few short shared clips; resume, errors, dying workers, a killed driver, lazy listing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
import types
from pathlib import Path

import pytest

pytestmark = pytest.mark.realdata
ray = pytest.importorskip("ray")

from fakelens.batch import run_batch  # noqa: E402
from fakelens.batch.resume import ResumeIndex, pending  # noqa: E402
from fakelens.batch.sources import iter_list, iter_sources  # noqa: E402

CLIPS = ("ffpp_original_004.mp4", "talking_head_d11.mp4", "talking_head_d10.mp4")
OPTIONS = {"frames": 4, "settings": {"intra_op_threads": 1}}


@pytest.fixture(scope="module")
def cluster(model_dir):
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture()
def archive(tmp_path: Path, videos: Path) -> Path:
    root = tmp_path / "archive"
    (root / "sub").mkdir(parents=True)
    for i, name in enumerate(CLIPS):
        shutil.copy(videos / name, (root / "sub" if i else root) / name)
    return root


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_batch_writes_one_line_per_file_and_a_second_run_nothing(cluster, archive, tmp_path):
    (archive / "corrupt.mp4").write_bytes((archive / CLIPS[0]).read_bytes()[:4000])
    (archive / "notes.mp4").write_text("not a video")
    (archive / "gone.mp4").symlink_to(tmp_path / "missing.mp4")  # unreadable
    (archive / "readme.txt").write_text("skipped: not media")
    out = tmp_path / "r.jsonl"
    tally = run_batch([str(archive)], str(out), workers=2, options=OPTIONS)
    docs = _lines(out)
    assert len(docs) == 6 and tally.done == 6
    by_name = {Path(d["file"]).name: d for d in docs}
    assert set(by_name) == {*CLIPS, "corrupt.mp4", "notes.mp4", "gone.mp4"}
    for name in CLIPS:  # the same JSON as detect --json, plus file and batch
        d = by_name[name]
        assert d["verdict"] in {"REAL", "FAKE", "UNCERTAIN", "NO_FACE"}
        assert d["media"]["sha256"] and d["frames_sampled"] == 4
        assert d["batch"]["size"] == (Path(d["file"])).stat().st_size
    for name in ("corrupt.mp4", "notes.mp4", "gone.mp4"):
        assert set(by_name[name]["error"]) == {"type", "message"}
    assert by_name["gone.mp4"]["error"]["type"] == "MediaNotFound"

    again = run_batch([str(archive)], str(out), workers=2, options=OPTIONS)
    assert again.done == 0 and again.skipped == 6
    assert len(_lines(out)) == 6

    os.utime(archive / CLIPS[0], (1, 1))  # a changed file is analysed again, only it
    third = run_batch([str(archive)], str(out), workers=2, options=OPTIONS)
    assert third.done == 1 and len(_lines(out)) == 7


def test_parquet_output_flat_columns_and_resume(cluster, archive, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    (archive / "notes.mp4").write_text("not a video")
    out = tmp_path / "r.parquet"
    run_batch([str(archive)], str(out), fmt="parquet", workers=2, options=OPTIONS)
    rows = pq.read_table(out).to_pylist()
    assert len(rows) == 4
    assert {"file", "sha256", "verdict", "score", "detector_scores", "faces", "frames",
            "seconds", "error"} <= set(rows[0])
    bad = [r for r in rows if r["error"]]
    assert len(bad) == 1 and bad[0]["error_type"] == "UnsupportedMedia"
    again = run_batch([str(archive)], str(out), fmt="parquet", workers=2, options=OPTIONS)
    assert again.done == 0 and len(pq.read_table(out)) == 4


def test_dead_worker_is_retried_then_recorded(cluster, archive, tmp_path):
    import batch_faults

    ray.cloudpickle.register_pickle_by_value(batch_faults)
    shutil.copy(archive / CLIPS[0], archive / "crash-once.mp4")
    shutil.copy(archive / CLIPS[0], archive / "crash-always.mp4")
    out = tmp_path / "r.jsonl"
    run_batch([str(archive)], str(out), workers=2, options=OPTIONS,
              analyse=batch_faults.crashing_analyse)
    docs = {Path(d["file"]).name: d for d in _lines(out)}
    assert len(docs) == 5 and len(_lines(out)) == 5
    assert "verdict" in docs["crash-once.mp4"], docs["crash-once.mp4"]  # second try worked
    assert docs["crash-always.mp4"]["error"]["type"] == "WorkerDied"


@pytest.mark.slow
def test_killed_driver_resumes_without_duplicates(cluster, archive, tmp_path):
    for i in range(3):  # 6 files, one worker: the kill lands mid-run
        shutil.copy(archive / CLIPS[0], archive / f"copy{i}.mp4")
    out = tmp_path / "r.jsonl"
    cmd = [sys.executable, "-m", "fakelens", "batch", str(archive), "--out", str(out),
           "--workers", "1", "--frames", "4", "-q"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not (out.exists() and out.read_text().count("\n") >= 1):
            assert proc.poll() is None, "the batch ended before its first line"
            assert time.monotonic() < deadline, "no result line in 300 s"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        try:  # the driver's own Ray processes share its session
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    first = len(_lines(out))
    assert 1 <= first < 6
    with out.open("a") as fh:  # a torn last line, as if killed mid-write
        fh.write('{"file": "torn')
    tally = run_batch([str(archive)], str(out), workers=2, options=OPTIONS)
    files = [d["file"] for d in _lines(out)]
    assert len(files) == 6 == len(set(files))
    assert tally.skipped == first


def test_from_list_is_read_lazily_and_duplicates_are_one_item(tmp_path, videos):
    listing = tmp_path / "list.txt"
    with listing.open("w") as fh:
        for i in range(10_000):
            fh.write(f"{videos / CLIPS[i % 3]}\n")
        fh.write("# a comment\n\n")
    items = iter_sources([], [str(listing)])
    assert isinstance(items, types.GeneratorType)
    tracemalloc.start()
    index, skipped = ResumeIndex(), [0]
    todo = [item.file for item in pending(items, index, skipped)]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert sorted(todo) == sorted(str(videos / c) for c in CLIPS)
    assert skipped[0] == 9_997 and len(index) == 3
    assert peak < 2_000_000  # 10,000 paths as Items would take several MB
    first = next(iter_list(str(listing)))
    assert first.size == (videos / CLIPS[0]).stat().st_size and first.mtime


def test_plan_pool_one_actor_per_cpu_or_per_gpu():
    from fakelens.batch.runner import plan_pool
    from fakelens.batch.worker import Analyser
    from fakelens.errors import BatchError

    cpus = plan_pool(None, None, {"CPU": 3.0})
    assert cpus.actors == 3 and not cpus.gpu and "num_gpus" not in cpus.ray_options
    assert plan_pool(5, None, {"CPU": 3.0}).actors == 5
    gpus = plan_pool(None, 2, {"CPU": 16.0, "GPU": 4.0})
    assert gpus.actors == 2 and gpus.gpu
    assert gpus.ray_options["num_gpus"] == 1 and gpus.ray_options["num_cpus"] == 1
    actor_cls = ray.remote(**gpus.ray_options)(Analyser)  # Ray takes them (nothing scheduled)
    assert actor_cls._default_options["num_gpus"] == 1
    with pytest.raises(BatchError, match=r"--gpus 2: the Ray cluster has 1 GPU, fewer than"):
        plan_pool(None, 2, {"CPU": 16.0, "GPU": 1.0})
    with pytest.raises(BatchError, match="0 GPUs"):
        plan_pool(None, 1, {"CPU": 2.0})
    with pytest.raises(BatchError, match="--workers 3 with --gpus 2"):
        plan_pool(3, 2, {"CPU": 16.0, "GPU": 4.0})


def test_gpu_worker_uses_cuda_when_there_else_the_cpu_with_a_warning(model_dir, monkeypatch):
    import onnxruntime as ort

    from fakelens.batch.worker import Analyser, gpu_providers
    from fakelens.models.runtime import set_providers

    assert gpu_providers(["CUDAExecutionProvider", "CPUExecutionProvider"]) == (
        ["CUDAExecutionProvider", "CPUExecutionProvider"], None)
    assert gpu_providers(["CPUExecutionProvider"])[0] == ["CPUExecutionProvider"]
    try:
        monkeypatch.setattr(ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
        dev = Analyser(OPTIONS, gpu=True).device()
        assert dev["providers"] == ["CPUExecutionProvider"]
        assert "onnxruntime-gpu" in dev["warning"]
        # listed but not startable (no CUDA libraries): the session falls back, and says so
        monkeypatch.setattr(ort, "get_available_providers",
                            lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
        dev = Analyser(OPTIONS, gpu=True).device()
        if "CUDAExecutionProvider" not in dev["providers"]:
            assert "could not start its CUDA provider" in dev["warning"]
        assert Analyser(OPTIONS).device()["warning"] is None  # a CPU worker never warns
    finally:
        set_providers(["CPUExecutionProvider"])


def test_gpus_on_a_cluster_without_them_is_refused_at_once(cluster, archive, tmp_path, capsys):
    from fakelens.cli import main
    from fakelens.errors import BatchError

    assert ray.cluster_resources().get("GPU", 0) == 0  # the tests' local 2-CPU cluster
    out = tmp_path / "r.jsonl"
    with pytest.raises(BatchError, match="--gpus 1: the Ray cluster has 0 GPUs"):
        run_batch([str(archive)], str(out), gpus=1, options=OPTIONS)
    assert main(["batch", str(archive), "--out", str(out), "--gpus", "1", "-q"]) == 5
    err = capsys.readouterr().err
    assert "--gpus 1" in err and "0 GPUs" in err and "Traceback" not in err
    assert out.read_text() == ""  # nothing analysed, nothing written


def test_cli_parses_batch(tmp_path):
    from fakelens.cli import build_parser

    args = build_parser().parse_args(["batch", "a", "s3://b/c", "--out", "r.parquet",
                                      "--format", "parquet", "--from-list", "l.txt",
                                      "--workers", "2", "--address", "ray://h:10001",
                                      "--summary", "--jsonl-progress"])
    assert args.sources == ["a", "s3://b/c"] and args.from_list == ["l.txt"]
    assert args.format == "parquet" and args.workers == 2
    from fakelens.cli import main

    assert main(["batch", "--out", str(tmp_path / "r.jsonl")]) == 2
    assert build_parser().parse_args(["batch", "a", "--out", "r", "--gpus", "2"]).gpus == 2
    for bad in (["--gpus", "0"], ["--gpus", "1", "--workers", "2"]):
        assert main(["batch", str(tmp_path), "--out", str(tmp_path / "r.jsonl"), *bad]) == 2


def test_batch_without_its_extra_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    import importlib.util

    from fakelens.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ray" else real(name, *a))
    assert main(["batch", str(tmp_path), "--out", str(tmp_path / "r.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "ray" in err and "fakelens[batch]" in err
    assert not (tmp_path / "r.jsonl").exists()


def test_batch_doc_commands_and_rayjob_parse():
    """docs/BATCH.md: every `fakelens batch` command (the RayJob's entrypoint included)
    parses with today's flags, and the YAML examples are YAML, the RayJob a RayJob."""
    import re
    import shlex

    yaml = pytest.importorskip("yaml")
    from fakelens.cli import build_parser

    doc = (Path(__file__).resolve().parents[1] / "docs" / "BATCH.md").read_text()
    commands = re.findall(r"fakelens batch [^\n`#|]*", doc)
    assert len(commands) >= 8
    for command in commands:
        args = build_parser().parse_args(shlex.split(command)[1:])  # SystemExit on a bad flag
        assert args.out, command
    blocks = re.findall(r"```yaml\n(.*?)```", doc, re.S)
    job = yaml.safe_load(blocks[0])
    assert job["kind"] == "RayJob" and job["spec"]["entrypoint"].startswith("fakelens batch s3://")
    workers = job["spec"]["rayClusterSpec"]["workerGroupSpecs"]
    assert workers[0]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"]
    gpu = yaml.safe_load(blocks[1])[0]
    assert gpu["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
