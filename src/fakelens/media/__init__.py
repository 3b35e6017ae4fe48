"""Media in: probe files, decode frames (PyAV, streaming) and images (Pillow)."""

from fakelens.media.frames import Frame
from fakelens.media.load import iter_frames, probe

__all__ = ["Frame", "iter_frames", "probe"]
