"""Live analysis: a camera, a stream or a file played live, followed frame by frame with the
same face detector, tracking, detectors and verdict rule as ``fakelens.analyze``.

``sources`` opens and decodes, ``slot`` hands the newest frame over (older ones are dropped),
``tracker`` follows faces and keeps each one's rolling window and a bounded history,
``analyser`` scores frames and makes the rolling updates, ``alerts`` is the alert rule,
``summary`` turns a session into a normal ``Analysis``, ``runner`` ties them for the CLI.
"""

from fakelens.live.analyser import LiveAnalyser, LiveOptions
from fakelens.live.models import FaceState, FrameResult, LiveAlert, LiveUpdate

__all__ = ["FaceState", "FrameResult", "LiveAlert", "LiveAnalyser", "LiveOptions", "LiveUpdate"]
