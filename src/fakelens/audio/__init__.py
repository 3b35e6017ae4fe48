"""Voices: decode any file's audio (PyAV), find the speech, score it for cloning (ONNX).

decode (16 kHz mono float32, streamed), vad (energy-based speech segments), features
(log-mel in numpy), model (the detector's config and ONNX session), analyse (the voice
check that ``fakelens.analyze`` runs beside the face check).
"""

from fakelens.audio.analyse import analyze_audio
from fakelens.audio.decode import AudioReader, decode_audio

__all__ = ["AudioReader", "analyze_audio", "decode_audio"]
