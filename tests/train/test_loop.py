"""The fit loop as a user sees it: checkpoints, exact resume, early stopping, bad inputs, mining, balance."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ferkit.models.checkpoint import CheckpointError, load_checkpoint, model_from_checkpoint
from ferkit.train import TrainingDiverged, loop, recipe_config, train
from ferkit.train.balance import class_weights, epoch_indices
from ferkit.train.loop import RunExists, face_weights_of, replan_epochs, schedule_position, soft_cross_entropy
from ferkit.train.mining import mine_and_finetune
from ferkit.train.targets import DatasetUnsuitable


def test_run_writes_checkpoints_that_stand_alone(tiny_config, tmp_path):
    result = train(tiny_config)
    run = tmp_path / "run"
    assert {"best.pt", "last.pt", "history.json", "config.json"} <= {p.name for p in run.iterdir()}
    state = load_checkpoint(run / "best.pt")
    assert state["class_names"] == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    assert state["config"]["model"] == "fer-vgg-s" and state["selected_on"] == "PublicTest"
    assert state["code_version"].startswith("0.")
    history = json.loads((run / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2]
    assert result.best_accuracy == max(h["val_accuracy"] for h in history)
    model = model_from_checkpoint(state)
    assert model(torch.zeros(2, 1, 48, 48)).shape == (2, 7)


def test_training_learns_the_tiny_task(tiny_config):
    result = train(tiny_config.override(epochs=6, lr=0.02, augment="none"))
    assert result.best_accuracy > 0.5  # 7 classes: chance is 0.14


def test_resume_after_a_stop_equals_an_uninterrupted_run(tiny_config, tmp_path):
    straight = train(tiny_config.override(out=str(tmp_path / "a")))
    # max_minutes tiny = stop after the first epoch, as a kill after it would
    train(tiny_config.override(out=str(tmp_path / "b"), max_minutes=1e-9))
    assert load_checkpoint(tmp_path / "b" / "last.pt")["epoch"] == 1
    resumed = train(tiny_config, resume=tmp_path / "b")
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    assert [h["val_accuracy"] for h in straight.history] == [h["val_accuracy"] for h in resumed.history]
    first, second = resumed.history
    # a resumed run's clock goes on from its last epoch, not from zero
    assert second["elapsed_minutes"] >= first["elapsed_minutes"] + second["train_seconds"] / 60


def test_replanned_epochs_fit_the_time_left():
    assert replan_epochs(epoch=10, epochs=100, epoch_seconds=[9.0, 6.0, 7.0, 6.0], seconds_left=60.0) == 20
    assert replan_epochs(epoch=10, epochs=15, epoch_seconds=[9.0, 6.0], seconds_left=60.0) == 15  # never more
    assert replan_epochs(epoch=10, epochs=100, epoch_seconds=[9.0, 6.0], seconds_left=-5.0) == 11  # one to anneal
    assert replan_epochs(epoch=15, epochs=15, epoch_seconds=[9.0, 6.0], seconds_left=-5.0) == 15
    # a slow first epoch (warm-up) alone does not cut the run for good, unless the budget is spent
    assert replan_epochs(epoch=1, epochs=100, epoch_seconds=[30.0], seconds_left=300.0) == 100
    assert replan_epochs(epoch=1, epochs=100, epoch_seconds=[30.0], seconds_left=20.0) == 2


def test_a_replanned_schedule_reaches_its_last_step_with_the_run():
    plan = {"planned_epochs": 10, "steps_per_epoch": 5, "from_step": 20, "from_position": 20, "to_step": 30}
    positions = [schedule_position(step, plan) for step in range(20, 31)]
    assert positions[0] == 20 and positions[-1] == 50  # 30 planned steps left, walked in 10
    assert positions == sorted(positions) and len(set(positions)) == len(positions)


def test_a_shortened_run_ends_annealed(tiny_config, tmp_path):
    planned = train(tiny_config.override(out=str(tmp_path / "planned"), epochs=4))
    # a budget already spent after epoch 1: one more epoch, walking the rest of the four-epoch schedule
    short = train(
        tiny_config.override(out=str(tmp_path / "short"), epochs=4, max_minutes=1e-9, budget_policy="shorten")
    )
    assert [h["epoch"] for h in short.history] == [1, 2]
    assert short.history[0]["lr"] == planned.history[0]["lr"]
    assert short.history[-1]["lr"] == pytest.approx(planned.history[-1]["lr"])  # the schedule's end
    state = load_checkpoint(tmp_path / "short" / "last.pt")
    assert state["config"]["epochs"] == 2 and state["schedule_plan"]["planned_epochs"] == 4
    assert json.loads((tmp_path / "short" / "config.json").read_text())["epochs"] == 2


class _Killed(Exception):
    pass


def test_resume_in_a_shortened_run_equals_an_uninterrupted_one(tiny_config, tmp_path, monkeypatch):
    # the re-plan made deterministic: four planned epochs become three at the end of epoch 1
    monkeypatch.setattr(loop, "replan_epochs", lambda epoch, epochs, *timing: min(epochs, 3))
    cfg = tiny_config.override(epochs=4, max_minutes=1e6, budget_policy="shorten")
    straight = train(cfg.override(out=str(tmp_path / "a")))
    assert [h["epoch"] for h in straight.history] == [1, 2, 3]
    train_epoch = loop.Trainer.train_epoch

    def killed_at_epoch_3(self, epoch, progress):
        if epoch == 3:
            raise _Killed
        return train_epoch(self, epoch, progress)

    with monkeypatch.context() as m:
        m.setattr(loop.Trainer, "train_epoch", killed_at_epoch_3)
        with pytest.raises(_Killed):
            train(cfg.override(out=str(tmp_path / "b")))
    resumed = train(cfg, resume=tmp_path / "b")
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    assert [h["lr"] for h in resumed.history] == [h["lr"] for h in straight.history]


def test_unknown_budget_policy_is_named(tiny_config):
    with pytest.raises(KeyError, match="choose stop or shorten"):
        train(tiny_config.override(budget_policy="hurry"))


def test_early_stopping(tiny_config):
    # lr 0: nothing improves after epoch 1, so patience 2 stops after epoch 3
    result = train(tiny_config.override(epochs=10, lr=0.0, early_stop_patience=2, ema_decay=0.0))
    assert [h["epoch"] for h in result.history] == [1, 2, 3]


def test_nan_loss_stops_with_epoch_and_batch(tiny_config):
    with pytest.raises(TrainingDiverged, match=r"at epoch 1, batch \d+"):
        train(tiny_config.override(lr=1e30, schedule="none", amp="off"))


def test_corrupt_checkpoint_on_resume_is_named(tiny_config, tmp_path):
    train(tiny_config.override(epochs=1))
    last = tmp_path / "run" / "last.pt"
    last.write_bytes(last.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match=r"last\.pt: not a readable checkpoint"):
        train(tiny_config, resume=tmp_path / "run")


def test_unknown_names_list_the_valid_ones(tiny_config):
    with pytest.raises(KeyError, match="fer-vgg-s"):
        train(tiny_config.override(model="vgg-9000"))
    with pytest.raises(KeyError, match="choose one of: seed, cpu, gpu, smoke"):
        recipe_config("fastest")


def test_dataset_without_publictest_or_labels(tmp_path, tiny_config):
    from tests.conftest import pixel_text
    from tests.train.conftest import tiny_faces

    faces = tiny_faces().split("Training")
    (tmp_path / "train.csv").write_text(
        "emotion,pixels\n" + "".join(f"{lab},{pixel_text(f)}\n" for f, lab in zip(faces.faces, faces.labels))
    )
    with pytest.raises(DatasetUnsuitable, match="has no PublicTest split"):
        train(tiny_config.override(data=str(tmp_path / "train.csv")))
    (tmp_path / "t2").mkdir()
    (tmp_path / "t2" / "test.csv").write_text("pixels\n" + "".join(f"{pixel_text(f)}\n" for f in faces.faces))
    with pytest.raises(DatasetUnsuitable, match="has no Training split"):
        train(tiny_config.override(data=str(tmp_path / "t2" / "test.csv")))


def test_hard_example_mining_uses_training_mistakes(tiny_config, tmp_path):
    train(tiny_config.override(epochs=1))
    report = mine_and_finetune(tmp_path / "run", epochs=1, progress=False)
    assert 0 < report.hard_examples <= report.training_faces == 96
    saved = json.loads((tmp_path / "run" / "mined" / "mining.json").read_text())
    assert saved["publictest_before"] == report.publictest_before
    assert (tmp_path / "run" / "mined" / "best.pt").exists()
    with pytest.raises(RunExists, match="already holds a run"):  # a second mining never replaces it silently
        mine_and_finetune(tmp_path / "run", epochs=1, progress=False)
    mine_and_finetune(tmp_path / "run", epochs=1, progress=False, overwrite=True)


def test_balancing_modes():
    labels = np.array([0] * 10 + [1] * 2 + [2] * 4)
    g = torch.Generator().manual_seed(0)
    over = epoch_indices(labels, "oversample", g)
    assert np.bincount(labels[over.numpy()]).tolist() == [10, 10, 10]
    assert set(over.tolist()) == set(range(16))  # every face still appears
    drawn = epoch_indices(np.repeat(labels, 50), "sampler", g)
    share = np.bincount(np.repeat(labels, 50)[drawn.numpy()]) / len(drawn)
    assert np.allclose(share, 1 / 3, atol=0.05)
    w = class_weights(labels, 3)
    assert w[1] > w[2] > w[0]
    with pytest.raises(KeyError, match="oversample"):
        epoch_indices(labels, "smote", g)


def test_class_weights_weigh_whole_faces_and_leave_soft_targets_as_they_are():
    weights = torch.tensor([0.5, 10.0, 1.0])  # class 1 is rare
    logits = torch.tensor([[2.0, -1.0, 0.0], [0.0, 1.0, 0.5]])
    one_hot = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    # hard labels: the classic class-weighted cross-entropy, sum of w_y · CE / sum of w_y
    expected = (0.5 * -torch.log_softmax(logits, 1)[0, 0] + 10.0 * -torch.log_softmax(logits, 1)[1, 1]) / 10.5
    assert torch.allclose(soft_cross_entropy(logits, one_hot, face_weights_of(one_hot, weights)), expected)
    # a soft target with one rare vote in ten: the face weighs a little more, its target stays mostly class 0
    soft = torch.tensor([[0.9, 0.1, 0.0]])
    assert torch.allclose(face_weights_of(soft, weights), torch.tensor([0.9 * 0.5 + 0.1 * 10.0]))
    pulled = torch.zeros(1, 3, requires_grad=True)
    soft_cross_entropy(pulled, soft, face_weights_of(soft, weights)).backward()
    assert pulled.grad[0, 0] < 0 < pulled.grad[0, 1]  # still pushed towards class 0, not the rare class
    assert face_weights_of(soft, None) is None


def test_gpu_recipe_runs_a_few_steps_on_cpu(tiny_csv, tmp_path):
    cfg = recipe_config(
        "gpu",
        data=str(tiny_csv),
        out=str(tmp_path / "gpu"),
        epochs=1,
        batch_size=16,
        progress=False,
        tensorboard=False,
        device="cpu",
    )
    result = train(cfg)
    assert result.history[0]["epoch"] == 1
    assert load_checkpoint(tmp_path / "gpu" / "best.pt")["model_name"] == "fer-resnet18"


def test_a_run_says_what_it_trains_as_resolved(tiny_config, capsys):
    train(tiny_config.override(epochs=1, model="seed-lenet", seed=3))
    first = capsys.readouterr().err.splitlines()[0]
    assert first.startswith("training seed-lenet (") and "on fer2013 labels (7 classes, 96 faces)" in first
    assert "1 epochs" in first and "seed 3" in first and "teacher none" in first


def test_tensorboard_scalars_are_written(tiny_config, tmp_path):
    train(tiny_config.override(epochs=1, tensorboard=True))
    assert list((tmp_path / "run" / "tb").glob("events.out.tfevents.*"))


def test_ferplus_labels_train_on_vote_distributions(tiny_config, tiny_csv, tmp_path):
    from tests.data.test_ferplus_and_summary import write_votes
    from tests.train.conftest import tiny_faces

    faces = tiny_faces()
    votes = np.zeros((len(faces), 10), int)
    ferplus_of = {0: 4, 1: 5, 2: 6, 3: 1, 4: 3, 5: 2, 6: 0}  # FER2013 class -> FER+ column
    for i, label in enumerate(faces.labels):
        votes[i, ferplus_of[int(label)]] = 8
        votes[i, 7] = 2  # some contempt votes: soft targets
    votes_csv = write_votes(tmp_path / "fer2013new.csv", faces.split_codes, votes)
    result = train(tiny_config.override(labels="ferplus", ferplus=str(votes_csv), epochs=1))
    state = load_checkpoint(tmp_path / "run" / "best.pt")
    assert state["num_classes"] == 8 and state["class_names"][7] == "contempt"
    assert result.history[0]["epoch"] == 1
    with pytest.raises(Exception, match="need the FER\\+ votes"):
        train(tiny_config.override(labels="ferplus"), overwrite=True)


def test_a_finished_run_is_never_overwritten_silently(tiny_config, tmp_path):
    from ferkit.train.loop import RunExists

    train(tiny_config.override(epochs=1))
    run = tmp_path / "run"
    before = (run / "best.pt").read_bytes()
    with pytest.raises(RunExists) as refused:
        train(tiny_config.override(epochs=1, seed=1))
    assert "--resume" in str(refused.value) and "--overwrite" in str(refused.value) and str(run) in str(refused.value)
    assert (run / "best.pt").read_bytes() == before  # nothing lost
    train(tiny_config.override(epochs=1, seed=1), overwrite=True)
    assert (run / "best.pt").read_bytes() != before


def test_piped_training_prints_progress_lines_within_an_epoch(capsys):
    from ferkit.train.progress import EpochProgress

    progress = EpochProgress(enabled=True, steps=100)  # pytest captures stderr: not a terminal
    with progress:
        progress.start_epoch(1, 3)
        for step in range(0, 100, 10):
            progress.update(step + 1, loss=1.0, accuracy=0.5, faces_per_s=100.0)
    lines = [line for line in capsys.readouterr().err.splitlines() if "batch" in line]
    assert len(lines) >= 5 and lines[0].startswith("epoch 1/3  batch")


def test_mining_by_agreement_keeps_only_mistakes_the_ferplus_majority_confirms(tiny_config, tiny_csv, tmp_path):
    from ferkit.errors import BadInput
    from ferkit.labels import FERPLUS_TO_FER2013
    from tests.data.test_ferplus_and_summary import write_votes
    from tests.train.conftest import tiny_faces

    faces = tiny_faces()
    fer2013_to_plus = {fer: plus for plus, fer in FERPLUS_TO_FER2013.items() if fer is not None}
    votes = np.zeros((len(faces.labels), 10), int)
    for i, label in enumerate(faces.labels):  # annotators agree with FER2013 on even rows, say contempt on odd
        votes[i, fer2013_to_plus[int(label)] if i % 2 == 0 else 7] = 10
    csv_votes = write_votes(tmp_path / "fer2013new.csv", faces.split_codes, votes)
    train(tiny_config.override(epochs=1))
    everything = mine_and_finetune(tmp_path / "run", epochs=1, progress=False, out=tmp_path / "all")
    agreeing = mine_and_finetune(tmp_path / "run", epochs=1, progress=False, out=tmp_path / "ok", agree_with=csv_votes)
    assert 0 < agreeing.hard_examples < everything.hard_examples  # only the even rows' mistakes
    assert json.loads((tmp_path / "ok" / "mining.json").read_text())["agree_with"] == str(csv_votes)
    from ferkit.train.mining import _votes_agree

    with pytest.raises(BadInput, match="Training split"):  # a run trained on other faces than the data's Training
        _votes_agree(str(tiny_csv), csv_votes, faces.split("PublicTest"))
