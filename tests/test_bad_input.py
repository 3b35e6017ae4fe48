"""Bad input never crashes: a clear ``FakeLensError`` (or a NO_FACE verdict), the input
file untouched, and from the CLI a one-line error and a non-zero exit code."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import struct
import wave
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from synthetic_media import clip_frames, decodable_times, write_video

import fakelens
from fakelens.cli import main
from fakelens.errors import (
    CorruptMedia,
    EmptyMedia,
    FakeLensError,
    MediaNotFound,
    MediaTooLarge,
    UnsupportedMedia,
)
from fakelens.media import iter_frames, probe
from fakelens.types import Verdict

pytestmark = [pytest.mark.train]


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


@pytest.fixture
def analyze(tiny_detector, model_dir):
    """``fakelens.analyze`` (8 frames, the tiny detector) that also checks the input file
    is exactly as it was afterwards, whether the call succeeded or raised."""

    def run(path: Path, **kwargs):
        before = _digest(path)
        try:
            return fakelens.analyze(path, frames=8, model=tiny_detector, **kwargs)
        finally:
            assert _digest(path) == before, f"{path.name} was modified"

    return run


def _raises(analyze, path: Path, error: type[FakeLensError], *words: str) -> str:
    with pytest.raises(error) as exc:
        analyze(path)
    message = str(exc.value)
    assert path.name in message
    for word in words:
        assert word in message.lower()
    return message


def test_zero_byte_file(analyze, tmp_path):
    path = tmp_path / "empty.mp4"
    path.touch()
    _raises(analyze, path, EmptyMedia, "empty")


def test_text_file_renamed_mp4(analyze, tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 50)
    _raises(analyze, path, UnsupportedMedia, "not a recognised image or video")


@pytest.mark.parametrize("target", ["missing.mp4", "a-folder"])
def test_unreadable_paths(analyze, tmp_path, target):
    (tmp_path / "a-folder").mkdir()
    with pytest.raises(MediaNotFound):
        analyze(tmp_path / target)


@pytest.mark.realdata
def test_truncated_mp4_with_its_index_at_the_end(analyze, videos, tmp_path):
    data = (videos / "talking_head_d0.mp4").read_bytes()
    cut = int(len(data) * 0.3)
    assert data.rfind(b"moov") > cut  # the index (moov atom) is in the lost 70 %
    path = tmp_path / "download.mp4"
    path.write_bytes(data[:cut])
    # without its index no frame of an MP4 can be located: an error, not a guess
    _raises(analyze, path, CorruptMedia, "mp4", "truncated")


@pytest.fixture(scope="module")
def faststart_clip(samples, tmp_path_factory) -> Path:
    """2 s of a real talking head, 160x160, index (moov) before the data (mdat)."""
    frames = clip_frames(samples / "videos" / "talking_head_d0.mp4", 50, (160, 160))
    path = tmp_path_factory.mktemp("faststart") / "faststart.mp4"
    write_video(path, frames, container_options={"movflags": "faststart"})
    data = path.read_bytes()
    assert 0 < data.find(b"moov") < data.find(b"mdat")
    return path


@pytest.mark.realdata
def test_truncated_mp4_with_its_index_first_gives_the_decodable_part(analyze, faststart_clip,
                                                                    tmp_path):
    data = faststart_clip.read_bytes()
    path = tmp_path / "partial.mp4"
    path.write_bytes(data[: int(len(data) * 0.7)])
    decodable = decodable_times(path)
    assert 0 < len(decodable) < 50
    result = analyze(path)
    assert result.media.duration_s == pytest.approx(2.0, abs=0.1)  # from the intact index
    assert 1 <= result.frames_sampled < 8  # the sampled instants that still exist
    times = [f.timestamp_s for t in result.tracks for f in t.frames]
    assert times and max(times) <= decodable[-1]
    assert result.verdict in (Verdict.REAL, Verdict.FAKE, Verdict.UNCERTAIN)
    assert any("decoding stopped" in w for w in result.warnings)  # the user is told


@pytest.mark.realdata
@pytest.mark.parametrize("keep", ["header-only", "a-few-bytes-of-data"])
def test_truncated_mp4_without_a_whole_frame(analyze, faststart_clip, tmp_path, keep):
    data = faststart_clip.read_bytes()
    mdat = data.find(b"mdat")
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: mdat + (4 if keep == "header-only" else 200)])
    _raises(analyze, path, CorruptMedia, "damaged")


def test_truncated_mkv_does_not_hang(tmp_path):
    """Cut inside its data, a Matroska file (index at the end) once made the sampler seek
    back to the same key frame forever."""
    frames = [np.full((48, 64, 3), i % 256, np.uint8) for i in range(500)]  # 20 s
    full = write_video(tmp_path / "full.mkv", frames, gop=25)
    path = tmp_path / "cut.mkv"
    path.write_bytes(full.read_bytes()[: int(full.stat().st_size * 0.6)])

    def too_slow(signum, frame):
        raise TimeoutError("iter_frames does not finish on a truncated mkv")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(20)
    try:
        got = list(iter_frames(path, probe(path), frames=3))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert 1 <= len(got) < 3 and got[-1].timestamp_s <= decodable_times(path)[-1]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def test_decompression_bomb_png(analyze, tmp_path):
    # a valid PNG header announcing 30000x30000 RGB (2.7 GB decoded) in 100 bytes
    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    path = tmp_path / "bomb.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
                     + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
                     + _png_chunk(b"IEND", b""))
    assert path.stat().st_size < 200
    _raises(analyze, path, MediaTooLarge, "pixels")


def _write_wav(path: Path, seconds: float = 1.0, rate: int = 8000) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(tone.tobytes())
    return path


@pytest.mark.parametrize("name", ["voice.wav", "voice-renamed.mp4"])
def test_audio_only_file_without_speech(analyze, tmp_path, name):
    """An audio file is analysed for its voice (schema 1.5): a steady tone holds none."""
    path = _write_wav(tmp_path / name)
    result = analyze(path)
    assert result.media.kind == "audio" and result.tracks == []
    assert result.verdict is Verdict.NO_SPEECH and result.score is None
    assert result.audio.status == "no_speech" and "No speech found" in result.reason


def test_audio_only_file_is_refused_by_probe(tmp_path):
    """Callers that read pictures (uploads, training) still get a clear refusal."""
    path = _write_wav(tmp_path / "voice.wav")
    with pytest.raises(UnsupportedMedia, match="audio"):
        probe(path)


def test_animated_webp_is_unsupported_not_corrupt(analyze, tmp_path):
    # FFmpeg has no decoder for animated WebP (Pillow can write it)
    images = [Image.new("RGB", (64, 48), (i * 60, 0, 0)) for i in range(3)]
    path = tmp_path / "sticker.webp"
    images[0].save(path, save_all=True, append_images=images[1:], duration=100)
    _raises(analyze, path, UnsupportedMedia, "webp")


def test_unknown_codec(analyze, tmp_path):
    clip = write_video(tmp_path / "ok.mp4", [np.zeros((48, 64, 3), np.uint8)] * 5)
    data = bytearray(clip.read_bytes())
    entry = data.find(b"avc1", data.find(b"stsd"))  # the sample entry's codec fourcc
    assert entry > 0
    data[entry:entry + 4] = b"zzzz"
    path = tmp_path / "odd-codec.mp4"
    path.write_bytes(bytes(data))
    with pytest.raises((UnsupportedMedia, CorruptMedia)) as exc:
        analyze(path)
    assert "codec" in str(exc.value) and path.name in str(exc.value)


@pytest.mark.parametrize("pattern", ["noise", "gradient"])
def test_video_without_a_face(analyze, tmp_path, pattern):
    rng = np.random.default_rng(0)
    gy, gx = np.mgrid[0:96, 0:128]
    frames = []
    for i in range(25):
        if pattern == "noise":
            frames.append(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8))
        else:
            frames.append(np.stack([(gx * 2 + i * 4) % 256, gy * 2, np.full_like(gx, 128)],
                                   axis=-1).astype(np.uint8))
    result = analyze(write_video(tmp_path / f"{pattern}.mp4", frames))
    assert result.verdict == Verdict.NO_FACE
    assert result.score is None
    assert result.tracks == [] and result.frames_sampled == 8
    assert result.face_detector.startswith("yunet")


@pytest.mark.realdata
def test_image_with_many_faces_gives_one_track_each(analyze, samples, tmp_path):
    faces = sorted((samples / "faces-real").glob("*.jpg"))[:4]
    canvas = Image.new("RGB", (4 * 220, 240), (40, 40, 40))
    slots = [(10 + i * 220, 20) for i in range(len(faces))]
    for face, slot in zip(faces, slots, strict=True):
        canvas.paste(Image.open(face).convert("RGB").resize((200, 200)), slot)
    path = tmp_path / "group.jpg"
    canvas.save(path)
    result = analyze(path)
    assert len(result.tracks) == 4
    centres = sorted(t.frames[0].box.x + t.frames[0].box.w / 2 for t in result.tracks)
    for (x, _), centre in zip(slots, centres, strict=True):
        assert x < centre < x + 200  # one track per pasted face
    assert all(len(t.frames) == 1 for t in result.tracks)


def _upright_portrait(samples: Path) -> list[np.ndarray]:
    """A real talking head, portrait 120x160 (w x h), 1 s."""
    return clip_frames(samples / "videos" / "talking_head_d0.mp4", 25, (120, 160),
                       box=(64, 0, 384, 512))


@pytest.mark.realdata
@pytest.mark.parametrize("turns", [1, 2, 3])  # sensor stored the picture turned k x 90 degrees
def test_rotated_phone_video_comes_out_upright(analyze, samples, tmp_path, turns):
    upright = _upright_portrait(samples)
    reference = write_video(tmp_path / "upright.mp4", upright)
    stored = [np.ascontiguousarray(np.rot90(f, k=turns)) for f in upright]
    # the display matrix that undoes the stored turn (FFmpeg: counter-clockwise degrees)
    phone = write_video(tmp_path / "phone.mp4", stored, rotation=-90 * turns)

    info = probe(phone)
    assert info.rotation == (-90 * turns) % 360
    assert (info.width, info.height) == (120, 160)  # reported as displayed
    got = list(iter_frames(phone, info, frames=4))
    want = list(iter_frames(reference, probe(reference), frames=4))
    for g, w in zip(got, want, strict=True):
        assert g.rgb.shape == w.rgb.shape == (160, 120, 3)
        assert np.abs(g.rgb.astype(int) - w.rgb.astype(int)).mean() < 6

    result = analyze(phone)
    assert result.media.rotation == info.rotation
    assert len(result.tracks) >= 1  # the (upright) face is found
    box = max(result.tracks, key=lambda t: len(t.frames)).frames[0].box
    assert box.x + box.w <= 120 + 5 and box.y + box.h <= 160 + 5


# --- the command line -------------------------------------------------------------------


@pytest.fixture
def bad_files(tmp_path) -> dict[str, Path]:
    empty = tmp_path / "empty.mp4"
    empty.touch()
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n")
    return {"empty": empty, "text": text, "missing": tmp_path / "missing.mp4"}


@pytest.mark.parametrize(("which", "code"), [("empty", 3), ("text", 3), ("missing", 2)])
def test_cli_bad_input_is_one_line_error(tiny_detector, bad_files, capsys, which, code):
    path = bad_files[which]
    assert main(["detect", str(path), "--model", tiny_detector]) == code
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert path.name in err and "Traceback" not in err


@pytest.mark.realdata
def test_cli_keeps_going_when_one_file_fails(tiny_detector, model_dir, face_image, bad_files,
                                             tmp_path, capsys):
    # a name that is also Rich markup must still be printed as it is
    other = tmp_path / "clip [final].jpg"
    shutil.copy(face_image, other)
    files = [face_image, bad_files["text"], other]
    before = {p: _digest(p) for p in files}

    assert main(["detect", *map(str, files), "--model", tiny_detector, "--json"]) == 1
    out, err = capsys.readouterr()
    docs = json.loads(out)  # exactly one JSON document on stdout, in input order
    assert isinstance(docs, list) and len(docs) == 3
    assert Path(docs[0]["media"]["path"]).name == face_image.name
    assert docs[1]["file"] == str(bad_files["text"])
    assert docs[1]["error"]["type"] == "UnsupportedMedia"
    assert Path(docs[2]["media"]["path"]).name == other.name
    assert err.count("error: ") == 1 and "notes.mp4" in err and "Traceback" not in err

    assert main(["detect", *map(str, files), "--model", tiny_detector]) == 1
    out, err = capsys.readouterr()
    assert other.name in out and face_image.name[:20] in out
    assert err.count("error: ") == 1
    assert {p: _digest(p) for p in files} == before


def test_truncated_jpeg_stays_an_error_after_a_pdf_report(analyze, samples, tmp_path):
    """WeasyPrint's import switches Pillow to loading truncated images; the PDF path
    switches it back, so a server that has rendered a report still refuses cut files."""
    from fakelens.reports.render import html_to_pdf

    assert html_to_pdf("<p>report</p>").startswith(b"%PDF")
    data = (sorted((samples / "faces-real").glob("*.jpg"))[0]).read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    _raises(analyze, path, CorruptMedia, "truncated")

