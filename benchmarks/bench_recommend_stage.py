"""Seconds per step and peak memory of the whole recommendation stage, in the order ``run_stage`` runs it.

The log is that of ``bench_prepare.py`` (about three lines per order, 50,000 items, two years) scaled to about
``N`` distinct customers (default 250,000), with a customers table (region) and an items table (category), so
every model, the diversity curve and the cold start run. It is prepared once with ``cxnb.data.prepare``
(pseudonymized, as a client run) into ``benchmarks/data/stage_<N>/`` and reused.

    .venv/bin/python benchmarks/bench_recommend_stage.py            # 250,000 customers
    .venv/bin/python benchmarks/bench_recommend_stage.py 50000
    .venv/bin/python benchmarks/bench_recommend_stage.py benchmarks/data/report_1M/bench.yaml benchmarks/data/run_1M

The last form times a run prepared before (here PREPARED_1M's: ``bench_report``'s 1M-line log, no categories).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_prepare import DATA, N_ITEMS, log_select  # noqa: E402

N_CATEGORIES = 40
# bench_prepare's log of 1,000,000 lines over 500,000 customer ids has 243,213 distinct customers
LINES_PER_CUSTOMER, IDS_PER_CUSTOMER = 1_000_000 / 243_213, 500_000 / 243_213


def prepared_run(n_customers: int) -> Path:
    """Write the log, customers and items as Parquet and prepare them (reused when present)."""
    import duckdb

    from cxnb.config import load_params
    from cxnb.data import is_prepared, prepare

    work = DATA / f"stage_{n_customers}"
    work.mkdir(parents=True, exist_ok=True)
    lines, ids = round(n_customers * LINES_PER_CUSTOMER), round(n_customers * IDS_PER_CUSTOMER)
    files = {
        "transactions": log_select(lines, ids, id_width=7),
        "customers": f"""SELECT 'C' || lpad(CAST(i AS VARCHAR), 7, '0') AS customer_id,
               ['North', 'South', 'East', 'West'][1 + i % 4] AS region FROM range({ids}) t(i)""",
        "items": f"""SELECT 'I' || lpad(CAST(i AS VARCHAR), 5, '0') AS item_id, 'Item ' || i AS name,
               'Category ' || (hash(i, 3) % {N_CATEGORIES}) AS category FROM range({N_ITEMS}) t(i)""",
    }
    for name, select in files.items():
        path = work / f"{name}.parquet"
        if not path.exists():
            duckdb.sql(f"COPY ({select}) TO '{path.as_posix()}' (FORMAT parquet)")
    params_file = work / "bench.yaml"
    params_file.write_text(
        "client: bench-rec\ntitle: Benchmark\ndata:\n"
        + "".join(f"  {name}: {{source: {(work / f'{name}.parquet').as_posix()}}}\n" for name in files),
        encoding="utf-8")
    os.environ.setdefault("CXNB_SECRET", "benchmark-only-key")
    params = load_params(params_file)
    if not is_prepared(work / "run", params):
        prepare(params, work / "run")
    return params_file


def peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def run_stage(params_file: Path, run_dir: Path | None = None) -> dict:
    """The steps of ``cxnb.recommend.run_stage`` (notebook 05's one call), timed one by one, then the export table."""
    from cxnb import recommend as rec
    from cxnb.context import open_run
    from cxnb.recommend.interactions import with_object_ids

    seconds = {}

    def timed(step, fn):
        start = time.perf_counter()
        out = fn()
        seconds[step] = round(time.perf_counter() - start, 1)
        print(f"{step}: {seconds[step]} s, peak RSS {peak_rss_mb():,} MB", file=sys.stderr, flush=True)
        return out

    start = time.perf_counter()
    run = open_run(params_file, run_dir or params_file.parent / "run")
    config, lang, horizon = run.params.analysis.recommendation, run.params.language, run.params.analysis.horizon_days
    transactions, items, customers = timed("load", lambda: tuple(with_object_ids(x) for x in (
        run.transactions(), run.items(), run.customers())))
    categories, groups = rec.item_categories_of(items), rec.customer_groups(customers, config.popularity_by)
    train, test, cutoff = rec.holdout_split(transactions, config, run.cutoff, horizon)
    evaluation = timed("evaluate (incl. tuning)", lambda: rec.evaluate(train, test, cutoff, config, categories,
                                                                      groups, horizon))
    decision = timed("decision", lambda: rec.decide(evaluation, config.seed))
    events_log = run.table("events") if run.has("events") else None
    events = timed("events comparison", lambda: rec.compare_events(evaluation, events_log, config,
                                                                    decision.export_model, categories, groups,
                                                                    config.seed))
    diversity = timed("diversity curve", lambda: rec.diversity_summary(evaluation, categories, config.mmr_lambda))
    cold = timed("cold start", lambda: rec.cold_start_metrics(evaluation, categories, config.seed))
    lists = timed("final recommendations", lambda: rec.final_recommendations(
        transactions, evaluation, config, items, customers, decision.export_model,
        events_log if events.used else None))
    result = rec.RecommendationResult(evaluation, decision, events, diversity, cold, lists, lang)
    export = timed("export table (reasons)", lambda: rec.export_table(result, lang))
    metrics = result.metrics()
    seconds["total"] = round(time.perf_counter() - start, 1)
    return {"customers": int(run.transactions()["customer_id"].nunique()), "lines": len(run.transactions()),
            "items": int(run.transactions()["item_id"].nunique()), "seconds": seconds, "peak_rss_mb": peak_rss_mb(),
            "export_rows": len(export), "export_customers": int(export["customer_id"].nunique()),
            "best_model": metrics.best_model, "decision": decision.verdict,
            "n_users_evaluated": metrics.n_users_evaluated, "n_users_sampled": metrics.n_users_sampled}


def main(argv: list[str]) -> None:
    if argv and argv[0].endswith(".yaml"):
        row = run_stage(Path(argv[0]), Path(argv[1]))
    else:
        n = int(argv[0]) if argv else 250_000
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:  # own peak memory
            params_file = pool.submit(prepared_run, n).result()
        row = run_stage(params_file)
    print(json.dumps(row, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
