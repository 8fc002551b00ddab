"""The `linear` trainer: scikit-learn's linear models on a design matrix of standardised numbers
(missing → the training mean) and one-hot categories (missing or unknown → all zeros) — the
same transformation the exported graph performs with Imputer, Scaler and OneHotEncoder.

Regression: LinearRegression (penalty none), Ridge (l2), Lasso (l1), ElasticNet.
Classification: LogisticRegression (lbfgs for l2/none, saga for l1/elasticnet; multinomial
for more than two classes).

scikit-learn fits in memory, so the training split's design matrix must fit: it is refused
(a user error naming the size) above MAX_DESIGN_BYTES. The fit is one step, so there is no
checkpoint to resume from; progress is reported per stage.
"""

from __future__ import annotations

import io
import pickle
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge

from . import metrics
from .dataset import Feature, Prepared
from .errors import UserError
from .onnx_export import linear_model, scale_of
from .split import TEST, TRAIN, VALIDATION
from .xgboost_trainer import TrainContext, TrainResult

MAX_DESIGN_BYTES = 4 << 30


def design_width(features: list[Feature]) -> int:
    return sum(len(f.categories) if f.kind == "categorical" else 1 for f in features)


def design(features: list[Feature], x: np.ndarray) -> np.ndarray:
    """Rows of the spool (final category codes) → the model's design matrix (float64)."""
    numeric = [(j, f) for j, f in enumerate(features) if f.kind != "categorical"]
    blocks = []
    if numeric:
        cols = x[:, [j for j, _ in numeric]].astype(np.float64)
        means = np.array([f.mean for _, f in numeric])
        scales = np.array([scale_of(f) for _, f in numeric])
        cols = np.where(np.isnan(cols), means, cols)
        blocks.append((cols - means) / scales)
    for j, f in enumerate(features):
        if f.kind == "categorical" and f.categories:
            onehot = np.zeros((len(x), len(f.categories)))
            codes = x[:, j]
            ok = ~np.isnan(codes)
            onehot[np.flatnonzero(ok), codes[ok].astype(np.int64)] = 1.0
            blocks.append(onehot)
    return np.concatenate(blocks, axis=1) if blocks else np.zeros((len(x), 0))


def estimator(task: str, p: dict, seed: int, n_classes: int):
    penalty = p["penalty"]
    if task == "regression":
        if penalty == "none":
            return LinearRegression()
        if penalty == "l2":
            return Ridge(alpha=p["alpha"], max_iter=p["max_iter"], tol=p["tol"], random_state=seed)
        if penalty == "l1":
            return Lasso(alpha=p["alpha"], max_iter=p["max_iter"], tol=p["tol"], random_state=seed)
        return ElasticNet(alpha=p["alpha"], l1_ratio=p["l1_ratio"], max_iter=p["max_iter"], tol=p["tol"], random_state=seed)
    solver = "lbfgs" if penalty in ("l2", "none") else "saga"
    return LogisticRegression(
        penalty=None if penalty == "none" else penalty,
        C=p["C"],
        l1_ratio=p["l1_ratio"] if penalty == "elasticnet" else None,
        solver=solver,
        max_iter=p["max_iter"],
        tol=p["tol"],
        random_state=seed,
    )


def load_design(prepared: Prepared, split: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for x, y in prepared.batches(split, 1 << 16):
        xs.append(design(prepared.plan.features, x))
        ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


def train(prepared: Prepared, p: dict, ctx: TrainContext) -> TrainResult:
    features = prepared.plan.features
    task = prepared.plan.task
    width = design_width(features)
    needed = prepared.rows[TRAIN] * max(1, width) * 8
    if needed > MAX_DESIGN_BYTES:
        raise UserError(
            f"the linear trainer fits in memory: {prepared.rows[TRAIN]} training rows × {width} columns "
            f"need {needed / 2**30:.1f} GiB, over its {MAX_DESIGN_BYTES / 2**30:.0f} GiB limit "
            "(use the xgboost trainer, fewer features or a lower params.max_categories)",
            code="too_large",
            parameter="params.max_categories",
        )
    ctx.reporter.progress(0, 1, {}, "fitting")
    x_train, y_train = load_design(prepared, TRAIN)
    model = estimator(task, p, ctx.seed, len(prepared.classes))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(x_train, y_train.astype(np.int64) if task == "classification" else y_train)
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            ctx.log(f"scikit-learn: {w.message}")
    x_valid, y_valid = load_design(prepared, VALIDATION)
    x_test, y_test = load_design(prepared, TEST)
    x_sample = design(features, prepared.sample_x)

    if task == "regression":
        scores = {
            "train-rmse": metrics._regression(y_train, model.predict(x_train))["rmse"],
            "validation-rmse": metrics._regression(y_valid, model.predict(x_valid))["rmse"],
        }
        result = metrics.regression(y_test, model.predict(x_test), prepared.target_mean)
        outputs = [{"predictions": float(v)} for v in model.predict(x_sample)]
        classes = prepared.classes
        coef = np.asarray(model.coef_, np.float64).reshape(1, -1)
        intercept = np.atleast_1d(np.asarray(model.intercept_, np.float64))
    else:
        # Only classes seen in training exist for the model; the signature lists those.
        known = [int(c) for c in model.classes_]
        classes = [prepared.classes[c] for c in known]
        full = lambda m: _full_probabilities(model.predict_proba(m), known, len(prepared.classes))  # noqa: E731
        prior = np.array(prepared.class_counts[TRAIN], np.float64) / prepared.rows[TRAIN]
        scores = {
            "train-logloss": metrics._classification(y_train.astype(np.int64), full(x_train), prepared.classes)["log_loss"],
            "validation-logloss": metrics._classification(y_valid.astype(np.int64), full(x_valid), prepared.classes)["log_loss"],
        }
        result = metrics.classification(y_test, full(x_test), prior, prepared.classes)
        outputs = [
            {"label": classes[int(np.argmax(row))], "probabilities": [float(v) for v in row]}
            for row in model.predict_proba(x_sample)
        ]
        coef = np.asarray(model.coef_, np.float64)
        intercept = np.asarray(model.intercept_, np.float64)
    ctx.reporter.progress(1, 1, scores)
    result["validation"] = scores
    result["history"] = [{"iteration": 1, **scores}]
    n_iter = getattr(model, "n_iter_", None)
    iterations = {"completed": 1, "best": 1, "requested": 1, "solver_iterations": np.asarray(n_iter).tolist() if n_iter is not None else None}
    onnx_model = linear_model(features, task, classes, coef, intercept)
    native = io.BytesIO()
    pickle.dump(
        {
            "format": "argmax-linear/1",
            "sklearn": sklearn.__version__,
            "estimator": model,
            "classes": classes,
            "features": [
                {"name": f.name, "kind": f.kind, "mean": f.mean, "scale": scale_of(f), "categories": f.categories}
                for f in features
            ],
        },
        native,
    )
    return TrainResult(onnx_model, [("model.pkl", native.getvalue())], result, outputs, iterations, classes)


def _full_probabilities(p: np.ndarray, known: list[int], n_classes: int) -> np.ndarray:
    out = np.zeros((len(p), n_classes))
    out[:, known] = p
    return out
