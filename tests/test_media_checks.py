"""What a file is called and whether it is whole: the container's own name (an .mp4 is
"mp4", not FFmpeg's "mov" family name), a cut image or video refused by ``check_whole``
(what the server runs on an upload) whatever its format, cut images refused even after
WeasyPrint's import told Pillow to pad them, and a damaged EXIF block reported once by
the provenance check instead of Pillow's raw warning on every read."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile
from synthetic_media import write_video

from fakelens.errors import CorruptMedia, MediaError
from fakelens.media import iter_frames, probe
from fakelens.media.integrity import check_whole


def _frames(count: int = 20, size: tuple[int, int] = (64, 48)) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    w, h = size
    return [rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for _ in range(count)]


def _noise_image(size: tuple[int, int] = (160, 120)) -> Image.Image:
    rng = np.random.default_rng(1)
    return Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))


@pytest.mark.parametrize(("name", "codec", "expected"), [
    ("clip.mp4", "libx264", "mp4"),
    ("clip.mov", "libx264", "mov"),
    ("clip.webm", "libvpx-vp9", "webm"),
    ("clip.mkv", "libx264", "matroska"),
])
def test_container_format_is_the_files_own(tmp_path, name, codec, expected):
    path = write_video(tmp_path / name, _frames(5), codec=codec)
    info = probe(path)
    assert (info.kind, info.format) == ("video", expected)
    # the content decides, not the name
    renamed = path.rename(tmp_path / ("renamed.mov" if expected != "mov" else "renamed.mp4"))
    assert probe(renamed).format == expected


def _animated_gif(path: Path) -> Path:
    images = [Image.fromarray(f) for f in _frames(8)]
    images[0].save(path, save_all=True, append_images=images[1:], duration=100, loop=0)
    return path


def _still(fmt: str):
    def make(path: Path) -> Path:
        _noise_image().save(path, format=fmt)
        return path
    return make


MAKERS = {
    "photo.jpg": _still("JPEG"),
    "photo.png": _still("PNG"),
    "still.gif": _still("GIF"),
    "photo.webp": _still("WEBP"),
    "anim.gif": _animated_gif,
    "clip.webm": lambda p: write_video(p, _frames(), codec="libvpx-vp9"),
    "clip.mkv": lambda p: write_video(p, _frames()),
    "clip.mp4": lambda p: write_video(p, _frames()),
    "faststart.mp4": lambda p: write_video(p, _frames(),
                                           container_options={"movflags": "+faststart"}),
}


def _probe_and_check(path: Path) -> None:
    check_whole(path, probe(path))


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_a_cut_file_is_refused_like_any_other(tmp_path, name):
    """Every format the same way: whole, it passes; cut (at half or at nine tenths), it
    is CorruptMedia before any analysis, not a failure in the job later."""
    whole = MAKERS[name](tmp_path / name)
    _probe_and_check(whole)
    data = whole.read_bytes()
    for keep in (0.5, 0.9):
        cut = tmp_path / f"cut-{int(keep * 100)}-{name}"
        cut.write_bytes(data[: int(len(data) * keep)])
        with pytest.raises(CorruptMedia) as exc:
            _probe_and_check(cut)
        assert cut.name in str(exc.value)
        assert any(w in str(exc.value)
                   for w in ("truncated", "cut short", "damaged", "cannot read"))


def test_cut_images_are_refused_even_with_pillows_truncated_flag(tmp_path, monkeypatch):
    """WeasyPrint's import sets ImageFile.LOAD_TRUNCATED_IMAGES for the whole process;
    fakelens' own image reading turns it off again."""
    from fakelens.web.live import decode_jpeg

    buf = io.BytesIO()
    _noise_image().save(buf, format="JPEG")
    cut = buf.getvalue()[: len(buf.getvalue()) // 2]
    path = tmp_path / "cut.jpg"
    path.write_bytes(cut)

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(CorruptMedia, match="truncated"):
        list(iter_frames(path, probe(path)))
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(CorruptMedia):
        _probe_and_check(path)
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(MediaError):
        decode_jpeg(cut, 4096)


def _damaged_exif_jpeg(path: Path, keep: int) -> Path:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0131] = "Maker", "Model X long name", "Editor 1.0"
    _noise_image().save(path, format="JPEG", exif=exif.tobytes()[:keep])
    return path


@pytest.mark.parametrize(("keep", "words"), [(20, "no tag could be read"),
                                             (90, "partly damaged")])
def test_damaged_exif_is_reported_once_without_pillows_warnings(tmp_path, keep, words):
    from fakelens.provenance import inspect_provenance

    path = _damaged_exif_jpeg(tmp_path / "exif.jpg", keep)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        info = probe(path)
        check_whole(path, info)
        (frame,) = iter_frames(path, info)
        provenance = inspect_provenance(path)
    assert [str(w.message) for w in caught] == []
    assert frame.rgb.shape == (120, 160, 3)
    exif_problems = [p for p in provenance.problems if p.part == "EXIF"]
    assert len(exif_problems) == 1 and words in exif_problems[0].message
    if keep == 90:  # what could be read is kept
        assert "Maker" in {m.value for m in provenance.metadata}


def test_other_warnings_still_pass_through():
    from fakelens.media.images import exif_warnings

    with pytest.warns(UserWarning, match="not about EXIF"), exif_warnings() as found:
        warnings.warn("not about EXIF", UserWarning, stacklevel=1)
    assert found == []
