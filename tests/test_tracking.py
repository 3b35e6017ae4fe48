import numpy as np

from fakelens.faces.detector import FaceDetection
from fakelens.faces.tracking import iou, track_faces


def face(x, y, s=100):
    return FaceDetection((x, y, s, s), np.zeros((5, 2), np.float32), 0.9)


def test_iou():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
    assert abs(iou((0, 0, 10, 10), (5, 0, 10, 10)) - 50 / 150) < 1e-9


def test_two_people_two_tracks_even_when_order_swaps():
    frames = [[face(0, 0), face(500, 0)], [face(510, 5), face(8, 3)], [face(15, 6)],
              [face(520, 10), face(20, 8)]]
    tracks = track_faces(frames)
    assert len(tracks) == 2
    left = next(t for t in tracks if t.faces[0].detection.box[0] < 100)
    assert [tf.frame_pos for tf in left.faces] == [0, 1, 2, 3]
    assert all(tf.detection.box[0] < 100 for tf in left.faces)


def test_track_survives_short_gap_and_large_sparse_motion():
    frames = [[face(0, 0)], [], [face(60, 0)], [face(900, 900)]]
    tracks = track_faces(frames, max_gap=4)
    assert [len(t.faces) for t in tracks] == [2, 1]
