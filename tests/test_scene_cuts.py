"""Face tracks and scene cuts (faces/tracking.py): a track does not continue across a cut,
nor to a different-looking face after a large change of picture, yet one person stays one
track through motion, a flash, and dense or live sampling. The rules on hand-made frames
first, then on clips with YuNet (real faces), through ``analyze`` and the live tracker."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from synthetic_media import clip_frames, face_shot, write_video

import fakelens
from fakelens.faces.detector import FaceDetection
from fakelens.faces.tracking import (
    ALIKE,
    FLASH,
    LOOK,
    SAME_FACE,
    FrameLook,
    LiveShots,
    frame_look,
    shots,
    track_faces,
)
from fakelens.live.tracker import LiveTracker
from fakelens.media.scenes import SMALL


def face(x: float = 100, y: float = 50, s: float = 100) -> FaceDetection:
    return FaceDetection((x, y, s, s), np.zeros((5, 2), np.float32), 0.9)


def scene(hue: int, seed: int | None = None) -> np.ndarray:
    """A frame as the tracker sees it (HSV at ``SMALL``): one hue, or noise (``seed``)."""
    if seed is not None:
        rng = np.random.default_rng(seed)
        return np.stack([rng.integers(0, 180, (SMALL[1], SMALL[0])),
                         rng.integers(0, 256, (SMALL[1], SMALL[0])),
                         rng.integers(0, 256, (SMALL[1], SMALL[0]))], -1).astype(np.uint8)
    out = np.full((SMALL[1], SMALL[0], 3), 180, np.uint8)
    out[..., 0] = hue
    return out


def person(k: int, other: int | None = None, noise: float = 0.1) -> np.ndarray:
    """A face's look: person ``k`` is a cosine of frequency ``k`` (different people are
    orthogonal); with ``other``, another picture of that face (``noise`` times a cosine of
    frequency ``other`` added)."""
    i = np.arange(LOOK * LOOK)
    v = np.cos(2 * np.pi * k * i / (LOOK * LOOK))
    if other is not None:
        v = v + noise * np.cos(2 * np.pi * other * i / (LOOK * LOOK))
    return (v / np.linalg.norm(v)).astype(np.float32)


def test_the_made_up_faces_are_what_the_tests_say():
    assert abs(float(person(1) @ person(2))) < 1e-5 < SAME_FACE
    assert float(person(1, 20) @ person(1, 21)) > ALIKE
    assert SAME_FACE < float(person(1, 20, 1.0) @ person(1, 21, 1.0)) < ALIKE


def test_a_cut_between_two_people_at_the_same_place_starts_a_new_track():
    per_frame = [[face(100 + i)] for i in range(8)]
    looks = ([FrameLook(scene(0), [person(1)])] * 4
             + [FrameLook(scene(110), [person(2)])] * 4)
    assert shots(looks) == [0, 0, 0, 0, 1, 1, 1, 1]
    assert len(track_faces(per_frame)) == 1  # boxes alone join them
    tracks = track_faces(per_frame, looks=looks)
    assert [[f.frame_pos for f in t.faces] for t in tracks] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_the_same_face_through_a_flash_stays_one_track():
    """A few frames unlike those before and after, which are alike: a flash (fading over
    frames when sampled densely), no cut; the face through it looks alike enough to go on.
    The live tracker, which cannot look ahead, goes back to the shot once the picture
    comes back."""
    n = 6 + FLASH
    flashed = range(3, 3 + FLASH - 1)  # the last frame before the picture comes back
    per_frame = [[face(100 + i)] for i in range(n)]
    looks = [FrameLook(scene(110 - 10 * (i - 3) if i in flashed else 0),
                       [person(1, 10 + i, 1.0)]) for i in range(n)]
    assert shots(looks) == [0] * n
    assert [len(t.faces) for t in track_faces(per_frame, looks=looks)] == [n]
    live = LiveShots()
    assert [live.add(lk) for lk in looks][3 + FLASH - 1:] == [0] * 4
    tracker = LiveTracker()
    for pos in range(n):
        (track,) = tracker.assign(pos, per_frame[pos], looks[pos])
        track.last, track.last_pos = per_frame[pos][0], pos
    assert tracker.tracks[0].last_pos == n - 1  # the person's track goes on after it
    # a cut to another scene that lasts longer than a flash, and back, is two cuts
    looks = [FrameLook(scene(110 if 3 <= i < 4 + FLASH else 0), []) for i in range(n + 2)]
    assert shots(looks) == [0] * 3 + [1] * (FLASH + 1) + [2] * (n - 2 - FLASH)
    live = LiveShots()
    assert [live.add(lk) for lk in looks] == shots(looks)


def test_the_same_face_in_the_same_pose_goes_on_across_a_cut():
    """Across a cut only a face that is the same picture (the frame measure took a change
    of light for a cut) goes on; another picture of the same person does not."""
    per_frame = [[face(100 + i)] for i in range(6)]
    looks = [FrameLook(scene(0 if i < 3 else 110), [person(1, 10 + i)]) for i in range(6)]
    assert shots(looks) == [0, 0, 0, 1, 1, 1]
    assert [len(t.faces) for t in track_faces(per_frame, looks=looks)] == [6]
    looks = [FrameLook(lk.scene, [person(1, 10 + i, 1.0)]) for i, lk in enumerate(looks)]
    assert [len(t.faces) for t in track_faces(per_frame, looks=looks)] == [3, 3]


def test_a_different_face_after_a_large_change_is_not_joined_even_without_a_clear_cut():
    """A shaky clip: every frame differs a lot from the one before, so no change stands
    out as a cut; the faces decide: the same person goes on, another does not."""
    looks = [FrameLook(scene(0, seed=i), [person(1 if i < 5 else 2)]) for i in range(10)]
    assert set(shots(looks)) == {0}
    per_frame = [[face(100 + i)] for i in range(10)]
    assert [len(t.faces) for t in track_faces(per_frame, looks=looks)] == [5, 5]
    same = [FrameLook(lk.scene, [person(1, 10 + i, 1.0)]) for i, lk in enumerate(looks)]
    assert [len(t.faces) for t in track_faces(per_frame, looks=same)] == [10]


def test_faces_are_not_compared_within_a_calm_shot():
    """Pose, blur and compression change a face's look from frame to frame: inside one
    calm shot the boxes alone decide, however unlike two pictures of a face are."""
    per_frame = [[face(100 + i)] for i in range(6)]
    looks = [FrameLook(scene(0), [person(i + 1)]) for i in range(6)]
    assert [len(t.faces) for t in track_faces(per_frame, looks=looks)] == [6]


def test_no_track_continues_across_a_cut_it_skipped():
    """The face is missed on both sides of the cut: the track's last face is two frames
    back, in the other shot."""
    per_frame = [[face(100)], [face(101)], [], [], [face(102)]]
    looks = [FrameLook(scene(0), [person(1)])] * 2 + [FrameLook(scene(0), [])] \
        + [FrameLook(scene(110), [])] + [FrameLook(scene(110), [person(2)])]
    assert [len(t.faces) for t in track_faces(per_frame, looks=looks)] == [2, 1]


def test_the_live_tracker_follows_the_same_rule():
    tracker = LiveTracker()
    ids = []
    for pos in range(12):
        look = FrameLook(scene(0 if pos < 6 else 110), [person(1 if pos < 6 else 2)])
        det = face(100 + pos)
        (track,) = tracker.assign(pos, [det], look)
        track.last, track.last_pos = det, pos  # what LiveTrack.add records
        ids.append(track.track_id)
    assert ids == [0] * 6 + [1] * 6
    tracker = LiveTracker()  # the same person through a flash: one track
    for pos in range(12):
        look = FrameLook(scene(110 if pos == 6 else 0), [person(1, 10 + pos)])
        det = face(100 + pos)
        (track,) = tracker.assign(pos, [det], look)
        track.last, track.last_pos = det, pos
    assert [t.track_id for t in tracker.tracks] == [0]
    tracker = LiveTracker()  # another picture of the person across a cut: a new track
    ids = []
    for pos in range(12):
        look = FrameLook(scene(0 if pos < 6 else 110), [person(1, 10 + pos, 1.0)])
        det = face(100 + pos)
        (track,) = tracker.assign(pos, [det], look)
        track.last, track.last_pos = det, pos
        ids.append(track.track_id)
    assert ids == [0] * 6 + [1] * 6


def test_a_single_frame_is_unaffected():
    looks = [FrameLook(scene(0), [person(1), person(2)])]
    with_looks = track_faces([[face(0), face(300)]], looks=looks)
    assert [[(f.frame_pos, f.index) for f in t.faces] for t in with_looks] == [[(0, 0)], [(0, 1)]]
    with pytest.raises(ValueError, match="one look per frame"):
        track_faces([[face()], [face()]], looks=looks)


# -- real faces (YuNet) -----------------------------------------------------------------

FACE_A = "30_0_1_20170104170359625.jpg.chip.jpg"
FACE_B = "20_1_0_20170103175645974.jpg.chip.jpg"


def chip(samples: Path, name: str) -> np.ndarray:
    return np.asarray(Image.open(samples / "faces-real" / name).convert("RGB").resize((110, 110)))


@pytest.fixture(scope="module")
def cut_clip(samples: Path, tmp_path_factory) -> Path:
    """Two seconds: a cut at 1.0 s from one person to another at the same place."""
    frames = (face_shot((200, 60, 60), 25, 1, chip(samples, FACE_A))
              + face_shot((60, 60, 200), 25, 2, chip(samples, FACE_B)))
    return write_video(tmp_path_factory.mktemp("cuts") / "cut.mp4", frames, fps=25)


def shots_of(track, cuts_s: list[float]) -> set[int]:
    """Which shots (between the cut times) a result track's frames are in."""
    return {sum(f.timestamp_s > c for c in cuts_s) for f in track.frames}


@pytest.mark.realdata
@pytest.mark.train
@pytest.mark.parametrize("sampling", [{"frames": 32}, {"frames_per_second": 5}])
def test_a_cut_between_two_people_gives_two_tracks(cut_clip, model_dir, tiny_detector,
                                                   sampling):
    result = fakelens.analyze(cut_clip, model=tiny_detector, check_voice=False, **sampling)
    assert len(result.tracks) == 2
    assert [shots_of(t, [0.98]) for t in result.tracks] == [{0}, {1}]
    assert all(len(t.frames) >= result.frames_sampled // 2 - 1 for t in result.tracks)


@pytest.mark.realdata
@pytest.mark.train
@pytest.mark.parametrize("sampling", [{"frames": 32}, {"frames_per_second": 5}])
@pytest.mark.parametrize(("clip", "people"), [
    ("videos/talking_head_d0.mp4", 1),
    ("live-swap/Albica_Johns_0__right_fake.mp4", 1),
    ("live-swap/Ava_de_Addario_0__right_fake.mp4", 2),
])
def test_one_track_per_person_in_clips_without_cuts(samples, model_dir, tiny_detector, clip,
                                                    people, sampling):
    result = fakelens.analyze(samples / clip, model=tiny_detector, check_voice=False,
                              **sampling)
    assert len(result.tracks) == people
    assert all(len(t.frames) == result.frames_sampled for t in result.tracks)


@pytest.mark.realdata
@pytest.mark.train
@pytest.mark.parametrize("sampling", [{"frames": 32}, {"frames_per_second": 5}])
def test_a_film_clip_with_cuts_between_two_actors(samples, model_dir, tiny_detector,
                                                  sampling):
    """A red-carpet scene (hand-held camera, photographers' flashes) cut between Ben
    Stiller and Owen Wilson, each standing about where the other stood: every change of
    picture is large, so no cut stands out by the frame measure, and the faces decide.
    Before, one track ("Face 1") ran through all four shots. Now no main-face track
    crosses a cut (the cuts are between the sampled frames of both samplings)."""
    clip = samples / "videos-real" / "deepfacelive_sample_Ben_Stiller_Owen_Wilson.mp4"
    result = fakelens.analyze(clip, model=tiny_detector, check_voice=False, **sampling)
    cuts = [4.32, 6.84, 8.64]
    largest: dict[float, tuple[float, int]] = {}  # the main face of each frame: its track
    for t in result.tracks:
        for f in t.frames:
            largest[f.timestamp_s] = max(largest.get(f.timestamp_s, (0.0, -1)),
                                         (f.box.w * f.box.h, t.track_id))
    assert len(largest) >= 0.9 * result.frames_sampled
    main: dict[int, list[float]] = {}
    for ts, (_, track_id) in largest.items():
        main.setdefault(track_id, []).append(ts)
    for times in main.values():
        assert len({sum(ts > c for c in cuts) for ts in times}) == 1, times
    # the longest shots (the opening one of Ben Stiller, the closing one of Owen Wilson)
    # are one decisive track each
    long_tracks = [t for t in result.tracks if t.decisive]
    assert {min(shots_of(t, cuts)) for t in long_tracks} >= {0, 3}


@pytest.mark.realdata
def test_a_talking_head_through_a_flash_is_one_track_in_files_and_live(samples, model_dir):
    """Every frame of a talking head, one of them flashed twice as bright: one track in a
    file's tracking; the live tracker's goes on after the flash."""
    from fakelens.config import get_settings
    from fakelens.faces import load_face_detector

    frames = clip_frames(samples / "videos" / "talking_head_d0.mp4", 40, (256, 256))
    frames[20] = np.clip(frames[20].astype(np.float32) * 2.0, 0, 255).astype(np.uint8)
    detector = load_face_detector(get_settings())
    per_frame = [detector.detect(f) for f in frames]
    looks = [frame_look(f, d) for f, d in zip(frames, per_frame, strict=True)]
    assert all(len(d) == 1 for d in per_frame)
    assert [len(t.faces) for t in track_faces(per_frame, looks=looks)] == [40]
    tracker = LiveTracker()
    ids = []
    for pos, (dets, look) in enumerate(zip(per_frame, looks, strict=True)):
        for det, track in zip(dets, tracker.assign(pos, dets, look), strict=True):
            track.last, track.last_pos = det, pos
            ids.append(track.track_id)
    # live frames cannot wait for the next one: the flashed frame may get a track of its
    # own, but the person's track goes on after it
    assert ids[:20] == [0] * 20 and ids[21:] == [0] * 19
