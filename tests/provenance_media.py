"""Files with provenance for tests, made in temporary folders: C2PA manifests signed with the
public test certificate of ``$FAKELENS_SAMPLES/provenance/test-signing`` (untrusted by
design), generator parameters, XMP, container tags, and damaged or hostile blocks."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def jpeg_bytes(rgb: np.ndarray | None = None, exif: Image.Exif | None = None,
               xmp: bytes | None = None) -> bytes:
    extra = {k: v for k, v in (("exif", exif), ("xmp", xmp)) if v}
    buf = io.BytesIO()
    Image.fromarray(rgb if rgb is not None else _pattern()).save(buf, "JPEG", quality=92, **extra)
    return buf.getvalue()


def _pattern(w: int = 96, h: int = 64) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // w, y * 255 // h, (x + y) % 256], -1).astype(np.uint8)


def sign(signing: Path, data: bytes, actions: list[dict], *, mime: str = "image/jpeg",
         remote_url: str | None = None, title: str = "signed.jpg") -> bytes:
    """``data`` with a C2PA manifest holding ``actions``, signed with the test certificate."""
    import c2pa

    info = c2pa.C2paSignerInfo(alg=b"es256",
                               sign_cert=(signing / "es256_certs.pem").read_bytes(),
                               private_key=(signing / "es256_private.key").read_bytes(),
                               ta_url=None)  # no timestamp authority: stays offline
    signer = c2pa.Signer.from_info(info)
    builder = c2pa.Builder({"claim_generator_info": [{"name": "fakelens tests", "version": "1"}],
                            "title": title,
                            "assertions": [{"label": "c2pa.actions",
                                            "data": {"actions": actions}}]})
    if remote_url:
        builder.set_no_embed()
        builder.set_remote_url(remote_url)
    out = io.BytesIO()
    try:
        builder.sign(signer, mime, io.BytesIO(data), out)
    finally:
        builder.close()
        signer.close()
    return out.getvalue()


def created_by(generator: str, source_type: str) -> list[dict]:
    return [{"action": "c2pa.created", "softwareAgent": {"name": generator, "version": "2.1"},
             "digitalSourceType": IPTC + source_type}]


def truncate_manifest(jpeg: bytes, keep: int = 300) -> bytes:
    """The JPEG with its C2PA segment (APP11, JUMBF) cut to ``keep`` bytes: a damaged
    manifest inside a JPEG that still decodes."""
    out, pos = bytearray(jpeg[:2]), 2
    while jpeg[pos + 1] != 0xDA:  # up to the start of scan
        marker = jpeg[pos + 1]
        length = struct.unpack(">H", jpeg[pos + 2:pos + 4])[0]
        payload = jpeg[pos + 4:pos + 2 + length]
        if marker == 0xEB:
            payload = payload[:keep]
        out += bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload
        pos += 2 + length
    return bytes(out + jpeg[pos:])


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_with_text(path: Path, texts: dict[str, str], rgb: np.ndarray | None = None) -> Path:
    info = PngImagePlugin.PngInfo()
    for key, value in texts.items():
        info.add_text(key, value, zip=len(value) > 200)
    Image.fromarray(rgb if rgb is not None else _pattern()).save(path, "PNG", pnginfo=info)
    return path


def png_with_chunk_after_header(path: Path, chunk: bytes, rgb: np.ndarray | None = None) -> Path:
    buf = io.BytesIO()
    Image.fromarray(rgb if rgb is not None else _pattern()).save(buf, "PNG")
    data = buf.getvalue()
    header_end = 8 + 25  # signature + IHDR
    path.write_bytes(data[:header_end] + chunk + data[header_end:])
    return path


def xmp_packet(**properties: str) -> bytes:
    attrs = " ".join(f'{k}="{v}"' for k, v in properties.items())
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
            '02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
            'xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
            'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
            f"{attrs}/></rdf:RDF></x:xmpmeta>").encode()


def mp4_with_tags(path: Path, tags: dict[str, str], stream_tags: dict[str, str] | None = None,
                  n_frames: int = 5) -> Path:
    """An H.264 MP4 whose container (and video stream) carry ``tags``; FFmpeg adds its own
    ``encoder`` tag (Lavf...), as in any FFmpeg-made file."""
    import av

    with av.open(str(path), "w", options={"movflags": "use_metadata_tags"}) as out:
        out.metadata.update(tags)
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        stream.metadata.update(stream_tags or {})
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(np.roll(_pattern(64, 64), i * 4, 1), "rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path
