"""Time the segmentation stage on synthetic customers (default 1,000,000; 6 numeric features, k = 2-6).

Run: ``.venv/bin/python benchmarks/bench_segment.py [n_customers]``. Prints seconds per step and in total.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from cxnb.segment import (
    fit_segments,
    name_segments,
    segment_stability,
    segment_summary,
    segments_export,
    standardized_centroids,
)

FEATURES = ["days_since_last_order", "frequency", "monetary", "tenure_days", "avg_order_value", "share_top"]


def synthetic_features(n: int, k: int = 4, seed: int = 0) -> pd.DataFrame:
    """``n`` customers in ``k`` groups with profile-like (partly skewed) features, indexed by customer_id."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, k, size=n)
    centres = rng.normal(0, 1.5, size=(k, len(FEATURES)))
    z = centres[group] + rng.normal(0, 0.6, size=(n, len(FEATURES)))
    data = {
        "days_since_last_order": 200 + 80 * z[:, 0],
        "frequency": np.round(np.exp(1.5 + 0.6 * z[:, 1])),
        "monetary": np.exp(5 + 0.8 * z[:, 2]),
        "tenure_days": 400 + 120 * z[:, 3],
        "avg_order_value": np.exp(3.5 + 0.5 * z[:, 4]),
        "share_top": 1 / (1 + np.exp(-z[:, 5])),
    }
    return pd.DataFrame(data, index=pd.Index([f"c{i:07d}" for i in range(n)], name="customer_id"))


def main(n: int) -> None:
    features = synthetic_features(n)
    steps = {}
    start = time.perf_counter()
    seg = fit_segments(features, "auto", (2, 6))
    steps["fit (k selection + final fit)"] = time.perf_counter() - start
    mark = time.perf_counter()
    stability = segment_stability(features, seg)
    steps["stability"] = time.perf_counter() - mark
    mark = time.perf_counter()
    names = name_segments(standardized_centroids(features, seg))
    segment_summary(seg.labels, names, 10, features["monetary"])
    segments_export(seg.labels, names, 10)
    steps["profiles + export"] = time.perf_counter() - mark
    total = time.perf_counter() - start
    for step, seconds in steps.items():
        print(f"{step:32s} {seconds:8.1f} s")
    print(f"segmentation of {n:,} customers: {total:.1f} s (k = {seg.k}, silhouette {seg.silhouette:.2f}, "
          f"stability ARI {stability['ari'].mean():.2f})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
