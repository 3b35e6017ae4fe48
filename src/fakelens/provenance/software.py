"""Known programs by the names they write into files (software tags, encoders, comments).

A name in a tag says which program last wrote it, not who made the content: any tag can be
removed or written by hand. The table is a list of well-known names, not a complete one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    GENERATOR = "AI generator"
    FACE_SWAP = "face-swap tool"
    EDITOR = "editor"
    CONVERTER = "converter"
    RECORDER = "screen recorder"
    CAPTURE = "capture"


@dataclass(frozen=True)
class Program:
    name: str
    kind: Kind


_TABLE: list[tuple[str, str, Kind]] = [
    # (pattern, display name, kind); matched case-insensitively on word boundaries
    (r"stable[ _-]?diffusion|\bsdxl\b|stability ai|dreamstudio", "Stable Diffusion",
     Kind.GENERATOR),
    (r"automatic1111|sd[-_ ]webui", "Stable Diffusion web UI", Kind.GENERATOR),
    (r"comfyui", "ComfyUI", Kind.GENERATOR),
    (r"invoke ?ai", "InvokeAI", Kind.GENERATOR),
    (r"fooocus", "Fooocus", Kind.GENERATOR),
    (r"novelai", "NovelAI", Kind.GENERATOR),
    (r"midjourney", "Midjourney", Kind.GENERATOR),
    (r"dall[-·. ]?e", "DALL-E", Kind.GENERATOR),
    (r"chatgpt|gpt-4o|openai", "OpenAI", Kind.GENERATOR),
    (r"\bsora\b", "Sora", Kind.GENERATOR),
    (r"adobe firefly|\bfirefly\b", "Adobe Firefly", Kind.GENERATOR),
    (r"\bimagen\b|\bgemini\b|\bveo\b|nano banana", "Google Imagen/Gemini/Veo", Kind.GENERATOR),
    (r"flux\.1|black forest labs", "FLUX", Kind.GENERATOR),
    (r"ideogram", "Ideogram", Kind.GENERATOR),
    (r"leonardo\.ai|leonardo ai", "Leonardo.Ai", Kind.GENERATOR),
    (r"bing image creator|microsoft designer", "Microsoft Designer", Kind.GENERATOR),
    (r"craiyon", "Craiyon", Kind.GENERATOR),
    (r"\brunway(ml)?\b", "Runway", Kind.GENERATOR),
    (r"pika labs|pika\.art", "Pika", Kind.GENERATOR),
    (r"\bkling\b", "Kling", Kind.GENERATOR),
    (r"dream machine|lumalabs", "Luma Dream Machine", Kind.GENERATOR),
    (r"synthesia|heygen|\bd-id\b", "AI avatar video", Kind.GENERATOR),
    (r"elevenlabs", "ElevenLabs", Kind.GENERATOR),
    (r"\bsuno\b", "Suno", Kind.GENERATOR),
    (r"stylegan|thispersondoesnotexist", "StyleGAN", Kind.GENERATOR),
    (r"deepfacelab|deepfacelive", "DeepFaceLab/DeepFaceLive", Kind.FACE_SWAP),
    (r"facefusion|\broop\b|faceswap|\breface\b|faceapp", "face-swap app", Kind.FACE_SWAP),
    (r"photoshop", "Adobe Photoshop", Kind.EDITOR),
    (r"lightroom", "Adobe Lightroom", Kind.EDITOR),
    (r"premiere|after effects|adobe express", "Adobe video editor", Kind.EDITOR),
    (r"\bgimp\b", "GIMP", Kind.EDITOR),
    (r"affinity (photo|designer)", "Affinity", Kind.EDITOR),
    (r"pixelmator|snapseed|picsart|facetune|photopea|paint\.net|luminar|\bcanva\b",
     "photo editor", Kind.EDITOR),
    (r"capcut|clipchamp|davinci resolve|final cut|imovie|kdenlive|shotcut|filmora|inshot|"
     r"lumafusion|\bvegas pro\b", "video editor", Kind.EDITOR),
    (r"\blav[fc]\d|ffmpeg", "FFmpeg", Kind.CONVERTER),
    (r"handbrake", "HandBrake", Kind.CONVERTER),
    (r"\bobs\b|obs studio|evcapture|screen ?record|bandicam|camtasia", "screen recorder",
     Kind.RECORDER),
    (r"core media", "Apple Core Media (iPhone, iPad or Mac)", Kind.CAPTURE),
]
_COMPILED = [(re.compile(p, re.IGNORECASE), name, kind) for p, name, kind in _TABLE]


def identify(text: str) -> Program | None:
    """The first known program named in ``text`` (generators before editors)."""
    for pattern, name, kind in _COMPILED:
        if pattern.search(text):
            return Program(name, kind)
    return None
