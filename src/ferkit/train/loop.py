"""The fit loop: data on the device, batched augmentation, schedules, EMA, checkpoints, resume, DDP."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ferkit.data import load_faces
from ferkit.data.folds import face_folds, parse_hold_out
from ferkit.data.teacher import aligned_teacher, read_teacher
from ferkit.errors import BadInput, TrainingDiverged, UnknownName
from ferkit.labels import SELECT_SPLIT
from ferkit.models import create_model
from ferkit.models.checkpoint import CheckpointError, code_version, load_checkpoint, save_checkpoint
from ferkit.models.predict import autocast_context, predict_logits
from ferkit.train.augment import augment_batch, get_policy
from ferkit.train.balance import class_weights, epoch_indices
from ferkit.train.config import TrainConfig
from ferkit.train.distributed import Runtime, bf16_supported, setup_runtime, teardown_runtime
from ferkit.train.ema import ModelEMA
from ferkit.train.progress import EpochProgress
from ferkit.train.sam import batchnorm_stats_frozen, climb, descend
from ferkit.train.targets import class_names_of, labelled_splits
from ferkit.train.warm_start import warm_start


class RunExists(BadInput):
    """The output directory already holds a run: continuing or replacing it must be asked for."""


RUN_FILES = ("best.pt", "last.pt", "history.json")


def refuse_to_overwrite(run_dir: Path) -> None:
    """A RunExists error when `run_dir` already holds a run's checkpoints or history."""
    found = [name for name in RUN_FILES if (run_dir / name).exists()]
    if found:
        raise RunExists(
            f"{run_dir} already holds a run ({', '.join(found)}): continue it with --resume {run_dir}, "
            "replace it with --overwrite, or choose another --out"
        )


@dataclass
class TrainResult:
    run_dir: Path
    best_accuracy: float
    best_epoch: int
    history: list[dict[str, Any]] = field(default_factory=list)
    model: nn.Module | None = None  # the final (not necessarily best) model of this process


def soft_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, face_weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Cross-entropy against probability targets; with `face_weights`, a weighted mean over the faces."""
    per_face = -(targets * F.log_softmax(logits, dim=1)).sum(dim=1)
    if face_weights is None:
        return per_face.mean()
    return (per_face * face_weights).sum() / face_weights.sum()


def face_weights_of(targets: torch.Tensor, class_weights: torch.Tensor | None) -> torch.Tensor | None:
    """Each face's weight: its class's weight, or for soft targets their expected class weight.

    The weight multiplies the whole face, never the target's entries one by one: weighting entries would
    turn a single contempt vote among ten, or label smoothing's share, into a target dominated by the rare
    class (a FER+ run fine-tuned that way fell from 85.7% to 28.8% PublicTest in one epoch).
    """
    return None if class_weights is None else targets @ class_weights


def tempered(probabilities: torch.Tensor, temperature: float) -> torch.Tensor:
    """softmax(logits / T) from probabilities: p^(1/T), renormalised."""
    if temperature == 1.0:
        return probabilities
    p = probabilities.clamp_min(1e-8) ** (1.0 / temperature)
    return p / p.sum(dim=1, keepdim=True)


def distillation_loss(logits: torch.Tensor, teacher_tempered: torch.Tensor, temperature: float) -> torch.Tensor:
    """Hinton's soft-target term: cross-entropy with the tempered teacher, times T² so its gradients keep
    their size whatever T is (equal to the KL divergence up to the teacher's constant entropy)."""
    return soft_cross_entropy(logits / temperature, teacher_tempered, None) * temperature**2


def build_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    # No weight decay on biases and batch-norm scales: it only fights their job.
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=True)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(groups, lr=cfg.lr)
    raise UnknownName(f"unknown optimizer {cfg.optimizer!r}; choose sgd, adamw or adam")


def build_scheduler(opt: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int):
    """(scheduler, steps per batch?) for the configured schedule."""
    total = cfg.epochs * steps_per_epoch
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total, pct_start=0.25), True
    if cfg.schedule == "cosine":
        warmup = max(1, int(cfg.warmup_epochs * steps_per_epoch))

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            progress = (step - warmup) / max(1, total - warmup)
            return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

        return torch.optim.lr_scheduler.LambdaLR(opt, factor), True
    if cfg.schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="max", factor=cfg.plateau_factor, patience=cfg.plateau_patience
        ), False
    if cfg.schedule == "none":
        return None, False
    raise UnknownName(f"unknown schedule {cfg.schedule!r}; choose onecycle, cosine, plateau or none")


BUDGET_POLICIES = ("stop", "shorten")


def replan_epochs(epoch: int, epochs: int, epoch_seconds: list[float], seconds_left: float) -> int:
    """How many epochs a run at the end of `epoch` can have so that the rest fits `seconds_left`.

    `epoch_seconds` are this invocation's epochs so far. Never more than planned, and at least one more
    epoch while any remain: a schedule squeezed into one epoch still ends annealed, a run cut before its
    schedule's end does not (one epoch over the budget is what "stop after the epoch that crosses it"
    allowed already). A re-plan is for good, so it never rests on an invocation's first epoch alone (it
    carries the warm-up: allocation, autotuning, compilation) unless the budget is already spent.
    """
    if epoch >= epochs:
        return epochs
    steady = sorted(epoch_seconds[1:] or epoch_seconds)
    seconds_per_epoch = steady[len(steady) // 2]  # the median: one slow epoch (a neighbour) is no trend
    if len(epoch_seconds) == 1 and seconds_left >= seconds_per_epoch:
        return epochs
    fit = int(seconds_left // seconds_per_epoch) if seconds_per_epoch > 0 else epochs
    return min(epochs, epoch + max(1, fit))


def schedule_position(step: int, plan: dict[str, int]) -> int:
    """The step of the planned schedule that real optimiser step `step` stands at, after a re-plan.

    From `from_step` (where the re-plan happened, at schedule position `from_position`) the rest of the
    planned schedule is compressed into the steps up to `to_step`, so the last real step is the
    schedule's last one: the learning rate anneals exactly as planned, only faster.
    """
    start, position, end = plan["from_step"], plan["from_position"], plan["to_step"]
    if step <= start:
        return step - start + position
    total = plan["planned_epochs"] * plan["steps_per_epoch"]
    # ceil division in integers: the last real step lands exactly on the schedule's last step
    return min(total, position + -(-(step - start) * (total - position) // max(1, end - start)))


def _epoch_seed(cfg: TrainConfig, epoch: int, stream: int) -> int:
    # Every epoch's shuffling, augmentation and dropout depend only on (seed, epoch): a resumed run
    # replays exactly what an uninterrupted one would have done.
    return (cfg.seed * 1_000_003 + epoch * 7919 + stream) % (2**63)


class Trainer:
    """Holds the state of one run; `fit()` reads top to bottom."""

    def __init__(self, cfg: TrainConfig, runtime: Runtime, run_dir: Path) -> None:
        self.cfg, self.rt, self.run_dir = cfg, runtime, run_dir
        self.device = runtime.device
        self.amp = cfg.amp == "bf16" or (cfg.amp == "auto" and bf16_supported(self.device))
        if cfg.budget_policy not in BUDGET_POLICIES:
            raise UnknownName(f"unknown budget_policy {cfg.budget_policy!r}; choose {' or '.join(BUDGET_POLICIES)}")
        if not cfg.sam_rho >= 0:
            raise BadInput(f"sam_rho must be 0 (off) or a positive radius, not {cfg.sam_rho}")
        self.policy = get_policy(cfg.augment)
        faces = load_faces(cfg.data, ferplus=cfg.ferplus or None)
        teacher = None
        if cfg.teacher:
            if not (0.0 <= cfg.distill_weight <= 1.0 and cfg.distill_temperature > 0):
                raise BadInput("distill_weight must be within 0..1 and distill_temperature above 0")
            teacher = aligned_teacher(faces, read_teacher(cfg.teacher), class_names_of(cfg.labels), cfg.teacher)
        self.train_set, self.select_set, self.class_names = labelled_splits(faces, cfg.labels, teacher)
        hold_out = parse_hold_out(cfg.hold_out)
        if hold_out is not None:  # a cross-fitted teacher's member: one fold of the faces stays unseen
            fold, folds = hold_out
            self.train_set = self.train_set.subset(face_folds(self.train_set.faces, folds) != fold)
        self.num_classes = len(self.class_names)
        # The whole training split lives on the device as uint8 (28,709 faces = 66 MB).
        self.train_faces = torch.as_tensor(np.ascontiguousarray(self.train_set.faces)).to(self.device)
        self.train_targets = torch.as_tensor(self.train_set.targets).to(self.device)
        # The teacher's columns ride beside the labels' through augmentation, so mixup/cutmix mix both
        # alike; they are tempered once here (mixing tempered targets = mixing what the loss compares).
        self.teacher_targets = (
            tempered(torch.as_tensor(self.train_set.teacher), cfg.distill_temperature).to(self.device)
            if self.train_set.teacher is not None
            else None
        )
        self.weights = (
            class_weights(self.train_set.labels, self.num_classes).to(self.device)
            if cfg.balance == "weighted"
            else None
        )

        torch.manual_seed(cfg.seed)
        self.model = create_model(cfg.model, num_classes=self.num_classes)
        self.notes: list[str] = []
        if cfg.init:  # before EMA and the optimiser copy the weights
            faces = np.asarray(self.train_set.faces)
            self.notes = warm_start(self.model, cfg.init, cfg.model, tuple(self.class_names), faces)
        self.model = self.model.to(self.device)
        if cfg.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.ema = ModelEMA(self.model, cfg.ema_decay) if cfg.ema_decay > 0 else None
        self.optimizer = build_optimizer(self.model, cfg)
        per_rank = len(epoch_indices(self.train_set.labels, cfg.balance, torch.Generator().manual_seed(0)))
        self.steps_per_epoch = max(1, per_rank // runtime.world_size // cfg.batch_size)
        self.scheduler, self.step_per_batch = build_scheduler(self.optimizer, cfg, self.steps_per_epoch)
        # set when budget_policy=shorten cut the epochs: how the rest of the step schedule is compressed
        self.schedule_plan: dict[str, int] | None = None
        self.net: nn.Module = self.model
        if runtime.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        if cfg.compile:
            self.net = torch.compile(self.net)
        self.history: list[dict[str, Any]] = []
        self.best_accuracy, self.best_epoch, self.start_epoch = -1.0, 0, 1
        # Hard-example mining: training positions mixed into every batch at this fraction.
        self.hard_pool: torch.Tensor | None = None
        self.hard_fraction = 0.0

    # -- state ------------------------------------------------------------------------------------
    def state(self, epoch: int) -> dict[str, Any]:
        return {
            "model_name": self.cfg.model,
            "num_classes": self.num_classes,
            "class_names": list(self.class_names),
            "labels": self.cfg.labels,
            "model_state": self.model.state_dict(),
            "ema_state": self.ema.module.state_dict() if self.ema else None,
            "ema": self.ema.state_dict() if self.ema else None,
            "optimizer_state": self.optimizer.state_dict(),
            "scheduler_state": self.scheduler.state_dict() if self.scheduler else None,
            "epoch": epoch,
            "best_accuracy": self.best_accuracy,
            "best_epoch": self.best_epoch,
            "history": self.history,
            "config": self.cfg.to_dict(),
            "code_version": code_version(),
            "selected_on": SELECT_SPLIT,
            "schedule_plan": self.schedule_plan,
        }

    def restore(self, state: dict[str, Any], source: Path) -> None:
        plan = state.get("schedule_plan")
        if plan and self.step_per_batch:
            # the schedule is the planned one, walked faster; rebuilt before the optimiser's state is
            # loaded, since building a schedule resets the optimiser's learning rate
            planned = self.cfg.override(epochs=plan["planned_epochs"])
            self.scheduler, _ = build_scheduler(self.optimizer, planned, self.steps_per_epoch)
            self.schedule_plan = dict(plan)
        try:
            self.model.load_state_dict(state["model_state"])
            self.optimizer.load_state_dict(state["optimizer_state"])
            if self.scheduler and state.get("scheduler_state"):
                self.scheduler.load_state_dict(state["scheduler_state"])
            if self.ema and state.get("ema"):
                self.ema.load_state_dict(state["ema"])
        except (KeyError, RuntimeError, ValueError) as e:
            raise CheckpointError(f"{source}: does not match this run's model or settings: {e}") from None
        self.history = list(state["history"])
        self.best_accuracy, self.best_epoch = state["best_accuracy"], state["best_epoch"]
        self.start_epoch = state["epoch"] + 1

    # -- one epoch --------------------------------------------------------------------------------
    def train_epoch(self, epoch: int, progress: EpochProgress) -> dict[str, float]:
        cfg = self.cfg
        self.net.train()
        torch.manual_seed(_epoch_seed(cfg, epoch, 1 + self.rt.rank))  # dropout
        index_gen = torch.Generator().manual_seed(_epoch_seed(cfg, epoch, 0))
        aug_gen = torch.Generator(device=self.device).manual_seed(_epoch_seed(cfg, epoch, 100 + self.rt.rank))
        order = epoch_indices(self.train_set.labels, cfg.balance, index_gen)
        if self.rt.distributed:  # same permutation everywhere, one shard per rank
            order = order[self.rt.rank :: self.rt.world_size]
        order = order.to(self.device)
        total_loss = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device)
        seen = 0
        start = time.perf_counter()
        for step in range(self.steps_per_epoch):
            batch = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            if self.hard_pool is not None:
                k = int(len(batch) * self.hard_fraction)
                pick = torch.randint(len(self.hard_pool), (k,), generator=index_gen).to(self.device)
                batch = torch.cat([self.hard_pool[pick], batch[k:]])
            x = self.train_faces[batch].unsqueeze(1).float()
            targets = self.train_targets[batch]
            if self.teacher_targets is not None:
                targets = torch.cat([targets, self.teacher_targets[batch]], dim=1)
            x, targets = augment_batch(x, targets, self.policy, aug_gen)
            targets, teacher = targets[:, : self.num_classes], targets[:, self.num_classes :]
            if cfg.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            face_weights = face_weights_of(targets, self.weights)  # from the labels, before smoothing
            if cfg.label_smoothing:
                targets = targets * (1 - cfg.label_smoothing) + cfg.label_smoothing / self.num_classes
            with autocast_context(self.device, self.amp):
                logits = self.net(x)
            loss = self.loss(logits.float(), targets, teacher, face_weights)
            if not torch.isfinite(loss):
                raise TrainingDiverged(
                    f"the loss became {loss.item()} at epoch {epoch}, batch {step + 1}; "
                    "lower the learning rate (--lr) or check the data"
                )
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.sam_rho > 0:  # sharpness-aware: step with the gradient at the climbed weights
                moves = climb(self.model, cfg.sam_rho)
                with batchnorm_stats_frozen(self.model), autocast_context(self.device, self.amp):
                    climbed_logits = self.net(x)
                self.optimizer.zero_grad(set_to_none=True)
                self.loss(climbed_logits.float(), targets, teacher, face_weights).backward()
                descend(moves)
            self.optimizer.step()
            if self.scheduler is not None and self.step_per_batch:
                self._step_schedule((epoch - 1) * self.steps_per_epoch + step + 1)
            if self.ema is not None:
                self.ema.update(self.model)
            total_loss += loss.detach() * len(batch)
            correct += (logits.argmax(1) == targets.argmax(1)).sum()
            seen += len(batch)
            if progress.active and (step % 10 == 0 or step == self.steps_per_epoch - 1):
                progress.update(
                    step + 1,
                    loss=float(total_loss) / seen,
                    accuracy=float(correct) / seen,
                    faces_per_s=seen * self.rt.world_size / (time.perf_counter() - start),
                )
        seconds = time.perf_counter() - start
        return {
            "train_loss": float(total_loss) / max(seen, 1),
            "train_accuracy": float(correct) / max(seen, 1),
            "train_seconds": seconds,
            "faces_per_second": seen * self.rt.world_size / seconds,
        }

    def loss(
        self, logits: torch.Tensor, targets: torch.Tensor, teacher: torch.Tensor, face_weights: torch.Tensor | None
    ) -> torch.Tensor:
        """Cross-entropy with the labels, blended with the teacher's soft targets when distilling."""
        hard = soft_cross_entropy(logits, targets, face_weights)
        if self.teacher_targets is None:
            return hard
        w, t = self.cfg.distill_weight, self.cfg.distill_temperature
        return (1 - w) * hard + w * distillation_loss(logits, teacher, t)

    def _step_schedule(self, step: int) -> None:
        """Advance the per-batch schedule to optimiser step `step` (or, after a re-plan, to its position)."""
        if self.schedule_plan is not None:
            # schedulers compute the rate from last_epoch: stand one before the position, then step
            self.scheduler.last_epoch = schedule_position(step, self.schedule_plan) - 1
        self.scheduler.step()

    def shorten(self, epoch: int, epochs: int) -> None:
        """Make this an `epochs`-epoch run from the end of `epoch`, its schedule still ending annealed."""
        if self.step_per_batch and self.scheduler is not None:
            planned = self.schedule_plan["planned_epochs"] if self.schedule_plan else self.cfg.epochs
            self.schedule_plan = {
                "planned_epochs": planned,
                "steps_per_epoch": self.steps_per_epoch,
                "from_step": epoch * self.steps_per_epoch,
                "from_position": int(self.scheduler.last_epoch),
                "to_step": epochs * self.steps_per_epoch,
            }
        self.cfg = self.cfg.override(epochs=epochs)
        if self.rt.is_main:
            (self.run_dir / "config.json").write_text(json.dumps(self.cfg.to_dict(), indent=1))

    def _budget_decision(self, epoch: int, epoch_seconds: list[float], seconds: float) -> tuple[bool, int]:
        """(stop now?, epochs the run should have) under max_minutes, the same on every rank."""
        cfg = self.cfg
        decision = (False, cfg.epochs)
        if cfg.max_minutes and self.rt.is_main:
            budget = cfg.max_minutes * 60
            if cfg.budget_policy == "shorten":
                decision = (False, replan_epochs(epoch, cfg.epochs, epoch_seconds, budget - seconds))
            else:
                decision = (seconds >= budget, cfg.epochs)
        if self.rt.distributed:  # rank 0's clock decides for all: ranks that disagree would hang
            box = [decision]
            torch.distributed.broadcast_object_list(box, src=0)
            decision = box[0]
        return decision

    def evaluate_selection(self) -> dict[str, float]:
        """Loss and accuracy on PublicTest, with the weights that would be saved (EMA if kept)."""
        model = self.ema.module if self.ema else self.model
        logits = predict_logits(
            model,
            self.select_set.faces,
            batch_size=self.cfg.eval_batch_size,
            device=self.device,
            amp=self.amp,
            channels_last=self.cfg.channels_last,
        )
        targets = torch.as_tensor(self.select_set.targets)
        labels = torch.as_tensor(self.select_set.labels)
        return {
            "val_loss": float(soft_cross_entropy(logits, targets, None)),
            "val_accuracy": float((logits.argmax(1) == labels).float().mean()),
        }

    # -- the run ----------------------------------------------------------------------------------
    def fit(self) -> TrainResult:
        cfg, main = self.cfg, self.rt.is_main
        writer = _tensorboard(self.run_dir) if (main and cfg.tensorboard) else None
        progress = EpochProgress(enabled=main and cfg.progress, steps=self.steps_per_epoch, quiet=not main)
        started = time.perf_counter()
        # A resumed run's clock goes on from its last epoch (minutes-to-accuracy read it); max_minutes
        # stays a budget for this invocation, so a run stopped by it can be resumed.
        minutes_before = self.history[-1]["elapsed_minutes"] if self.history else 0.0
        stale_epochs = sum(1 for h in self.history if h["epoch"] > self.best_epoch)
        with progress:
            progress.note(self.describe())
            for note in self.notes if self.start_epoch == 1 else []:
                progress.note(note)
            # each epoch's seconds, end to end (the previous checkpoint's write included): the re-plan's clock
            epoch, epoch_seconds, mark = self.start_epoch, [], started
            while epoch <= self.cfg.epochs:  # budget_policy=shorten may lower cfg.epochs on the way
                progress.start_epoch(epoch, self.cfg.epochs)
                metrics = self.train_epoch(epoch, progress)
                metrics.update(self._selection_metrics())
                metrics.update(
                    epoch=epoch,
                    lr=self.optimizer.param_groups[0]["lr"],
                    elapsed_minutes=minutes_before + (time.perf_counter() - started) / 60,
                )
                if self.scheduler is not None and not self.step_per_batch:
                    self.scheduler.step(metrics["val_accuracy"])
                self.history.append(metrics)
                improved = metrics["val_accuracy"] > self.best_accuracy
                if improved:
                    self.best_accuracy, self.best_epoch, stale_epochs = metrics["val_accuracy"], epoch, 0
                else:
                    stale_epochs += 1
                # decided before the checkpoint, so that last.pt holds a re-plan and a resume follows it
                now = time.perf_counter()
                epoch_seconds.append(now - mark)
                mark = now
                stop, epochs = self._budget_decision(epoch, epoch_seconds, now - started)
                replanned = epochs < self.cfg.epochs
                if replanned:
                    old_epochs = self.cfg.epochs
                    self.shorten(epoch, epochs)
                if main:
                    self._record(epoch, metrics, improved, writer)
                    progress.finish_epoch(metrics, improved)
                if replanned:
                    progress.note(
                        f"re-planned: {epochs} epochs instead of {old_epochs} fit the {cfg.max_minutes:g}-minute "
                        "budget; the rest of the schedule is walked faster and still ends annealed"
                    )
                if cfg.early_stop_patience and stale_epochs >= cfg.early_stop_patience:
                    progress.note(f"early stop: no better PublicTest accuracy for {stale_epochs} epochs")
                    break
                if stop:
                    progress.note(f"stopping: the {cfg.max_minutes:g}-minute budget is spent")
                    break
                epoch += 1
        if writer is not None:
            writer.close()
        return TrainResult(self.run_dir, self.best_accuracy, self.best_epoch, self.history, self.model)

    def describe(self) -> str:
        """One line saying what this run trains, as resolved: a setting that did not take shows at once."""
        cfg = self.cfg
        parameters = sum(p.numel() for p in self.model.parameters() if p.requires_grad)
        start = "training" if self.start_epoch == 1 else f"resuming at epoch {self.start_epoch} of"
        held_out = f", fold {cfg.hold_out} held out" if cfg.hold_out else ""
        return (
            f"{start} {cfg.model} ({parameters:,} parameters) on {cfg.labels} labels ({self.num_classes} classes, "
            f"{len(self.train_set.labels):,} faces{held_out}): {cfg.epochs} epochs, batch {cfg.batch_size}, "
            f"{cfg.optimizer} lr {cfg.lr:g} {cfg.schedule}, augment {cfg.augment}, balance {cfg.balance}, "
            f"teacher {cfg.teacher or 'none'}, seed {cfg.seed}, {self.device}{' bf16' if self.amp else ''}"
        )

    def _selection_metrics(self) -> dict[str, float]:
        """Rank 0 judges; under DDP every rank gets its numbers so all make the same stop/LR decisions."""
        metrics = self.evaluate_selection() if self.rt.is_main else {}
        if self.rt.distributed:
            box = [metrics]
            torch.distributed.broadcast_object_list(box, src=0)
            metrics = box[0]
        return metrics

    def _record(self, epoch: int, metrics: dict[str, Any], improved: bool, writer) -> None:
        state = self.state(epoch)
        save_checkpoint(self.run_dir / "last.pt", state)
        if improved:
            save_checkpoint(self.run_dir / "best.pt", state)
        (self.run_dir / "history.json").write_text(json.dumps(self.history, indent=1))
        if writer is not None:
            for key, value in metrics.items():
                if key != "epoch":
                    writer.add_scalar(key, value, epoch)
            writer.flush()


def _tensorboard(run_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional: the run still writes history.json
        return None
    return SummaryWriter(str(run_dir / "tb"))


def train(cfg: TrainConfig, *, resume: str | Path | None = None, overwrite: bool = False) -> TrainResult:
    """Train on Training, select on PublicTest (PrivateTest is never read); return the best epoch.

    With `resume` (a run directory), the run continues from its last.pt with the config stored there.
    A new run refuses a directory that already holds one (RunExists) unless `overwrite`.
    """
    state = None
    if resume is not None:
        run_dir = Path(resume)
        state = load_checkpoint(run_dir / "last.pt")
        cfg = TrainConfig.from_dict(state["config"]).override(progress=cfg.progress, out=str(run_dir))
    if not cfg.data:
        raise BadInput("no dataset given: set data to fer2013.csv / fer2013.tar.gz / ...")
    if state is None and not overwrite:
        refuse_to_overwrite(Path(cfg.out))
    runtime = setup_runtime(cfg.device)
    try:
        run_dir = Path(cfg.out)
        if runtime.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1))
        trainer = Trainer(cfg, runtime, run_dir)
        if state is not None:
            trainer.restore(state, run_dir / "last.pt")
        return trainer.fit()
    finally:
        teardown_runtime(runtime)
