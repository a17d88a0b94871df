"""Videos and webcams: faces tracked across frames, probabilities smoothed, per-frame JSON, annotated .mp4."""

from __future__ import annotations

import json
from typing import ClassVar

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from ferkit.cli import app
from ferkit.infer import FacePrediction
from ferkit.infer.video import FaceTracker, read_video
from ferkit.labels import EMOTIONS
from ferkit.vision.detect import FaceBox
from tests.conftest import FER2013_TARBALL

runner = CliRunner()


def prediction(x: int, happy: float) -> FacePrediction:
    rest = (1 - happy) / 6
    return FacePrediction(FaceBox(x, 50, 100, 100, 0.99), {n: happy if n == "happy" else rest for n in EMOTIONS})


def write_video(path, frames: list[np.ndarray], fps: float = 10.0):
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for frame in frames:
        writer.write(frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()
    return path


def test_tracker_keeps_identities_and_smooths():
    tracker = FaceTracker(smoothing=0.5)
    first = tracker.update([prediction(0, 1.0), prediction(300, 0.0)])
    assert [t.track_id for t in first] == [0, 1]
    second = tracker.update([prediction(310, 1.0), prediction(8, 0.0)])  # both moved a little, order swapped
    by_id = {t.track_id: t for t in second}
    assert by_id[0].box.x == 8 and by_id[0].probabilities["happy"] == pytest.approx(0.5)
    assert by_id[1].box.x == 310 and by_id[1].probabilities["happy"] == pytest.approx(0.5)
    for _ in range(6):  # face 1 leaves; its track ends after max_missed frames
        tracker.update([prediction(8, 0.0)])
    assert [t.track_id for t in tracker.tracks] == [0]
    back = tracker.update([prediction(8, 0.0), prediction(300, 0.9)])
    assert sorted(t.track_id for t in back) == [0, 2]  # a face that comes back later is a new identity


def test_video_without_faces(tmp_path):
    video = write_video(tmp_path / "wall.mp4", [np.full((120, 160), 100 + k, np.uint8) for k in range(6)])
    result = runner.invoke(app, ["predict", str(video), "--json"])
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert result.exit_code == 0 and len(lines) == 6
    assert lines[2] == {"video": str(video), "frame": 2, "seconds": 0.2, "faces": []}
    result = runner.invoke(app, ["predict", str(video), "--stride", "2"])
    assert "wall.mp4: 3 frames, no face found" in result.stdout


def test_unreadable_video_and_missing_camera_are_named(tmp_path):
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 but nothing after")
    result = runner.invoke(app, ["predict", str(tmp_path / "broken.mp4")])
    assert result.exit_code == 2 and "broken.mp4" in result.stderr + result.stdout
    result = runner.invoke(app, ["predict", "--webcam", "9"])
    assert result.exit_code == 2 and "camera 9" in result.stderr
    result = runner.invoke(app, ["predict"])
    assert result.exit_code == 2 and "--webcam" in result.stderr


@pytest.mark.skipif(not FER2013_TARBALL.exists(), reason=f"FER2013 not found at {FER2013_TARBALL}")
def test_a_face_in_a_video_is_one_track_with_an_annotated_copy(tmp_path):
    from ferkit.data import load_faces
    from tests.game.webcam import confident_faces, face_frame

    test = load_faces(FER2013_TARBALL).split("PrivateTest")
    (happy,) = confident_faces(np.asarray(test.faces), test.labels, "happy", 1)
    frames = [np.roll(face_frame(happy), 4 * k, axis=1) for k in range(8)]  # the face drifts right
    video = write_video(tmp_path / "actor.mp4", frames)
    result = runner.invoke(app, ["predict", str(video), "--json", "--out", str(tmp_path / "out")])
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert result.exit_code == 0 and len(lines) == 8
    assert all(len(line["faces"]) == 1 and line["faces"][0]["track"] == 0 for line in lines)
    assert all(line["faces"][0]["label"] == "happy" for line in lines)
    assert len(list(read_video(tmp_path / "out" / "actor.annotated.mp4"))) == 8


@pytest.mark.skipif(not FER2013_TARBALL.exists(), reason=f"FER2013 not found at {FER2013_TARBALL}")
def test_a_timeline_per_face_streams_resumes_and_honours_start_and_end(tmp_path):
    import csv

    from ferkit.data import load_faces
    from tests.game.webcam import confident_faces, face_frame

    test = load_faces(FER2013_TARBALL).split("PrivateTest")
    (happy,) = confident_faces(np.asarray(test.faces), test.labels, "happy", 1)
    face = face_frame(happy)
    blank = np.full_like(face, 120)
    # 3 s at 10 fps: the face, gone for 0.3 s (an occlusion), back at the same place
    frames = [face] * 12 + [blank] * 3 + [face] * 15
    video = write_video(tmp_path / "talk.mp4", frames)
    out = tmp_path / "timeline"
    result = runner.invoke(app, ["predict", str(video), "--timeline", str(out), "--end", "1.45"])
    assert result.exit_code == 0, result.output
    with open(out / "timeline.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["frame"]) for r in rows] == list(range(12)) and {r["track"] for r in rows} == {"0"}
    # resume: the rest of the video, after the last complete frame already written
    result = runner.invoke(app, ["predict", str(video), "--timeline", str(out)])
    assert "resuming the timeline" in result.output and "at frame 11" in result.output
    with open(out / "timeline.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    frames_seen = [int(r["frame"]) for r in rows]
    assert frames_seen == list(range(12)) + list(range(15, 30))  # each frame once; none in the occlusion
    assert {r["track"] for r in rows} == {"0"}  # the same face after a 0.3 s occlusion keeps its identity
    summary = json.loads((out / "summary.json").read_text())
    assert summary["0"]["frames"] == 27 and summary["0"]["mostly"] == "happy"
    assert summary["0"]["share_of_time"]["happy"] > 0.9
    page = (out / "index.html").read_text()
    assert "data:image/jpeg;base64," in page and "face 0" in page
    assert (out / "timeline.png").exists() == ("data:image/png;base64," in page)


def test_detecting_every_third_frame_follows_the_faces_in_between():
    from ferkit.infer.video import VideoFrame, track_video

    class CountingRecognizer:
        detections = classifications = 0
        min_sizes: ClassVar[list] = []

        def predict(self, image, min_size=None):
            self.detections += 1
            self.min_sizes.append(min_size)
            return [prediction(10, 0.9)]

        def classify(self, image, boxes):
            self.classifications += 1
            return [FacePrediction(b, prediction(10, 0.8).probabilities) for b in boxes]

    recognizer = CountingRecognizer()
    frames = (VideoFrame(k, k / 10, np.zeros((100, 200, 3), np.uint8)) for k in range(9))
    results = list(track_video(recognizer, frames, smoothing=0.0, detect_every=3))
    assert recognizer.detections == 3 and recognizer.classifications == 6
    # while a face is followed, detections look only for faces at least half its size (every 4th: any size)
    box = prediction(10, 0.9).box
    assert recognizer.min_sizes == [None, 0.5 * min(box.w, box.h), 0.5 * min(box.w, box.h)]
    assert all([t.track_id for t in tracks] == [0] for _, tracks in results)  # one face, one identity
    assert results[1][1][0].probabilities["happy"] == pytest.approx(0.8)  # classified where it was found


def test_a_face_back_where_it_left_keeps_its_identity_within_the_reidentification_window():
    tracker = FaceTracker(smoothing=0.0, reidentify_frames=20)
    tracker.update([prediction(0, 1.0), prediction(300, 0.2)])
    for _ in range(12):  # face 1 looks away for 12 frames: longer than max_missed (5)
        tracker.update([prediction(0, 1.0)])
    back = tracker.update([prediction(0, 1.0), prediction(305, 0.7)])
    assert sorted(t.track_id for t in back) == [0, 1]  # the same two people
    assert {t.track_id: t.probabilities["happy"] for t in back}[1] == pytest.approx(0.7)  # no stale smoothing
    for _ in range(30):  # gone for longer than the window: whoever sits there next is someone new
        tracker.update([prediction(0, 1.0)])
    assert sorted(t.track_id for t in tracker.update([prediction(0, 1.0), prediction(300, 0.5)])) == [0, 2]


def test_a_small_new_face_is_found_at_the_next_full_detection():
    from ferkit.infer.video import VideoFrame, track_video
    from ferkit.vision.following import FULL_DETECTION_EVERY

    class SmallFaceRecognizer:
        """A large face always; a small one only to detections that look for faces of any size."""

        def predict(self, image, min_size=None):
            small = FacePrediction(FaceBox(150, 10, 20, 20, 0.9), prediction(150, 0.9).probabilities)
            return [prediction(10, 0.9)] + ([] if min_size else [small])

        def classify(self, image, boxes):
            return [FacePrediction(b, prediction(10, 0.8).probabilities) for b in boxes]

    every = 3
    frames = [VideoFrame(k, k / 10, np.zeros((100, 200, 3), np.uint8)) for k in range(every * FULL_DETECTION_EVERY + 1)]
    counts = [len(tracks) for _, tracks in track_video(SmallFaceRecognizer(), iter(frames), detect_every=every)]
    # frame 0 finds both; the small face is lost to the next smaller-pyramid detections, and found again by
    # the next full one, within detect_every × FULL_DETECTION_EVERY frames
    assert counts[0] == 2 and counts[-1] == 2
