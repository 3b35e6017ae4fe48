"""Metadata traces, read as written: EXIF, XMP and IPTC (Pillow), PNG text chunks, and the
tags of video and audio containers and their streams (PyAV).

Each block is read on its own: a damaged or hostile block becomes a ``ProvenanceProblem``
and the others are still read. XMP is searched with a few bounded patterns, never given to
an XML parser (entity expansion, deep nesting).
"""

from __future__ import annotations

import html
import re
import struct
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import av
from PIL import ExifTags, Image, IptcImagePlugin, PngImagePlugin

from fakelens.errors import MediaError, MetadataError
from fakelens.media.images import exif_damage, exif_warnings, open_image, png_chunks
from fakelens.types import MetadataField, ProvenanceProblem

MAX_VALUE_CHARS = 400  # per field shown; generator checks see the whole text
MAX_FIELDS = 80
MAX_XMP_BYTES = 4 << 20

_EXIF_TAGS = {  # IFD0
    0x010F: "Make", 0x0110: "Model", 0x0131: "Software", 0x0132: "DateTime",
    0x013B: "Artist", 0x013C: "HostComputer", 0x010E: "ImageDescription", 0x8298: "Copyright"}
_EXIF_SUB_TAGS = {  # Exif IFD
    0x9003: "DateTimeOriginal", 0x9004: "DateTimeDigitized", 0x9286: "UserComment",
    0xA433: "LensMake", 0xA434: "LensModel"}
_XMP_PROPERTIES = ("Iptc4xmpExt:DigitalSourceType", "xmp:CreatorTool", "xmp:CreateDate",
                   "xmp:ModifyDate", "photoshop:DateCreated", "exif:DateTimeOriginal",
                   "tiff:Make", "tiff:Model", "stEvt:softwareAgent")
_IPTC_TAGS = {(2, 80): "By-line", (2, 65): "OriginatingProgram", (2, 70): "ProgramVersion",
              (2, 55): "DateCreated", (2, 110): "Credit", (2, 115): "Source",
              (2, 116): "CopyrightNotice"}
_DATE_ROLES = {"DateTimeOriginal": "captured", "DateTimeDigitized": "captured",
               "DateTime": "modified", "xmp:CreateDate": "created",
               "exif:DateTimeOriginal": "captured", "photoshop:DateCreated": "created",
               "xmp:ModifyDate": "modified", "DateCreated": "created",
               "creation_time": "created", "com.apple.quicktime.creationdate": "captured",
               "date": "created"}
_SOFTWARE_NAMES = {"Software", "HostComputer", "xmp:CreatorTool", "stEvt:softwareAgent",
                   "OriginatingProgram"}
_TEXT_NAMES = {"ImageDescription", "UserComment", "comment"}
# what Pillow raises on malformed metadata blocks
_DAMAGED = (SyntaxError, ValueError, TypeError, OSError, IndexError, KeyError, struct.error)
_CONTAINER_SOFTWARE = ("encoder", "software", "handler_name", "comment", "description",
                       "title", "encoded_by", "creator", "tool")


@dataclass
class DateTrace:
    where: str  # e.g. "EXIF DateTimeOriginal"
    role: str  # captured, created or modified
    when: datetime


@dataclass
class Traces:
    fields: list[MetadataField] = field(default_factory=list)
    problems: list[ProvenanceProblem] = field(default_factory=list)
    make: str | None = None
    model: str | None = None
    software: list[tuple[str, str]] = field(default_factory=list)  # (where, text)
    texts: dict[str, str] = field(default_factory=dict)  # where -> whole text (prompts...)
    source_types: list[tuple[str, str]] = field(default_factory=list)  # (where, IPTC code)
    dates: list[DateTrace] = field(default_factory=list)

    @property
    def camera(self) -> str | None:
        make, model = self.make or "", self.model or ""
        if model.lower().startswith(make.lower()):
            make = ""
        return " ".join(p for p in (make, model) if p) or None

    def add(self, source: str, name: str, value: str) -> None:
        value = value.strip().replace("\x00", "")
        if not value:
            return
        where = f"{source} {name}"
        if len(self.fields) < MAX_FIELDS:
            shown = value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + "…"
            self.fields.append(MetadataField(source=source, name=name, value=shown))
        key = name.rsplit(".", 1)[-1].lower()
        if source not in ("PNG text", "comment", "IPTC"):  # camera tags, not generator keys
            if key in ("make", "tiff:make", "manufacturer"):
                self.make = self.make or value
            elif key in ("model", "tiff:model"):
                self.model = self.model or value
        if name in _SOFTWARE_NAMES or (source != "EXIF" and name.lower() in _CONTAINER_SOFTWARE):
            self.software.append((where, value))
        if name in _TEXT_NAMES or source in ("PNG text", "container"):
            self.texts[where] = value
        if name == "Iptc4xmpExt:DigitalSourceType":
            self.source_types.append((where, value.rstrip("/").rsplit("/", 1)[-1]))
        role = _DATE_ROLES.get(name) or _DATE_ROLES.get(name.lower())
        when = parse_date(value) if role else None
        if when is not None:
            self.dates.append(DateTrace(where, role, when))


def parse_date(text: str) -> datetime | None:
    """EXIF ("2024:05:01 10:00:00"), ISO 8601 and IPTC ("20240501") dates; None otherwise."""
    text = text.strip()
    m = re.fullmatch(r"(\d{4}):(\d\d):(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.\d+)?", text[:26])
    if m:
        text = "{}-{}-{}T{}:{}:{}".format(*m.groups())
    elif re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def read_traces(path: Path) -> Traces:
    """Every metadata trace of an image (animated ones included), or of a video or audio
    container."""
    out = Traces()
    try:
        img = open_image(path)
    except MediaError as exc:
        out.problems.append(ProvenanceProblem(part="image", message=str(exc)))
        return out
    if img is not None:
        _guarded(out, "PNG text", _png_limits, path)
        with img:
            for part, reader in (("EXIF", _exif), ("XMP", _xmp), ("IPTC", _iptc),
                                 ("PNG text", _image_texts)):
                _guarded(out, part, reader, img)
    else:
        _guarded(out, "container tags", _container, path)
    return out


def _guarded(out: Traces, part: str, reader, source) -> None:
    try:
        reader(source, out)
    except MetadataError as exc:
        out.problems.append(ProvenanceProblem(part=part, message=str(exc)))


def _text(value) -> str:
    if isinstance(value, bytes):
        return _decode(value)
    if isinstance(value, (tuple, list)):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _decode(raw: bytes) -> str:
    # EXIF UserComment: an 8-byte character-code prefix, then the text
    if raw[:8] == b"UNICODE\x00":
        body = raw[8:]
        be, le = body.decode("utf-16-be", "replace"), body.decode("utf-16-le", "replace")
        return be if sum(c.isprintable() for c in be) >= sum(c.isprintable() for c in le) else le
    if raw[:8] in (b"ASCII\x00\x00\x00", b"\x00" * 8):
        raw = raw[8:]
    return raw.decode("utf-8", "replace")


def _exif(img: Image.Image, out: Traces) -> None:
    if img.format == "PNG" and "exif" not in img.info:
        return  # Pillow would decode the whole image looking for an eXIf chunk after it
    try:
        with exif_warnings() as warned:
            exif = img.getexif()
            values = [(name, exif[tag]) for tag, name in _EXIF_TAGS.items() if tag in exif]
            sub = exif.get_ifd(ExifTags.IFD.Exif)
            values += [(name, sub[tag]) for tag, name in _EXIF_SUB_TAGS.items() if tag in sub]
    except _DAMAGED as exc:
        raise MetadataError(f"the EXIF block is damaged ({exc})") from exc
    for name, value in values:
        out.add("EXIF", name, _text(value))
    raw = img.info.get("exif") or b""
    # Pillow skips what it cannot parse (with a warning): a block of some size that gives
    # not a single tag is damaged; one that gives some, partly
    if len(raw) > 16 and not len(exif) and not len(sub):
        raise MetadataError(f"the EXIF block ({len(raw)} bytes) is damaged: no tag could be "
                            "read")
    warned = exif_damage(img) + warned
    if warned:
        raise MetadataError("the EXIF block is partly damaged: what could be read is shown, "
                            f"the rest was skipped ({warned[0].rstrip('. ')})")


def _raw_xmp(img: Image.Image) -> bytes | str | None:
    for key in ("xmp", "XML:com.adobe.xmp"):
        if img.info.get(key):
            return img.info[key]
    tags = getattr(img, "tag_v2", None)  # TIFF keeps XMP in tag 700
    return tags.get(700) if tags is not None else None


def _xmp(img: Image.Image, out: Traces) -> None:
    raw = _raw_xmp(img)
    if not raw:
        return
    if len(raw) > MAX_XMP_BYTES:
        raise MetadataError(f"the XMP block is {len(raw):,} bytes long: not read")
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    if "rdf:RDF" not in text and "xmpmeta" not in text:
        raise MetadataError("the XMP block holds no XMP (no rdf:RDF): damaged")
    for prop in _XMP_PROPERTIES:
        name = re.escape(prop)
        pattern = (rf'{name}="([^"<]{{1,2000}})"|<{name}>([^<]{{1,2000}})</{name}>'
                   rf'|<{name}\s+rdf:resource="([^"<]{{1,2000}})"')
        for m in re.finditer(pattern, text):
            out.add("XMP", prop, html.unescape(next(g for g in m.groups() if g)))


def _iptc(img: Image.Image, out: Traces) -> None:
    if img.format not in ("JPEG", "TIFF", "MPO"):
        return
    try:
        info = IptcImagePlugin.getiptcinfo(img) or {}
    except _DAMAGED as exc:
        raise MetadataError(f"the IPTC block is damaged ({exc})") from exc
    for key, name in _IPTC_TAGS.items():
        if key in info:
            out.add("IPTC", name, _text(info[key]))


def _image_texts(img: Image.Image, out: Traces) -> None:
    """PNG tEXt/zTXt/iTXt chunks (before the image data), JPEG and GIF comments."""
    for key, value in img.info.items():
        if key == "comment" and isinstance(value, bytes | str):
            out.add("comment", "comment", _text(value))
        elif img.format == "PNG" and isinstance(value, str) and key != "XML:com.adobe.xmp":
            out.add("PNG text", str(key), value)


def _png_limits(path: Path, out: Traces) -> None:
    """Compressed PNG chunks that Pillow drops for their size (a decompression bomb) or
    damage; Pillow says nothing of it when ``ImageFile.LOAD_TRUNCATED_IMAGES`` is set (as
    WeasyPrint does on import), so they are looked for here. Chunks before the image data
    only: Pillow reads no others when it opens a file."""
    with path.open("rb") as fh:
        for kind, _, length in png_chunks(fh):
            if kind in (b"IDAT", b"IEND"):
                return
            if kind not in (b"zTXt", b"iTXt", b"iCCP"):
                continue
            if length > PngImagePlugin.MAX_TEXT_MEMORY:
                raise MetadataError(f"a {length:,}-byte {kind.decode()} chunk: not read")
            raw_name, _, rest = fh.read(length).partition(b"\0")
            name = raw_name.decode("latin-1")[:80]
            if kind == b"iTXt":  # flag, method, language\0, translated keyword\0, text
                if rest[:1] != b"\x01":
                    continue  # not compressed
                parts = rest[2:].split(b"\0", 2)
                if len(parts) < 3:
                    raise MetadataError(f"the iTXt chunk '{name}' is truncated: damaged")
                payload = parts[2]
            else:  # zTXt, iCCP: the method byte, then the compressed data
                payload = rest[1:]
            _check_inflate(kind.decode(), name, payload)


def _check_inflate(kind: str, name: str, payload: bytes) -> None:
    limit = PngImagePlugin.MAX_TEXT_CHUNK
    try:
        size = len(zlib.decompressobj().decompress(payload, limit + 1))
    except zlib.error as exc:
        raise MetadataError(f"the {kind} chunk '{name}' cannot be decompressed ({exc}): "
                            "damaged") from exc
    if size > limit:
        raise MetadataError(f"the {kind} chunk '{name}' expands past {limit:,} bytes: skipped "
                            "as a hostile block (a decompression bomb)")


def _container(path: Path, out: Traces) -> None:
    try:
        # tags live in the header: FFmpeg need not decode frames to analyse the streams
        with av.open(str(path), mode="r", metadata_errors="ignore",
                     options={"probesize": "32", "analyzeduration": "0"}) as container:
            blocks = [("container", container.metadata)]
            blocks += [(f"stream {s.index} ({s.type})", s.metadata) for s in container.streams]
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise MetadataError(f"the container tags cannot be read "
                            f"({getattr(exc, 'strerror', None) or exc})") from exc
    for source, tags in blocks:
        for name, value in tags.items():
            if name.lower() not in ("major_brand", "minor_version", "compatible_brands",
                                    "language", "duration", "vendor_id"):
                out.add(source, name, _text(value))
