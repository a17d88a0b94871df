"""Which members should an ensemble keep? Selection rules chosen on the select split, scored on the report split.

Every member gets its TTA (none or flip) on the select split (FER2013 PublicTest; for FER+ members, FER+
Valid = the same faces' majority votes), exactly as `ferkit ensemble` does. Rules compared: all members,
greedy forward selection on select-split accuracy, greedy on select-split log-loss, and a stack: member
weights and a class bias fitted on select-split log-loss. The report split
(PrivateTest; FER+ Test) is read only to score them, never to choose. Its spread over ensembles that drop
one member (leave-one-out) and over every subset of each size says how much a single figure can be trusted.
A member is a run, a checkpoint, or a member-predictions file (`--keep DIR` writes one per checkpoint given:
`runs/` does not outlive the machine, the kept predictions do; `docs/results/member_predictions/`).
With --halvings N the stack is also scored on the select split with weights fitted on the other half of it
(N random halvings, both ways): an honest select-split figure for asking whether a new member adds anything.
Usage: python benchmarks/ensemble_selection.py MEMBER [MEMBER ...] --data fer2013.tar.gz
       [--ferplus fer2013new.csv] [--keep docs/results/member_predictions] [--halvings 20]
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
import torch

from ferkit.data import load_faces, split_with_labels
from ferkit.evaluate.member_predictions import (
    MemberPredictions,
    read_member_predictions,
    splits_digest,
    write_member_predictions,
)
from ferkit.export.common import float_model
from ferkit.export.ensemble import greedy_members, member_choice, negative_log_loss, resolve_member
from ferkit.labels import REPORT_SPLIT, SELECT_SPLIT
from ferkit.models.predict import predict_logits


def report_probabilities(model, faces: np.ndarray, flip: bool) -> np.ndarray:
    p = torch.softmax(predict_logits(model, faces), dim=1).numpy()
    if flip:
        p = (p + torch.softmax(predict_logits(model, np.ascontiguousarray(faces[:, :, ::-1])), dim=1).numpy()) / 2
    return p


def accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    return float((probs.argmax(1) == labels).mean())


def fitted_log_weights(probabilities: list[np.ndarray], labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Member weights (a softmax: positive, summing to 1) and a bias per class on the members' log-probabilities,
    fitted by L-BFGS to the select split's log-loss: 12 + 7 numbers from ~3,600 faces (a stacked ensemble)."""
    logs = torch.log(torch.as_tensor(np.stack(probabilities), dtype=torch.float64).clamp_min(1e-9))
    target = torch.as_tensor(labels, dtype=torch.long)
    raw = torch.zeros(len(probabilities), dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(logs.shape[-1], dtype=torch.float64, requires_grad=True)
    # a line search: without one, L-BFGS can leap to a corner (13 members once ended all on one, worse than the mean)
    optimizer = torch.optim.LBFGS([raw, bias], max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        logits = (torch.softmax(raw, 0)[:, None, None] * logs).sum(0) + bias
        loss = torch.nn.functional.cross_entropy(logits, target)
        loss.backward()
        return loss

    optimizer.step(closure)
    return torch.softmax(raw, 0).detach().numpy(), bias.detach().numpy()


def weighted_log_mean(probabilities: list[np.ndarray], weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Scores (their argmax is the prediction): the weighted mean of the members' log-probabilities, plus bias."""
    return np.tensordot(weights, np.log(np.clip(np.stack(probabilities), 1e-9, None)), 1) + bias


def cross_fitted_stack(probabilities: list[np.ndarray], labels: np.ndarray, halvings: int) -> tuple[float, float]:
    """The stack's select-split accuracy when its weights never saw the faces they are scored on: fitted on one
    random half and scored on the other, both ways, over `halvings` halvings (seed 0: the same halvings for
    any member list, so two runs compare paired); (mean, sd) over halvings."""
    rng, scores = np.random.default_rng(0), []
    for _ in range(halvings):
        order = rng.permutation(len(labels))
        halves = (order[: len(labels) // 2], order[len(labels) // 2 :])
        right = 0
        for fit, held in (halves, halves[::-1]):
            weights, bias = fitted_log_weights([p[fit] for p in probabilities], labels[fit])
            right += int(
                np.sum(weighted_log_mean([p[held] for p in probabilities], weights, bias).argmax(1) == labels[held])
            )
        scores.append(right / len(labels))
    return float(np.mean(scores)), float(np.std(scores))


def kept_name(member: str) -> str:
    """A run directory's name; for a checkpoint, its run's name and its own (`run-best`)."""
    path = Path(member)
    return path.name if path.is_dir() else f"{path.parent.name}-{path.stem}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("members", nargs="+", help="run directories, .pt checkpoints or member-predictions .npz")
    parser.add_argument("--data", required=True)
    parser.add_argument("--ferplus", default=None, help="fer2013new.csv, for members trained on FER+ classes")
    parser.add_argument("--keep", default=None, help="write each checkpoint member's predictions here")
    parser.add_argument(
        "--halvings", type=int, default=0, help="also the stack cross-fitted over this many select-split halvings"
    )
    args = parser.parse_args()

    dataset = load_faces(args.data, ferplus=args.ferplus)
    is_kept = [m.endswith(".npz") for m in args.members]
    paths = {i: resolve_member(m) for i, m in enumerate(args.members) if not is_kept[i]}
    if paths:
        class_names = tuple(float_model(next(iter(paths.values())))[0]["class_names"])
    else:
        with np.load(args.members[0], allow_pickle=False) as z:
            class_names = tuple(json.loads(str(z["class_names"])))
    sel_faces, sel_labels = split_with_labels(dataset, SELECT_SPLIT, class_names)
    rep_faces, rep_labels = split_with_labels(dataset, REPORT_SPLIT, class_names)
    digest = splits_digest(sel_faces, sel_labels, rep_faces, rep_labels)
    members: list[MemberPredictions] = []
    for i, member in enumerate(args.members):
        if is_kept[i]:
            members.append(read_member_predictions(member, digest=digest, class_names=class_names))
            continue
        c = member_choice(paths[i], sel_faces, sel_labels)
        kept = MemberPredictions(kept_name(member), str(paths[i]), class_names, c.flip, c.probabilities,
                                 report_probabilities(c.model, rep_faces, c.flip), digest)  # fmt: skip
        if args.keep:
            print(f"kept: {write_member_predictions(Path(args.keep) / f'{kept.name}.npz', kept)}")
        members.append(kept)
    sel = [m.select_probabilities for m in members]
    rep = [m.report_probabilities for m in members]

    def scored(members: list[int]) -> dict:
        s, r = np.mean([sel[i] for i in members], 0), np.mean([rep[i] for i in members], 0)
        return {
            "members": members,
            "select_accuracy": round(accuracy(s, sel_labels), 4),
            "select_log_loss": round(-negative_log_loss(s, sel_labels), 4),
            "report_accuracy": round(accuracy(r, rep_labels), 4),
        }

    print(f"select split {SELECT_SPLIT} ({len(sel_labels)} faces), report split {REPORT_SPLIT} ({len(rep_labels)})")
    for i, (path, c) in enumerate(zip(args.members, members)):
        row = scored([i])
        print(
            f"  [{i}] {path}: TTA {'flip' if c.flip else 'none'}, select {row['select_accuracy']:.4f} "
            f"(log-loss {row['select_log_loss']:.4f}), report {row['report_accuracy']:.4f}"
        )
    n = len(members)
    rules = {
        "all members": list(range(n)),
        "greedy on accuracy": greedy_members(sel, sel_labels, "accuracy"),
        "greedy on log-loss": greedy_members(sel, sel_labels, "log-loss"),
    }
    results = {}
    for name, members in rules.items():
        results[name] = row = scored(members)
        print(
            f"{name:>20}: members {members}, select {row['select_accuracy']:.4f} "
            f"(log-loss {row['select_log_loss']:.4f}), report {row['report_accuracy']:.4f}"
        )
    weights, bias = fitted_log_weights(sel, sel_labels)
    s, r = weighted_log_mean(sel, weights, bias), weighted_log_mean(rep, weights, bias)
    results["weights and class bias fitted on log-loss"] = row = {
        "weights": [round(float(x), 3) for x in weights],
        "bias": [round(float(x), 3) for x in bias],
        "select_accuracy": round(accuracy(s, sel_labels), 4),
        "report_accuracy": round(accuracy(r, rep_labels), 4),
    }
    print(
        f"weights and class bias fitted on log-loss: weights {row['weights']}, bias {row['bias']}, "
        f"select {row['select_accuracy']:.4f}, report {row['report_accuracy']:.4f}"
    )
    if args.halvings:
        mean, sd = cross_fitted_stack(sel, np.asarray(sel_labels), args.halvings)
        results["stack cross-fitted on select-split halves"] = {"select_accuracy": round(mean, 4), "sd": round(sd, 4)}
        print(f"the stack cross-fitted over {args.halvings} halvings of {SELECT_SPLIT}: {mean:.4f} ± {sd:.4f}")
    sizes = {}
    for k in range(2, n + 1):
        report = [scored(list(m))["report_accuracy"] for m in itertools.combinations(range(n), k)]
        sizes[k] = {
            "subsets": len(report),
            "mean": round(float(np.mean(report)), 4),
            "sd": round(float(np.std(report)), 4),
            "min": min(report),
            "max": max(report),
        }
        print(
            f"every subset of {k} ({len(report)}): report {sizes[k]['mean']:.4f} ± {sizes[k]['sd']:.4f} "
            f"(min {sizes[k]['min']:.4f}, max {sizes[k]['max']:.4f})"
        )
    print(json.dumps({"members": args.members, "rules": results, "subset_sizes": sizes}))


if __name__ == "__main__":
    main()
