"""The work of one file, as a Ray actor runs it: ``fakelens.analyze`` (the one analysis
path) on a local path, a downloaded fsspec URL or a link, turned into its output line.
Every failure becomes an error line; nothing a file does is lost."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable

from fakelens.batch.records import error_doc, result_doc
from fakelens.batch.sources import Item, is_url

Analyse = Callable[[Item, dict], dict]


def _is_link(raw: str) -> bool:
    return raw.startswith(("http://", "https://"))


def analyse_item(item: Item, options: dict) -> dict:
    """The output line for ``item``: ``detect --json``'s document, or ``{"file",
    "error"}``. ``options`` are ``analyze``'s keywords (frames, model, ...)."""
    import fakelens
    from fakelens.config import get_settings

    settings = get_settings(**options.get("settings", {}))
    kwargs = {k: v for k, v in options.items() if k != "settings"}
    tmp = None
    try:
        target = item.file
        if is_url(item.file) and not _is_link(item.file):
            tmp = _download(item.file)  # s3://, gs://, ...: a local copy for the decoder
            target = tmp
        analysis = fakelens.analyze(target, settings=settings, **kwargs)
        doc = result_doc(item, analysis.to_json())
        if tmp:
            doc["media"]["path"] = item.file
        return doc
    except Exception as exc:  # noqa: BLE001 - a file's failure is its line, not the run's
        return error_doc(item, type(exc).__name__, str(exc) or repr(exc))
    finally:
        if tmp:
            os.unlink(tmp)


def _download(url: str) -> str:
    import fsspec

    suffix = os.path.splitext(url.rsplit("/", 1)[-1])[1]
    fd, tmp = tempfile.mkstemp(prefix="fakelens-batch-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out, fsspec.open(url, "rb") as src:
            while chunk := src.read(1 << 20):
                out.write(chunk)
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


CUDA = "CUDAExecutionProvider"
NO_CUDA = ("onnxruntime here has no CUDA execution provider (pip install onnxruntime-gpu "
           "in the workers' environment): the detectors run on the CPU")


def gpu_providers(available: list[str]) -> tuple[list[str], str | None]:
    """The ONNX Runtime providers of a GPU worker, from those ``available``: CUDA first
    (Ray shows the actor only its own GPU, as device 0), else the CPU and a warning."""
    if CUDA in available:
        return [CUDA, "CPUExecutionProvider"], None
    return ["CPUExecutionProvider"], NO_CUDA


class Analyser:
    """One worker: loads the detectors once, then analyses file after file. Ray makes it
    an actor (``ray.remote(Analyser)``) with one CPU and ONNX Runtime on ``threads``, or,
    with ``gpu``, one GPU too and the detectors on ONNX Runtime's CUDA provider. (The
    YuNet face detector and the video decoder stay on the CPU.)"""

    def __init__(self, options: dict, analyse: Analyse | None = None, gpu: bool = False):
        self.options = options
        self.analyse = analyse or analyse_item
        self.warning: str | None = None
        self.providers: list[str] = []
        if gpu:
            import onnxruntime as ort

            from fakelens.models.runtime import set_providers

            wanted, self.warning = gpu_providers(ort.get_available_providers())
            if CUDA in wanted and hasattr(ort, "preload_dlls"):
                try:  # CUDA and cuDNN from pip's nvidia-* wheels (onnxruntime-gpu[cuda,cudnn])
                    ort.preload_dlls()
                except Exception:  # noqa: BLE001 - the session then says where it runs
                    pass
            set_providers(wanted)
        self._warm(gpu)

    def _warm(self, gpu: bool) -> None:
        try:
            import cv2

            from fakelens.analysis.frames import load_detectors
            from fakelens.config import get_settings
            from fakelens.faces.detector import load_face_detector

            threads = self.options.get("settings", {}).get("intra_op_threads", 0)
            if threads:
                cv2.setNumThreads(threads)
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
            settings = get_settings(**self.options.get("settings", {}))
            detectors = load_detectors("video", self.options.get("model"), settings)
            load_face_detector(settings)
        except Exception:  # noqa: BLE001 - a missing model is each file's error line
            return
        self.providers = detectors[0].providers
        if gpu and self.warning is None and CUDA not in self.providers:
            self.warning = ("ONNX Runtime could not start its CUDA provider (CUDA or cuDNN "
                            "libraries missing?): the detectors run on the CPU")

    def device(self) -> dict:
        """Where this worker's detectors run: ``providers`` and a ``warning`` (or None)."""
        return {"providers": self.providers, "warning": self.warning}

    def run(self, item: Item) -> dict:
        return self.analyse(item, self.options)

    def pid(self) -> int:
        return os.getpid()
