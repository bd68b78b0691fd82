"""Time the behaviour-prediction stage on synthetic customers (default 250,000) with a planted logistic outcome.

Features like the prepared profile (recency, frequency, order value, tenure, category shares) plus two customer
attributes; the label follows the demo's propensity (log frequency, recency in months, app channel). Runs what
notebook 03 runs: ``predict_behavior``, the tree rules, permutation importance, gains / calibration and the scored
customer list with reasons; also the horizon label on a synthetic log of about four orders per customer.

Run: ``PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_predict.py [n_customers]``. Prints seconds per step
(the steps inside ``predict_behavior`` are timed by wrapping the functions it calls; nested calls count in
both, e.g. the forests refitted by ``cv_auc`` also in ``fit_forest``), the process CPU time and the peak RSS.
"""

from __future__ import annotations

import functools
import resource
import sys
import time
from collections import defaultdict

import numpy as np
import pandas as pd

from cxnb.config import PredictionConfig
from cxnb.i18n import Message
from cxnb.predict import PredictionData, horizon_labels, pipeline, predict_behavior, rules, score_customers

PROPENSITY = {"intercept": -0.6, "log_frequency": 0.9, "recency_months": -0.45, "channel_app": 0.9}
INNER = ("feature_exclusions", "fit_logit", "fit_tree", "fit_forest", "evaluate", "cv_auc", "fit_recency_rule",
         "rule_scores", "paired_auc_gains")
TIMES: dict[str, float] = defaultdict(float)


def synthetic_customers(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """``n`` customers with profile-like features and attributes, and a 0/1 label from a planted logit."""
    rng = np.random.default_rng(seed)
    frequency = 1 + rng.poisson(np.exp(rng.normal(0.7, 0.6, n)))
    recency = rng.gamma(1.5, 90, n).round()
    channel = rng.choice(["web", "app", "store"], n, p=[0.5, 0.3, 0.2])
    shares = rng.dirichlet([2.0, 1.5, 1.0, 0.5], n)
    frame = pd.DataFrame({
        "customer_id": [f"C{i:07d}" for i in range(n)],
        "days_since_last_order": recency,
        "frequency": frequency.astype("float64"),
        "avg_order_value": np.exp(rng.normal(3.5, 0.5, n)).round(2),
        "tenure_days": recency + rng.gamma(2.0, 150, n).round(),
        **{f"share_{c}": shares[:, i] for i, c in enumerate(["home", "garden", "toys"], start=1)},
        "channel": channel,
        "region": rng.choice(["north", "south", "east", "west", "centre"], n),
    })
    eta = (PROPENSITY["intercept"] + PROPENSITY["log_frequency"] * np.log1p(frequency)
           + PROPENSITY["recency_months"] * recency / 30 + PROPENSITY["channel_app"] * (channel == "app"))
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-eta))).astype("int64"), name="label")
    return frame, y


def synthetic_log(n: int, seed: int = 1) -> pd.DataFrame:
    """About four orders per customer over two years (customer id and timestamp only: what the label reads)."""
    rng = np.random.default_rng(seed)
    lines = 4 * n
    return pd.DataFrame({"customer_id": pd.Series([f"C{i:07d}" for i in rng.integers(0, n, lines)]),
                         "timestamp": pd.Timestamp("2023-01-01")
                         + pd.to_timedelta(rng.integers(0, 730 * 86400, lines), unit="s")})


def timed(name: str, fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMES[name] += time.perf_counter() - start
    return wrapper


def step(name: str, fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    TIMES[name] += time.perf_counter() - start
    return out


def main(n: int) -> None:
    for name in INNER:  # the names predict_behavior looks up in its module
        setattr(pipeline, name, timed(name, getattr(pipeline, name)))
    log = synthetic_log(n)
    step("horizon_labels (4 orders/customer)", horizon_labels, log, "2024-07-01", 90)
    frame, y = synthetic_customers(n)
    data = PredictionData(frame, y, "horizon", Message("bp.outcome.horizon", days=90), frame,
                          Message("common.n_customers.other", n=f"{n:,}"))
    start = time.perf_counter()
    result = step("predict_behavior (total)", predict_behavior, data, PredictionConfig())
    step("tree rules", rules, result)
    step("permutation importance", result.importance)
    step("gains + calibration", lambda: (result.gains(), result.calibration()))
    step("score_customers (reasons)", score_customers, result)
    total = time.perf_counter() - start
    for name, seconds in TIMES.items():
        inner = "  " if name in INNER else ""
        print(f"{inner}{name:36s} {seconds:8.1f} s")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"stage after the label ({n:,} customers, {y.mean():.1%} positive): {total:.1f} s wall; process CPU "
          f"{usage.ru_utime + usage.ru_stime:.0f} s (all cores, data generation included); peak RSS "
          f"{usage.ru_maxrss / 1024:,.0f} MB")
    print("held-out AUC: " + ", ".join(f"{m} {s['auc']:.3f} (cv {s['auc_cv_mean']:.3f})"
                                       for m, s in result.scores.items()))
    notes = [n.text() for n in result.notes if "sample" in n.text().lower()]
    if notes:
        print("sample note:", notes[0])


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 250_000)
