"""Faces: detection with landmarks, tracking across frames, aligned crops."""

from fakelens.faces.crops import crop_face
from fakelens.faces.detector import FaceDetection, FaceDetector, load_face_detector
from fakelens.faces.tracking import track_faces

__all__ = ["FaceDetection", "FaceDetector", "crop_face", "load_face_detector", "track_faces"]
