"""One result as a batch writes it: the ``detect --json`` document (or the error object)
plus ``file`` (as listed) and ``batch`` (size and mtime: the resume key), and the same
result as one flat Parquet row."""

from __future__ import annotations

import json

from fakelens.batch.sources import Item

COLUMNS = ("file", "size", "mtime", "sha256", "verdict", "score", "detector_scores", "faces",
           "frames", "seconds", "error_type", "error")


def result_doc(item: Item, analysis_json: str) -> dict:
    doc = json.loads(analysis_json)
    doc["file"] = item.file
    doc["batch"] = {"size": item.size, "mtime": item.mtime}
    return doc


def error_doc(item: Item, error_type: str, message: str) -> dict:
    return {"file": item.file, "error": {"type": error_type, "message": message},
            "batch": {"size": item.size, "mtime": item.mtime}}


def doc_key(doc: dict) -> tuple[str, int | None, float | None]:
    b = doc.get("batch") or {}
    return (doc["file"], b.get("size"), b.get("mtime"))


def flat_row(doc: dict) -> dict:
    """The Parquet columns of one line. ``detector_scores``: each detector's highest
    track score, as a JSON object (null without a face or on error)."""
    b = doc.get("batch") or {}
    row = {"file": doc["file"], "size": b.get("size"), "mtime": b.get("mtime")}
    if "error" in doc:
        return row | {"sha256": None, "verdict": None, "score": None, "detector_scores": None,
                      "faces": None, "frames": None, "seconds": None,
                      "error_type": doc["error"]["type"], "error": doc["error"]["message"]}
    per: dict[str, float] = {}
    for track in doc.get("tracks", []):
        for ms in track.get("model_scores", []):
            per[ms["model"]] = max(per.get(ms["model"], 0.0), ms["score"])
    return row | {"sha256": doc["media"].get("sha256"), "verdict": doc["verdict"],
                  "score": doc["score"], "detector_scores": json.dumps(per) if per else None,
                  "faces": len(doc.get("tracks", [])), "frames": doc.get("frames_sampled"),
                  "seconds": doc.get("timings", {}).get("total_s"),
                  "error_type": None, "error": None}
