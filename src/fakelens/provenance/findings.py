"""What single metadata traces suggest: generator parameters, digital source types, software
names and camera tags, each with what it does not prove."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from fakelens.provenance.credentials import AI_SOURCE_TYPES, SOURCE_TYPE_WORDS
from fakelens.provenance.software import Kind, identify
from fakelens.provenance.traces import Traces
from fakelens.types import ProvenanceFinding, TraceSignal

ANYONE_CAN_WRITE = "Anyone can write or remove such a tag; most AI-generated files carry none, " \
                   "because apps and sites strip metadata."
PROMPT_CHARS = 160

_MODEL_INPUTS = ("ckpt_name", "unet_name")
_MODEL_LOADERS = ("CheckpointLoaderSimple", "UNETLoader")
# two searches, not one pattern with ".*" between them: linear on hostile text
_SD_STEPS = re.compile(r"\bSteps: \d+,")
_SD_SETTING = re.compile(r"\b(Sampler|CFG scale|Seed): ")


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return f"“{text[:PROMPT_CHARS]}{'…' if len(text) > PROMPT_CHARS else ''}”"


def _sd_webui(where: str, text: str) -> str | None:
    """AUTOMATIC1111 / Forge style: prompt, optional negative prompt, then 'Steps: ...'."""
    steps = _SD_STEPS.search(text)
    if not steps or not _SD_SETTING.search(text, steps.end()):
        return None
    prompt = re.split(r"\n?Negative prompt:|\n?Steps: \d", text, maxsplit=1)[0]
    details = [f"prompt {_quote(prompt)}"] if prompt.strip() else []
    for key in ("Model", "Sampler", "Seed"):
        m = re.search(rf"\b{key}: ([^,\n]{{1,80}})", text)
        if m:
            details.append(f"{key.lower()} {m.group(1).strip()}")
    return f"{where}: {', '.join(details) or 'generation settings'}"


def _comfyui(where: str, text: str) -> str | None:
    """ComfyUI's 'prompt' (node graph by id) or 'workflow' (editor graph) as JSON."""
    if not where.endswith((" prompt", " workflow")) or not text.lstrip().startswith("{"):
        return None
    try:
        graph = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(graph, dict):
        return None
    nodes = graph.get("nodes") if isinstance(graph.get("nodes"), list) else [
        n for n in graph.values() if isinstance(n, dict) and "class_type" in n]
    if not nodes:
        return None
    models = set()
    for node in nodes:
        if not isinstance(node, dict):
            continue
        inputs, widgets = node.get("inputs"), node.get("widgets_values")
        if isinstance(inputs, dict):  # prompt format
            models.update(str(inputs[k]) for k in _MODEL_INPUTS if k in inputs)
        if node.get("type") in _MODEL_LOADERS and isinstance(widgets, list) and widgets:
            models.add(str(widgets[0]))  # workflow format
    found = f"{where}: a ComfyUI graph of {len(nodes)} nodes"
    return found + (f", model {', '.join(sorted(models))}" if models else "")


def _other_generator(where: str, text: str) -> str | None:
    if re.search(r"\b(invokeai_metadata|sd-metadata|Dream|fooocus_scheme)$", where):
        return f"{where}: generation settings of a Stable Diffusion front end"
    if re.search(r"Job ID: [0-9a-f-]{36}", text):
        return f"{where}: a Midjourney job id"
    return None


_RECOGNISERS: list[tuple[str, Callable[[str, str], str | None]]] = [
    ("Stable Diffusion generation parameters", _sd_webui),
    ("ComfyUI workflow", _comfyui),
    ("AI generator settings", _other_generator),
]


def generator_findings(traces: Traces) -> list[ProvenanceFinding]:
    out = []
    for title, recognise in _RECOGNISERS:
        for where, text in traces.texts.items():
            evidence = recognise(where, text)
            if evidence:
                out.append(ProvenanceFinding(
                    signal=TraceSignal.AI_GENERATED, title=title, evidence=evidence,
                    suggests="made or edited with an AI image generator, which wrote its "
                             "settings into the file",
                    does_not_prove="The settings can be copied into any file, and they do not "
                                   "say which parts were generated (an edit of a real photo "
                                   "carries them too)."))
                break
    return out


def source_type_findings(traces: Traces) -> list[ProvenanceFinding]:
    out = []
    for where, code in dict.fromkeys(traces.source_types):
        words = SOURCE_TYPE_WORDS.get(code, code)
        if code in AI_SOURCE_TYPES:
            signal = TraceSignal.AI_GENERATED
        elif code in ("digitalCapture", "computationalCapture"):
            signal = TraceSignal.CAPTURED
        elif code.startswith("composite") or code in ("algorithmicallyEnhanced", "humanEdits"):
            signal = TraceSignal.EDITED
        else:
            continue
        out.append(ProvenanceFinding(
            signal=signal, title=f"Digital source type: {code}", evidence=f"{where}: {words}",
            suggests=f"the software that wrote the file declared it {words}",
            does_not_prove="Unsigned XMP can be edited by anyone: only signed content "
                           "credentials bind such a statement to the file."))
    return out


_SOFTWARE_MEANING = {
    Kind.GENERATOR: (TraceSignal.AI_GENERATED, "an AI generator made or last saved the file"),
    Kind.FACE_SWAP: (TraceSignal.AI_GENERATED, "a face-swap tool made or last saved the file"),
    Kind.EDITOR: (TraceSignal.EDITED, "the file was opened and saved again in an editor"),
    Kind.CONVERTER: (TraceSignal.PROCESSED, "the file was re-encoded or re-packaged by a "
                     "converter (common after any upload, download or trim)"),
    Kind.RECORDER: (TraceSignal.PROCESSED, "the video was recorded from a screen"),
    Kind.CAPTURE: (TraceSignal.CAPTURED, "the file was written by Apple's media framework, as "
                   "the camera app of an iPhone, iPad or Mac does (other apps use it too)"),
}


def software_findings(traces: Traces) -> list[ProvenanceFinding]:
    out, seen = [], set()
    for where, text in traces.software:
        program = identify(text)
        if program is None or program.name in seen:
            continue
        seen.add(program.name)
        signal, suggests = _SOFTWARE_MEANING[program.kind]
        value = " ".join(text.split())
        out.append(ProvenanceFinding(
            signal=signal, title=f"{program.kind[0].upper()}{program.kind[1:]}: {program.name}",
            evidence=f"{where}: {value[:PROMPT_CHARS]}", suggests=suggests,
            does_not_prove=ANYONE_CAN_WRITE if signal is TraceSignal.AI_GENERATED else
            "A software tag names the last program that wrote the file, not what it changed."))
    return out


def camera_findings(traces: Traces) -> list[ProvenanceFinding]:
    if traces.camera is None:
        return []
    return [ProvenanceFinding(
        signal=TraceSignal.CAPTURED, title=f"Camera: {traces.camera}",
        evidence=f"camera make and model tags: {traces.camera}",
        suggests="the file was recorded with this camera or phone",
        does_not_prove="Camera tags are easily copied into other files, and a genuine "
                       "recording can still show a staged or misleading scene.")]


def single_findings(traces: Traces) -> list[ProvenanceFinding]:
    return (generator_findings(traces) + source_type_findings(traces)
            + software_findings(traces) + camera_findings(traces))
