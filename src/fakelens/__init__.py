"""fakelens: find every face in a video or image, score how likely it is manipulated,
and explain the verdict.

    >>> import fakelens
    >>> result = fakelens.analyze("clip.mp4")
    >>> result.verdict, result.score
    >>> result.provenance.credentials.state  # content credentials, beside the verdict
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["Analysis", "FakeLensError", "Verdict", "__version__", "analyze",
           "inspect_provenance", "list_models", "load_detector"]

if TYPE_CHECKING:
    from fakelens.analysis.pipeline import analyze
    from fakelens.errors import FakeLensError
    from fakelens.models.runtime import load_detector
    from fakelens.provenance import inspect_provenance
    from fakelens.types import Analysis, Verdict


def list_models() -> list[str]:
    """Names of the installed (trained) detectors."""
    from fakelens.models.registry import installed_detectors

    return sorted(installed_detectors())


def __getattr__(name: str):
    # heavy imports (OpenCV, ONNX Runtime, PyAV) only when the API is used
    if name == "analyze":
        from fakelens.analysis.pipeline import analyze

        return analyze
    if name == "inspect_provenance":
        from fakelens.provenance import inspect_provenance

        return inspect_provenance
    if name == "load_detector":
        from fakelens.models.runtime import load_detector

        return load_detector
    if name == "FakeLensError":
        from fakelens.errors import FakeLensError

        return FakeLensError
    if name in ("Analysis", "Verdict"):
        from fakelens import types

        return getattr(types, name)
    raise AttributeError(f"module 'fakelens' has no attribute {name!r}")
