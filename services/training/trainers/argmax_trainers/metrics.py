"""Test-split metrics, each next to a trivial baseline: the training mean for regression, the
training class prior for classification (which scores accuracy = its majority class, AUC 0.5)."""

from __future__ import annotations

import math

import numpy as np
from sklearn import metrics as skm


def regression(y: np.ndarray, predicted: np.ndarray, train_mean: float) -> dict:
    baseline = np.full_like(y, train_mean, dtype=np.float64)
    return {
        "test": _regression(y, predicted.astype(np.float64)),
        "baseline": {"kind": "training mean", "value": train_mean, **_regression(y, baseline)},
    }


def _regression(y: np.ndarray, p: np.ndarray) -> dict:
    return {
        "rmse": float(math.sqrt(skm.mean_squared_error(y, p))),
        "mae": float(skm.mean_absolute_error(y, p)),
        "r2": float(skm.r2_score(y, p)) if len(y) > 1 else None,
        "rows": int(len(y)),
    }


def classification(y: np.ndarray, probabilities: np.ndarray, prior: np.ndarray, classes: list[str]) -> dict:
    """y: class indices; probabilities [n, C] over `classes`; prior: training class frequencies."""
    labels = y.astype(np.int64)
    baseline = np.tile(prior, (len(labels), 1))
    return {
        "test": _classification(labels, probabilities.astype(np.float64), classes),
        "baseline": {"kind": "training class prior", "prior": [float(p) for p in prior], **_classification(labels, baseline, classes)},
    }


def _classification(y: np.ndarray, p: np.ndarray, classes: list[str]) -> dict:
    n_classes = len(classes)
    predicted = np.argmax(p, axis=1)
    return {
        "accuracy": float(np.mean(predicted == y)),
        "log_loss": float(skm.log_loss(y, np.clip(p, 1e-15, 1.0), labels=list(range(n_classes)))),
        "roc_auc": roc_auc(y, p),
        "rows": int(len(y)),
    }


def roc_auc(y: np.ndarray, p: np.ndarray) -> float | None:
    """Binary: AUC of the positive class. Multi-class: one-vs-rest, macro average over the classes
    that occur in the test split alongside others (AUC is undefined for the rest)."""
    n_classes = p.shape[1]
    if n_classes == 2:
        if len(np.unique(y)) < 2:
            return None
        return float(skm.roc_auc_score(y, p[:, 1]))
    scores = []
    for c in range(n_classes):
        positive = y == c
        if positive.any() and not positive.all():
            scores.append(skm.roc_auc_score(positive, p[:, c]))
    return float(np.mean(scores)) if scores else None
