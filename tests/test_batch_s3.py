"""fakelens batch on S3 (issue 27): a local moto server holds two shared clips and a list;
a Ray local cluster (2 CPUs) reads them by s3:// URL and writes Parquet to the bucket."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

pytestmark = pytest.mark.realdata
ray = pytest.importorskip("ray")
pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")

CLIPS = ("ffpp_original_004.mp4", "talking_head_d11.mp4")
OPTIONS = {"frames": 4, "settings": {"intra_op_threads": 1}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3(model_dir):
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # before ray.init: the workers inherit it
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_s3_sources_list_and_parquet_sink(s3, videos, tmp_path):
    import fsspec
    import pyarrow.parquet as pq

    from fakelens.batch import run_batch

    fsspec.config.conf.pop("s3", None)
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    fs.mkdir("clips")
    for name in CLIPS:
        fs.put(str(videos / name), f"clips/in/{name}")
    fs.pipe("clips/in/broken.mp4", b"not a video")
    fs.pipe("clips/list.txt", "\n".join(f"s3://clips/in/{n}" for n in CLIPS * 50).encode())
    local = tmp_path / "clip.mp4"
    shutil.copy(videos / CLIPS[0], local)

    out = "s3://clips/results.parquet"
    tally = run_batch(["s3://clips/in", str(local)], out, fmt="parquet", workers=2,
                      options=OPTIONS, list_files=["s3://clips/list.txt"])
    assert tally.done == 4 and tally.skipped == 100  # the list repeats the bucket's clips
    fs.invalidate_cache()
    with fs.open(fs.glob("clips/results.parquet/part-*.parquet")[0], "rb") as fh:
        rows = pq.read_table(fh).to_pylist()
    by_file = {r["file"]: r for r in rows}
    assert set(by_file) == {*(f"s3://clips/in/{n}" for n in CLIPS),
                            "s3://clips/in/broken.mp4", str(local)}
    for name in CLIPS:
        row = by_file[f"s3://clips/in/{name}"]
        assert row["verdict"] and row["sha256"] and row["size"] == (videos / name).stat().st_size
    assert by_file["s3://clips/in/broken.mp4"]["error_type"] == "UnsupportedMedia"

    again = run_batch(["s3://clips/in", str(local)], out, fmt="parquet", workers=2,
                      options=OPTIONS, list_files=["s3://clips/list.txt"])
    assert again.done == 0 and again.skipped == 104
    fs.invalidate_cache()
    assert len(fs.glob("clips/results.parquet/part-*.parquet")) == 1  # nothing written again
