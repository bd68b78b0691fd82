"""Held-out and cross-validated evaluation: AUC with a bootstrap CI, threshold metrics, calibration, gains."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.stats import quantile, rankdata
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold, train_test_split

N_BOOTSTRAP = 1000
BOOTSTRAP_DRAW_BATCH = 200
# Diagnostics on a large population use a seeded random sample of at most this many customers (the models
# themselves are fitted on all training customers).
MAX_BOOTSTRAP_CUSTOMERS = 20_000
CV_MAX_CUSTOMERS = 20_000


def stratified_sample(y, max_customers: int, seed: int = 0) -> np.ndarray | None:
    """Sorted positions of a seeded sample of ``max_customers`` customers with the label shares of ``y``, or None
    when there are no more customers than that (everyone is used)."""
    y = np.asarray(y)
    if len(y) <= max_customers:
        return None
    keep, _ = train_test_split(np.arange(len(y)), train_size=max_customers, stratify=y, random_state=seed)
    return np.sort(keep)


def cv_sample_size(n: int) -> int:
    """How many of ``n`` customers the cross-validations use."""
    return min(n, CV_MAX_CUSTOMERS)


def cv_positions(y, seed: int = 0) -> np.ndarray | None:
    """Positions of the customers a cross-validation splits (a seeded stratified sample of ``CV_MAX_CUSTOMERS``),
    or None when all of them are used."""
    return stratified_sample(y, CV_MAX_CUSTOMERS, seed)


def bootstrap_sample_size(n: int) -> int:
    """How many of ``n`` held-out customers the bootstrap intervals resample."""
    return min(n, MAX_BOOTSTRAP_CUSTOMERS)


def bootstrap_positions(n: int, rng: np.random.Generator, max_customers: int | None = None) -> np.ndarray | None:
    """Sorted positions of the held-out customers a bootstrap resamples (at most ``max_customers``, default
    ``MAX_BOOTSTRAP_CUSTOMERS``, drawn with ``rng``), or None when all of them are used."""
    size = min(n, MAX_BOOTSTRAP_CUSTOMERS if max_customers is None else max_customers)
    return np.sort(rng.choice(n, size, replace=False)) if size < n else None


def rank_auc(y: np.ndarray, prob: np.ndarray, axis: int = -1) -> np.ndarray:
    """AUC from the Mann-Whitney rank sum, vectorized along ``axis`` (equals ``roc_auc_score``)."""
    y = np.asarray(y, dtype=bool)
    n_pos = y.sum(axis=axis)
    n_neg = y.shape[axis] - n_pos
    rank_sum = np.where(y, rankdata(prob, axis=axis), 0).sum(axis=axis)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def pair_positions(score: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Order of the negatives by score and, per positive, how many negatives score below / not above it."""
    order = np.argsort(score[~y], kind="mergesort")
    negatives = score[~y][order]
    return order, np.searchsorted(negatives, score[y], "left"), np.searchsorted(negatives, score[y], "right")


def mann_whitney(pos_counts: np.ndarray, neg_counts: np.ndarray, below: np.ndarray,
                 not_above: np.ndarray) -> np.ndarray:
    """Mann-Whitney U of each resample (rows) given how often each positive and each negative (columns, the
    negatives in score order) was drawn: the pairs ranked right, ties counting half (exact, in whole numbers)."""
    cum = np.zeros((len(neg_counts), neg_counts.shape[1] + 1), dtype="int64")
    np.cumsum(neg_counts, axis=1, out=cum[:, 1:])
    return (pos_counts * (cum[:, below] + cum[:, not_above])).sum(axis=1) / 2


def _resampled_aucs(y: np.ndarray, prob: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """AUC of ``N_BOOTSTRAP`` resamples of the customers drawn with replacement by ``rng`` in batches of
    ``BOOTSTRAP_DRAW_BATCH``: the draws and figures of ``scipy.stats.bootstrap(..., paired=True)`` with
    :func:`rank_auc`, counted per customer instead of ranking every resample."""
    n, y = len(y), np.asarray(y, dtype=bool)
    order, below, not_above = pair_positions(np.asarray(prob, dtype="float64"), y)
    n_neg = n - int(y.sum())
    column = np.empty(n, dtype="int64")  # the negatives in score order, then the positives
    column[np.r_[np.flatnonzero(~y)[order], np.flatnonzero(y)]] = np.arange(n)
    out = []
    for size in np.diff(np.r_[np.arange(0, N_BOOTSTRAP, BOOTSTRAP_DRAW_BATCH), N_BOOTSTRAP]):
        draws = column[rng.integers(0, n, (size, n))] + n * np.arange(size)[:, None]
        counts = np.bincount(draws.ravel(), minlength=size * n).reshape(size, n)
        n_pos = n - counts[:, :n_neg].sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out.append(mann_whitney(counts[:, n_neg:], counts[:, :n_neg], below, not_above) / (n_pos * (n - n_pos)))
    return np.concatenate(out)


def auc_ci(y: np.ndarray, prob: np.ndarray, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the AUC (customers resampled with replacement; at most
    ``MAX_BOOTSTRAP_CUSTOMERS`` of them, sampled with ``seed``)."""
    y, prob = np.asarray(y), np.asarray(prob)
    keep = bootstrap_positions(len(y), np.random.default_rng(seed))
    if keep is not None:
        y, prob = y[keep], prob[keep]
    aucs = _resampled_aucs(y, prob, np.random.default_rng(seed))
    alpha = (1 - level) / 2
    low, high = quantile(aucs, np.asarray([alpha, 1 - alpha]))
    return float(low), float(high)


def top_decile_lift(y: np.ndarray, prob: np.ndarray) -> float:
    """Positive rate among the 10% highest-scored customers divided by the overall rate."""
    y = np.asarray(y)
    top = np.argsort(-np.asarray(prob), kind="mergesort")[: max(1, int(np.ceil(len(y) / 10)))]
    return float(y[top].mean() / y.mean())


def evaluate(y: np.ndarray, prob: np.ndarray, threshold: float, seed: int = 0) -> dict:
    """AUC (+ bootstrap CI), accuracy, precision, recall, F1 at ``threshold``, Brier score, top-decile lift."""
    y = np.asarray(y)
    pred = (np.asarray(prob) >= threshold).astype(int)
    return {
        "auc": float(roc_auc_score(y, prob)),
        "auc_ci": list(auc_ci(y, prob, seed)),
        "accuracy": float(accuracy_score(y, pred)),
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "brier": float(brier_score_loss(y, prob)),
        "top_decile_lift": top_decile_lift(y, prob),
    }


def majority_baseline(y_train: np.ndarray, y_test: np.ndarray) -> dict:
    """What 'predict the majority class for everyone' scores on the test customers."""
    majority = int(np.mean(y_train) >= 0.5)
    pred = np.full(len(y_test), majority)
    base = float(np.mean(y_train))
    return {"auc": 0.5, "accuracy": float(accuracy_score(y_test, pred)),
            "precision": float(precision_score(y_test, pred, zero_division=0)),
            "recall": float(recall_score(y_test, pred, zero_division=0)),
            "f1": float(f1_score(y_test, pred, zero_division=0)),
            "brier": float(brier_score_loss(y_test, np.full(len(y_test), base))), "top_decile_lift": 1.0}


def cv_auc(fit_predict: Callable[[pd.DataFrame, pd.Series, pd.DataFrame], np.ndarray], frame: pd.DataFrame,
           y: pd.Series, folds: int = 5, seed: int = 0) -> tuple[float, float]:
    """Mean and sd of the AUC over stratified folds; ``fit_predict(train, y_train, test)`` refits everything. On more
    than ``CV_MAX_CUSTOMERS`` customers the folds split a seeded stratified sample of that many."""
    keep = cv_positions(y, seed)
    if keep is not None:
        frame, y = frame.iloc[keep], y.iloc[keep]
    aucs = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(frame, y):
        prob = fit_predict(frame.iloc[train], y.iloc[train], frame.iloc[test])
        aucs.append(roc_auc_score(y.iloc[test], prob))
    return float(np.mean(aucs)), float(np.std(aucs, ddof=1))


def gains_table(y: np.ndarray, prob: np.ndarray, points: int = 100) -> pd.DataFrame:
    """Cumulative gains and lift when targeting customers from the highest score down."""
    y = np.asarray(y)[np.argsort(-np.asarray(prob), kind="mergesort")]
    n = len(y)
    k = np.unique(np.ceil(np.linspace(1, n, points)).astype(int))
    gain = np.cumsum(y)[k - 1] / y.sum()
    share = k / n
    return pd.DataFrame({"share_targeted": share, "gain": gain, "lift": gain / share})


CURVE_SHARES = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)  # the small curves of metrics.json


def gains_at(y: np.ndarray, prob: np.ndarray, shares=CURVE_SHARES) -> dict[str, list[float]]:
    """The cumulative gains curve at a few points: the share of all positives among the highest-scored
    ``shares`` of customers (the index page's chart)."""
    y = np.asarray(y)[np.argsort(-np.asarray(prob), kind="mergesort")]
    k = np.maximum(1, np.ceil(np.asarray(shares) * len(y) - 1e-9).astype(int))
    return {"share_targeted": list(shares), "gain": [float(g) for g in np.cumsum(y)[k - 1] / y.sum()]}


def calibration_table(y: np.ndarray, prob: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Observed rate against mean predicted probability in quantile bins."""
    observed, predicted = calibration_curve(y, prob, n_bins=bins, strategy="quantile")
    return pd.DataFrame({"predicted": predicted, "observed": observed})
