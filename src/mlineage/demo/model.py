"""The demo's model: logistic regression trained by mini-batch gradient descent.

Small enough to train in a blink in pure Python, real enough that its loss curves,
accuracy and ROC curve are the genuine article.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Config", "Evaluation", "Trained", "evaluate", "load", "save", "train"]


@dataclass(frozen=True)
class Config:
    """Hyperparameters of one training run."""

    learning_rate: float = 0.1
    l2: float = 0.0
    batch_size: int = 32
    momentum: float = 0.0
    steps: int = 300
    seed: int = 0

    def params(self) -> dict[str, float | int | str]:
        return {
            "learning_rate": self.learning_rate,
            "l2": self.l2,
            "batch_size": self.batch_size,
            "momentum": self.momentum,
            "steps": self.steps,
            "optimizer": "momentum" if self.momentum else "sgd",
        }


@dataclass
class Trained:
    """Weights (bias last) and the loss after every step."""

    weights: list[float]
    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)


def _score(weights: Sequence[float], row: Sequence[float]) -> float:
    z = weights[-1] + sum(w * x for w, x in zip(weights, row, strict=False))
    z = max(-30.0, min(30.0, z))
    return 1.0 / (1.0 + math.exp(-z))


def _log_loss(
    weights: Sequence[float], rows: Sequence[Sequence[float]], labels: Sequence[int]
) -> float:
    eps = 1e-9
    total = 0.0
    for row, label in zip(rows, labels, strict=True):
        p = _score(weights, row)
        total -= label * math.log(p + eps) + (1 - label) * math.log(1 - p + eps)
    return total / max(1, len(rows))


def train(
    config: Config,
    rows: Sequence[Sequence[float]],
    labels: Sequence[int],
    val_rows: Sequence[Sequence[float]],
    val_labels: Sequence[int],
) -> Trained:
    """Train, recording the batch loss and the validation loss after each step."""
    rng = random.Random(config.seed)
    width = len(rows[0]) + 1
    weights = [0.0] * width
    velocity = [0.0] * width
    result = Trained(weights)
    for _ in range(config.steps):
        batch = [rng.randrange(len(rows)) for _ in range(config.batch_size)]
        gradient = [0.0] * width
        for i in batch:
            error = _score(weights, rows[i]) - labels[i]
            for j, x in enumerate(rows[i]):
                gradient[j] += error * x
            gradient[-1] += error
        for j in range(width):
            g = gradient[j] / len(batch) + (config.l2 * weights[j] if j < width - 1 else 0.0)
            velocity[j] = config.momentum * velocity[j] - config.learning_rate * g
            weights[j] += velocity[j]
        result.loss.append(_log_loss(weights, [rows[i] for i in batch], [labels[i] for i in batch]))
        result.val_loss.append(_log_loss(weights, val_rows, val_labels))
    return result


@dataclass(frozen=True)
class Evaluation:
    """Quality on held-out data; the confusion matrix rows are (stayed, churned)."""

    metrics: dict[str, float]
    matrix: list[list[float]]
    fpr: list[float]
    tpr: list[float]
    thresholds: list[float]


def _auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """The probability that a churner scores above a stayer (ties count half)."""
    ranked = sorted(zip(scores, labels, strict=True))
    positives = sum(labels)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return 0.5
    rank_sum = 0.0
    i = 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        average_rank = (i + j + 1) / 2
        rank_sum += average_rank * sum(label for _, label in ranked[i:j])
        i = j
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def evaluate(
    weights: Sequence[float], rows: Sequence[Sequence[float]], labels: Sequence[int]
) -> Evaluation:
    scores = [_score(weights, row) for row in rows]
    predicted = [int(s >= 0.5) for s in scores]
    tp = sum(1 for p, y in zip(predicted, labels, strict=True) if p and y)
    fp = sum(1 for p, y in zip(predicted, labels, strict=True) if p and not y)
    fn = sum(1 for p, y in zip(predicted, labels, strict=True) if not p and y)
    tn = len(labels) - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    thresholds = [round(t / 10, 1) for t in range(11)]
    positives = max(1, tp + fn)
    negatives = max(1, tn + fp)
    fpr = [
        sum(1 for s, y in zip(scores, labels, strict=True) if s >= t and not y) / negatives
        for t in thresholds
    ]
    tpr = [
        sum(1 for s, y in zip(scores, labels, strict=True) if s >= t and y) / positives
        for t in thresholds
    ]
    metrics = {
        "accuracy": round((tp + tn) / len(labels), 4),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "auc": round(_auc(scores, labels), 4),
        "log_loss": round(_log_loss(weights, rows, labels), 4),
    }
    return Evaluation(metrics, [[tn, fp], [fn, tp]], fpr, tpr, thresholds)


def save(path: Path, weights: Sequence[float], features: Sequence[str], config: Config) -> None:
    """Write the model as JSON: feature weights, bias and the hyperparameters."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "kind": "logistic-regression",
        "features": list(features),
        "weights": [round(w, 6) for w in weights[:-1]],
        "bias": round(weights[-1], 6),
        "config": config.params(),
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def load(path: Path) -> list[float]:
    """The weights (bias last) of a model written by `save`."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return [float(w) for w in document["weights"]] + [float(document["bias"])]
