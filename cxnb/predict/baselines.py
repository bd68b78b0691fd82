"""Grading the models against rules a client could apply without one: predict the majority, and the recency
rule "bought in the last N days" (or, when recent buyers are the negatives, "no order in the last N days")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from cxnb.i18n import t
from cxnb.predict.evaluate import (
    N_BOOTSTRAP,
    auc_ci,
    bootstrap_positions,
    mann_whitney,
    pair_positions,
    rank_auc,
    top_decile_lift,
)

RECENCY = "days_since_last_order"
BOOTSTRAP_BATCH = 100
MIN_GAIN = 0.01
LEAK_AUC = 0.95


@dataclass
class RecencyRule:
    """Flag a customer when their last order is within ``days`` (``recent``) or not (``lapsed``)."""

    days: int
    direction: str
    youden_j: float

    def score(self, recency: np.ndarray) -> np.ndarray:
        """The ranking the rule implies: most recent first (``-recency``), or longest lapsed first."""
        recency = np.asarray(recency, dtype="float64")
        return -recency if self.direction == "recent" else recency

    def predict(self, recency: np.ndarray) -> np.ndarray:
        """0/1 flags of the rule."""
        recency = np.asarray(recency, dtype="float64")
        flagged = recency <= self.days if self.direction == "recent" else recency > self.days
        return flagged.astype(int)

    def describe(self, language: str = "en") -> str:
        """The rule in words, e.g. "bought in the last 60 days"."""
        return t(f"bp.recency_rule.{self.direction}", language, days=self.days)


def recency_values(frame: pd.DataFrame) -> np.ndarray | None:
    """Days since the last order per customer (never bought = infinitely long ago), or None without a history."""
    if RECENCY not in frame.columns:
        return None
    values = pd.to_numeric(frame[RECENCY], errors="coerce").to_numpy(dtype="float64")
    return np.where(np.isnan(values), np.inf, values)


def fit_recency_rule(recency: np.ndarray, y: np.ndarray) -> RecencyRule | None:
    """The direction and N of the recency rule that maximise Youden's J (TPR − FPR) on the training customers;
    candidate N are the whole-day percentiles 1–99 of their recency."""
    y = np.asarray(y, dtype=bool)
    finite = recency[np.isfinite(recency)]
    if len(finite) == 0 or y.all() or not y.any():
        return None
    direction = "recent" if rank_auc(y, -recency) >= 0.5 else "lapsed"
    candidates = np.unique(np.ceil(np.percentile(finite, np.arange(1, 100))))
    within_pos = np.searchsorted(np.sort(recency[y]), candidates, side="right") / y.sum()
    within_neg = np.searchsorted(np.sort(recency[~y]), candidates, side="right") / (~y).sum()
    j = within_pos - within_neg if direction == "recent" else within_neg - within_pos
    best = int(np.argmax(j))
    return RecencyRule(int(candidates[best]), direction, float(j[best]))


def rule_scores(rule: RecencyRule, recency: np.ndarray, y: np.ndarray, seed: int = 0) -> dict:
    """The rule on the held-out customers: AUC of its ranking (with bootstrap CI) and its flags' accuracy/F1."""
    y = np.asarray(y)
    score, pred = rule.score(recency), rule.predict(recency)
    return {"auc": float(rank_auc(y, score)), "auc_ci": list(auc_ci(y, score, seed)),
            "accuracy": float(accuracy_score(y, pred)), "precision": float(precision_score(y, pred, zero_division=0)),
            "recall": float(recall_score(y, pred, zero_division=0)), "f1": float(f1_score(y, pred, zero_division=0)),
            "top_decile_lift": top_decile_lift(y, score)}


def _weighted_auc(pos_counts: np.ndarray, neg_counts: np.ndarray, positions: tuple) -> np.ndarray:
    """AUC of each bootstrap resample given how often each positive / negative was drawn (rows = resamples)."""
    order, below, not_above = positions
    return mann_whitney(pos_counts, neg_counts[:, order], below, not_above) / (pos_counts.shape[1] * neg_counts.shape[1])


def paired_auc_gain(y: np.ndarray, prob: np.ndarray, baseline: np.ndarray, seed: int = 0,
                    n_resamples: int = N_BOOTSTRAP, max_customers: int | None = None,
                    level: float = 0.95) -> tuple[float, float, float]:
    """AUC(prob) − AUC(baseline) on the same customers and its percentile interval from a paired bootstrap
    (positives and negatives resampled separately; at most ``max_customers`` customers, default
    ``evaluate.MAX_BOOTSTRAP_CUSTOMERS`` as for every bootstrap interval, sampled with ``seed``)."""
    return paired_auc_gains(y, {"model": prob}, baseline, seed, n_resamples, max_customers, level)["model"]


def paired_auc_gains(y: np.ndarray, probs: dict[str, np.ndarray], baseline: np.ndarray, seed: int = 0,
                     n_resamples: int = N_BOOTSTRAP, max_customers: int | None = None,
                     level: float = 0.95) -> dict[str, tuple[float, float, float]]:
    """:func:`paired_auc_gain` of each model in ``probs`` against the same baseline: the resamples and the
    baseline's AUC on them are drawn once (the same numbers as one call per model)."""
    y, baseline = np.asarray(y, dtype=bool), np.asarray(baseline, "float64")
    probs = {name: np.asarray(prob, dtype="float64") for name, prob in probs.items()}
    base_auc = rank_auc(y, baseline)
    gain = {name: float(rank_auc(y, prob) - base_auc) for name, prob in probs.items()}
    rng = np.random.default_rng(seed)
    keep = bootstrap_positions(len(y), rng, max_customers)
    if keep is not None:
        y, baseline = y[keep], baseline[keep]
        probs = {name: prob[keep] for name, prob in probs.items()}
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    models, rule = {name: pair_positions(prob, y) for name, prob in probs.items()}, pair_positions(baseline, y)
    gains = {name: [] for name in probs}
    for size in np.diff(np.r_[np.arange(0, n_resamples, BOOTSTRAP_BATCH), n_resamples]):
        pos = rng.multinomial(n_pos, np.full(n_pos, 1 / n_pos), size)
        neg = rng.multinomial(n_neg, np.full(n_neg, 1 / n_neg), size)
        rule_auc = _weighted_auc(pos, neg, rule)
        for name, positions in models.items():
            gains[name].append(_weighted_auc(pos, neg, positions) - rule_auc)
    out = {}
    for name, draws in gains.items():
        low, high = np.percentile(np.concatenate(draws), [50 * (1 - level), 50 * (1 + level)])
        out[name] = (gain[name], float(low), float(high))
    return out


def grade(auc_interval: list[float], gain: float | None, gain_low: float | None) -> str:
    """A: better than guessing and clearly better than the recency rule (gain ≥ 0.01, its interval above 0);
    B: better than guessing only; C: the AUC interval reaches 0.5 (or lies below). Without a rule, A needs only
    the first."""
    if auc_interval[0] <= 0.5:
        return "C"
    if gain is None or (gain >= MIN_GAIN and gain_low > 0):
        return "A"
    return "B"


def grade_sentence(model: str, score: dict, rule: RecencyRule | None, rule_auc: float | None,
                   language: str = "en") -> str:
    """One sentence per model: its grade, the interval or baseline behind it, and what to do."""
    low, high = score["auc_ci"]
    values = {"model": model, "auc": f"{score['auc']:.3f}", "low": f"{low:.3f}", "high": f"{high:.3f}"}
    if score["grade"] == "C" or rule is None:
        key = "bp.grade.C" if score["grade"] == "C" else "bp.grade.A_no_rule"
        return t(key, language, **values)
    return t(f"bp.grade.{score['grade']}", language, **values, rule=rule.describe(language),
             rule_auc=f"{rule_auc:.3f}", gain=f"{score['auc_gain_vs_rule']:+.3f}",
             gain_low=f"{score['gain_ci_low']:+.3f}", gain_high=f"{score['gain_ci_high']:+.3f}",
             min_gain=f"{MIN_GAIN:g}")


def single_feature_auc(X: pd.DataFrame, y: pd.Series) -> pd.Series:
    """Per column the AUC of ranking customers by it alone, folded so that 0.3 counts as 0.7."""
    auc = rank_auc(np.asarray(y, dtype=bool)[:, None], X.to_numpy(dtype="float64"), axis=0)
    return pd.Series(np.maximum(auc, 1 - auc), index=X.columns)


def leaking_columns(X: pd.DataFrame, y: pd.Series, source: dict[str, str], threshold: float = LEAK_AUC) -> dict:
    """Raw columns (``source`` maps each encoded column to its raw column) with a single-feature training AUC of at
    least ``threshold``: {raw column: AUC}."""
    auc = single_feature_auc(X, y)
    flagged = auc[auc >= threshold]
    out: dict[str, float] = {}
    for col, value in flagged.items():
        raw = source[col]
        out[raw] = max(out.get(raw, 0.0), float(value))
    return out
