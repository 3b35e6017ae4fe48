"""benchmarks/recompress_sets.sh: the benchmark's media re-encoded at FF++ c40's quantiser."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import av
import pytest
from livemedia import ffmpeg, make_clip

from fakelens.analysis.caveats import heavily_compressed
from fakelens.media import probe

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "recompress_sets.sh"


@pytest.mark.realdata
def test_videos_are_reencoded_at_the_quantiser_and_stills_linked(samples, tmp_path):
    data = tmp_path / "data"
    (data / "videos").mkdir(parents=True)
    (data / "generated-videos").mkdir()
    (data / "dfdc-crops").mkdir()
    src = samples / "live-swap" / "Albica_Johns_0__right_fake.mp4"
    make_clip(src, data / "videos" / "a.mp4", 1.0)
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-i", str(data / "videos" / "a.mp4"),
                    "-c:v", "libvpx-vp9", "-deadline", "realtime", "-b:v", "300k",
                    str(data / "generated-videos" / "b.webm")], check=True, timeout=120)
    for folder in ("videos", "generated-videos"):
        (data / folder / "labels.csv").write_text("file,label\nx,REAL\n")
    out = tmp_path / "qp40"
    env = {"DATA": str(data), "PATH": str(Path(shutil.which("ffmpeg")).parent) + ":/usr/bin:/bin"}
    for _ in range(2):  # a second run keeps what the first made
        subprocess.run(["bash", str(SCRIPT), "40", str(out)], check=True, env=env, timeout=300)
    for name in ("videos/a.mp4", "generated-videos/b.webm"):
        with av.open(str(out / name)) as container:  # readers probe the content
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264"
            assert sum(1 for _ in container.decode(stream)) >= 20
    # what the analysis then tells its reader: the copy, not the source, is heavily compressed
    assert heavily_compressed(probe(out / "videos" / "a.mp4"))
    assert not heavily_compressed(probe(data / "videos" / "a.mp4"))
    assert (out / "videos" / "labels.csv").read_text() == "file,label\nx,REAL\n"
    assert (out / "dfdc-crops").resolve() == (data / "dfdc-crops").resolve()
    assert not (out / "live-swap").exists() and not list(out.rglob("*.part"))
