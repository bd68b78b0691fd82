"""Seconds of the customer-value computation (backtest of BG/NBD and MBG/NBD, Gamma-Gamma, refit, CLV) on a
synthetic BG/NBD population: ``python benchmarks/bench_value.py 500000``. ``cpu`` is this process's CPU seconds,
steadier than wall seconds on a shared machine."""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd

from cxnb.config import ValueConfig
from cxnb.value import forward_table, value_from_days

START = pd.Timestamp("2022-01-01")
MAX_PURCHASES = 40


def synthetic_days(n: int, weeks: int = 104, seed: int = 42) -> pd.DataFrame:
    """Purchase days of ``n`` customers following BG/NBD (r 0.5, alpha 4, a 0.8, b 2.5), born over 12 weeks."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.5, 1 / 4.0, n).astype("float32")
    p = rng.beta(0.8, 2.5, n)
    birth = rng.integers(0, 84, n) / 7
    gaps = rng.exponential(1.0, (n, MAX_PURCHASES)).astype("float32") / lam[:, None]
    times = birth[:, None] + np.cumsum(gaps, axis=1)
    repeats = rng.geometric(p)  # repeat purchases before dropping out (the last one included)
    keep = (np.arange(MAX_PURCHASES)[None, :] < repeats[:, None]) & (times < weeks)
    cust, k = np.nonzero(keep)
    cust = np.r_[np.arange(n), cust]
    week = np.r_[birth, times[keep]]
    days = pd.DataFrame({"customer_id": pd.Series(cust).map("c{:07d}".format),
                         "day": START + pd.to_timedelta(np.floor(week * 7), unit="D"),
                         "spend": rng.gamma(6.0, 5.0, len(cust))})
    return days.drop_duplicates(["customer_id", "day"]).sort_values(["customer_id", "day"], ignore_index=True)


def main(n: int) -> dict:
    days = synthetic_days(n)
    config = ValueConfig(holdout_days=364)
    t0, c0 = time.perf_counter(), time.process_time()
    backtest, history, model, spend, seconds = value_from_days(days, START + pd.Timedelta(days=364), config, 90)
    t1 = time.perf_counter()
    forward_table(history, model, spend, config, 12)
    seconds["predict"] = time.perf_counter() - t1
    return {"customers": n, "purchase_days": len(days), "chosen": backtest.chosen,
            "seconds": {k: round(v, 1) for k, v in seconds.items()}, "total": round(time.perf_counter() - t0, 1), "cpu": round(time.process_time() - c0, 1)}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)))
