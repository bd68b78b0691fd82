"""Time the behaviour-prediction stage on synthetic customers (default 250,000) with a planted logistic outcome.

Features like the prepared profile (recency, frequency, order value, tenure, category shares) plus two customer
attributes; the label follows the demo's propensity (log frequency, recency in months, app channel). Runs what
notebook 03 runs: ``predict_behavior``, the tree rules, permutation importance, gains / calibration and the scored
customer list with reasons; also the horizon label on a synthetic log of about four orders per customer.

Run: ``PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_predict.py [n_customers]``. Prints seconds per step
(the steps inside ``predict_behavior`` are timed by wrapping the functions it calls; nested calls count in
both, e.g. the forests refitted by ``cv_auc`` also in ``fit_forest``), the process CPU time and the peak RSS.

On a prepared run instead: ``bench_predict.py params/demo.yaml`` (the demo, prepared if needed) or
``bench_predict.py benchmarks/data/report_1M/bench.yaml benchmarks/data/run_1M``: ``run_stage`` and what the
notebook computes after it, wall and CPU seconds per step.
"""

from __future__ import annotations

import functools
import os
import resource
import sys
import time
from collections import defaultdict

import numpy as np
import pandas as pd

from cxnb.config import PredictionConfig
from cxnb.i18n import Message
from cxnb.predict import (
    PredictionData,
    decile_table,
    horizon_labels,
    pipeline,
    predict_behavior,
    rules,
    run_stage,
    score_customers,
)

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


def draw_plots(result) -> None:
    """The notebook's five charts, drawn and closed."""
    import matplotlib.pyplot as plt

    from cxnb.predict import plots

    for plot in (plots.plot_gains_lift, plots.plot_calibration, plots.plot_odds_ratios, plots.plot_decision_tree,
                 plots.plot_importance):
        plot(result)
        plt.close("all")


def stage_on_run(params: str, run_dir: str | None) -> None:
    """Time ``run_stage`` on a prepared run and the notebook's steps after it (wall and CPU seconds)."""
    from cxnb.context import open_run

    run = open_run(params, run_dir)
    times: dict[str, tuple[float, float]] = {}

    def clocked(name: str, fn):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        times[name] = (time.perf_counter() - wall, time.process_time() - cpu)
        return out

    result = clocked("run_stage", lambda: run_stage(run))
    clocked("tree rules", lambda: rules(result))
    clocked("permutation importance", result.importance)
    clocked("gains + calibration", lambda: (result.gains(), result.calibration()))
    clocked("deciles", lambda: decile_table(result))
    clocked("score_customers (reasons)", lambda: score_customers(result))
    clocked("plots", lambda: draw_plots(result))
    for name, (wall, cpu) in times.items():
        print(f"{name:36s} {wall:8.2f} s wall {cpu:8.2f} s CPU")
    print(f"{'total':36s} {sum(w for w, _ in times.values()):8.2f} s wall {sum(c for _, c in times.values()):8.2f} "
          f"s CPU ({len(result.data.y):,} labelled customers; load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    if len(sys.argv) > 1 and sys.argv[1].endswith(".yaml"):
        stage_on_run(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 250_000)
