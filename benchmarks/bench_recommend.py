"""Seconds to fit + recommend top-10 for every customer, and peak memory, per model and data set.

Data sets: a synthetic log of 100,000 customers x 50,000 items (~2M interactions, items bought in groups)
and MovieLens 100k (if ``../shared/data/movielens-100k/u.data`` exists). Each case runs in a fresh process
so its peak resident memory is its own.

    .venv/bin/python benchmarks/bench_recommend.py
"""

from __future__ import annotations

import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

from cxnb import recommend as rec

ML100K = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "movielens-100k" / "u.data"


def synthetic_log(n_customers: int = 100_000, n_items: int = 50_000, per_customer: float = 37.0,
                  seed: int = 42) -> pd.DataFrame:
    """Purchases where each customer mostly buys from three favourite ten-item groups (Zipf-like inside)."""
    rng = np.random.default_rng(seed)
    n_groups = n_items // 10
    sizes = rng.poisson(per_customer - 1, n_customers) + 1
    customer = np.repeat(np.arange(n_customers), sizes)
    favourites = rng.integers(0, n_groups, (n_customers, 3))
    group = favourites[customer, rng.integers(0, 3, len(customer))]
    member = np.minimum(rng.zipf(1.6, len(customer)) - 1, 9)
    item = np.where(rng.random(len(customer)) < 0.85, group * 10 + member, rng.integers(0, n_items, len(customer)))
    days = rng.integers(0, 365, len(customer))
    return pd.DataFrame({"customer_id": customer, "item_id": item, "quantity": 1,
                         "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D")})


def movielens() -> pd.DataFrame:
    df = pd.read_csv(ML100K, sep="\t", header=None, names=["customer_id", "item_id", "rating", "timestamp"])
    return df.assign(timestamp=pd.to_datetime(df["timestamp"], unit="s"))


def run_case(data: str, model: str) -> dict:
    """Fit one model on one data set and recommend top-10 for every customer (runs in a child process)."""
    tx = synthetic_log() if data == "synthetic" else movielens()
    hyper = {"similarity": "jaccard", "half_life_days": 30.0, "ease_lambda": 250.0}
    start = time.perf_counter()
    fitted = rec.fit_model(model, hyper, tx)
    fit_seconds = time.perf_counter() - start
    recs = fitted.recommend(fitted.interactions_.users, k=10)
    total = time.perf_counter() - start
    return {"data": data, "model": model, "customers": len(fitted.interactions_.users),
            "items": len(fitted.interactions_.items), "interactions": fitted.interactions_.matrix.nnz,
            "fit_s": round(fit_seconds, 2), "fit_recommend_s": round(total, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "rows": len(recs)}


def main() -> None:
    cases = [("synthetic", "popularity"), ("synthetic", "item_cf")]
    if ML100K.exists():
        cases += [("movielens-100k", m) for m in ("popularity", "item_cf", "ease")]
    rows = []
    for data, model in cases:
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            rows.append(pool.submit(run_case, data, model).result())
        print(rows[-1], file=sys.stderr, flush=True)
    print(pd.DataFrame(rows).to_string(index=False))
    print("\nEASE is not run on the synthetic log: 50,000 items exceed its dense-solve limit of "
          f"{rec.EASE_ITEM_LIMIT:,} items (item_cf is used instead).")


if __name__ == "__main__":
    main()
