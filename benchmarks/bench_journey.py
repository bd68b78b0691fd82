"""The customer-journey stage on a synthetic behaviour log of 10M events (views, carts, favourites, purchases).

500,000 customers; each event's type drawn so that about 8% of lines are purchases. The log is prepared by the
kit (the purchases become the transactions, every event goes to data/events.parquet), then the stage runs on the
engine. Each step runs in this process; peak RSS is getrusage's maximum.

    .venv/bin/python benchmarks/bench_journey.py            # 10M events
    .venv/bin/python benchmarks/bench_journey.py 1000000
"""

from __future__ import annotations

import resource
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
N_CUSTOMERS, N_ITEMS = 500_000, 50_000


def generate(n: int) -> Path:
    import duckdb

    path = DATA / f"events_{n // 1_000_000}M.parquet"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    duckdb.sql(f"""COPY (SELECT 'C' || lpad(CAST(hash(i // 12) % {N_CUSTOMERS} AS VARCHAR), 6, '0') AS customer_id,
        TIMESTAMP '2023-01-01' + to_seconds(CAST(hash(i // 12, 7) % (730 * 86400) AS BIGINT) + (i % 12) * 600)
            AS timestamp,
        'I' || lpad(CAST(hash(i, 11) % {N_ITEMS} AS VARCHAR), 5, '0') AS item_id,
        CASE WHEN hash(i, 3) % 100 < 8 THEN 'buy' WHEN hash(i, 3) % 100 < 20 THEN 'cart'
             WHEN hash(i, 3) % 100 < 24 THEN 'fav' ELSE 'pv' END AS behavior,
        round(1 + (hash(i, 5) % 10000) / 100.0, 2) AS amount
        FROM range({n}) t(i)) TO '{path.as_posix()}' (FORMAT parquet)""")
    return path


def main(argv: list[str]) -> None:
    from cxnb import journey
    from cxnb.config import load_params
    from cxnb.context import Run
    from cxnb.data import prepare

    n = int(argv[0]) if argv else 10_000_000
    log = generate(n)
    work = DATA / f"journey_{n // 1_000_000}M"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    params_file = work / "bench.yaml"
    params_file.write_text(f"""client: bench
privacy: {{pseudonymize_ids: false}}
data:
  transactions:
    source: {log.as_posix()}
    columns: {{event_type: behavior}}
    event_values: {{pv: view, cart: cart, fav: favourite, buy: purchase}}
""", encoding="utf-8")
    params = load_params(params_file)
    t0 = time.time()
    prepare(params, work / "run")
    t1 = time.time()
    result = journey.run_stage(Run(params, work / "run"))
    t2 = time.time()
    metrics = result.metrics()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Journey on {n:,} events ({N_CUSTOMERS:,} customers): prepare {t1 - t0:.1f} s, stage {t2 - t1:.1f} s "
          f"(funnel, paths, funnel by category/segment where present, cohorts, lifecycle); peak RSS {rss:,.0f} MB; "
          f"overall conversion {metrics.overall_conversion:.3f}, {metrics.cohorts} cohorts.")


if __name__ == "__main__":
    main(sys.argv[1:])
