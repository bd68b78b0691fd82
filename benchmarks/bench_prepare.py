"""Prepare + customer profiles on synthetic transaction logs, against pandas and a bare DuckDB query.

Logs of 1M and 10M lines (CSV and Parquet) and, where disk and time allow, 100M lines (Parquet only), all
with the same 500,000 customers and 50,000 items, so memory growing with lines (not customers) would show.
Every case runs in a fresh child process, which reports its own peak resident memory (getrusage).

    .venv/bin/python benchmarks/bench_prepare.py            # writes benchmarks/prepare.json and prepare.png
    .venv/bin/python benchmarks/bench_prepare.py 1000000    # only the sizes given (others kept from prepare.json)

Each row notes the 1-minute load average when its case ended (``load_1min``): on a shared machine it says how
far the seconds are from an idle run.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
N_CUSTOMERS, N_ITEMS, LINES_PER_ORDER = 500_000, 50_000, 3
SIZES = [1_000_000, 10_000_000, 100_000_000]
CSV_SIZES = {1_000_000, 10_000_000}
TIME_BUDGET_S = 600
METHODS = {
    "cxnb": "cxnb prepare + customer_profiles (clean, pseudonymize, Parquet, profile)",
    "duckdb": "bare DuckDB query (distinct orders, spend, first/last date per customer)",
    "pandas": "pandas: read the whole file, groupby customer",
    "duckdb_write": "floor for any prepare that keeps its lines: DuckDB copies the file to Parquet once, then the bare query",
}


def log_path(n: int, fmt: str) -> Path:
    return DATA / f"log_{n // 1_000_000}M.{fmt}"


def log_select(n: int, n_customers: int = N_CUSTOMERS, id_width: int = 6) -> str:
    """DuckDB SQL for ``n`` synthetic lines: about three lines per order, customers and items hashed uniformly."""
    span = 730 * 86400
    return f"""
        SELECT 'O' || (i // {LINES_PER_ORDER}) AS order_id,
               'C' || lpad(CAST(hash(i // {LINES_PER_ORDER}) % {n_customers} AS VARCHAR), {id_width}, '0') AS customer_id,
               TIMESTAMP '2023-01-01' + to_seconds(CAST(hash(i // {LINES_PER_ORDER}, 7) % {span} AS BIGINT))
                   AS timestamp,
               'I' || lpad(CAST(hash(i, 11) % {N_ITEMS} AS VARCHAR), 5, '0') AS item_id,
               1 + CAST(hash(i, 13) % 4 AS INTEGER) AS quantity,
               round(0.5 + (hash(hash(i, 11) % {N_ITEMS}) % 20000) / 100.0, 2) AS price
        FROM range({n}) t(i)"""


def generate_log(n: int, fmt: str) -> Path:
    """A synthetic log of ``n`` lines (about three lines per order) written by DuckDB; reused when present."""
    import duckdb

    path = log_path(n, fmt)
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    select = log_select(n)
    options = "FORMAT csv, HEADER" if fmt == "csv" else "FORMAT parquet, ROW_GROUP_SIZE 1000000"
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"COPY ({select}) TO '{tmp.as_posix()}' ({options})")
    tmp.rename(path)
    return path


# ----------------------------------------------------------------------------- the measured cases (child side)

def run_cxnb(path: Path) -> dict:
    """The kit's own path: prepare (read, type, clean, pseudonymize, write Parquet) then customer profiles."""
    from cxnb.config import load_params
    from cxnb.data import prepare
    from cxnb.profile import customer_profiles

    work = DATA / f"run_{path.stem}_{path.suffix[1:]}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    params_file = work / "bench.yaml"
    params_file.write_text(f"client: bench\ntitle: Benchmark\ndata:\n  transactions:\n    source: {path.as_posix()}\n",
                           encoding="utf-8")
    os.environ.setdefault("CXNB_SECRET", "benchmark-only-key")
    start = time.perf_counter()
    prepare(load_params(params_file), work / "run")
    prepared = time.perf_counter()
    profiles = customer_profiles(work / "run" / "data" / "transactions.parquet")
    done = time.perf_counter()
    shutil.rmtree(work, ignore_errors=True)
    return {"seconds": done - start, "prepare_s": prepared - start, "profile_s": done - prepared,
            "customers": len(profiles)}


def run_duckdb(path: Path) -> dict:
    """The reference: one aggregation query straight over the file."""
    import duckdb

    reader = "read_csv" if path.suffix == ".csv" else "read_parquet"
    start = time.perf_counter()
    out = duckdb.connect().execute(
        f"""SELECT customer_id, count(DISTINCT order_id) AS orders, sum(quantity * price) AS spend,
        min(timestamp) AS first, max(timestamp) AS last FROM {reader}('{path.as_posix()}') GROUP BY customer_id"""
    ).df()
    return {"seconds": time.perf_counter() - start, "customers": len(out)}


def run_duckdb_write(path: Path) -> dict:
    """The least a prepare that writes the lines once can cost: one plain copy to Parquet, then the bare query."""
    import duckdb

    reader = "read_csv" if path.suffix == ".csv" else "read_parquet"
    target = DATA / f"copy_{path.stem}_{path.suffix[1:]}.parquet"
    con = duckdb.connect()
    start = time.perf_counter()
    con.execute(f"COPY (SELECT * FROM {reader}('{path.as_posix()}')) TO '{target.as_posix()}' (FORMAT parquet)")
    written = time.perf_counter()
    out = con.execute(
        f"""SELECT customer_id, count(DISTINCT order_id) AS orders, sum(quantity * price) AS spend,
        min(timestamp) AS first, max(timestamp) AS last FROM read_parquet('{target.as_posix()}') GROUP BY customer_id"""
    ).df()
    done = time.perf_counter()
    target.unlink()
    return {"seconds": done - start, "prepare_s": written - start, "profile_s": done - written, "customers": len(out)}


def run_pandas(path: Path) -> dict:
    """The baseline: the whole file into pandas, then the same aggregation with groupby."""
    import pandas as pd

    start = time.perf_counter()
    if path.suffix == ".csv":
        df = pd.read_csv(path)
        df["timestamp"] = pd.to_datetime(df["timestamp"], format="%Y-%m-%d %H:%M:%S")
    else:
        df = pd.read_parquet(path)
    df["amount"] = df["quantity"] * df["price"]
    out = df.groupby("customer_id").agg(orders=("order_id", "nunique"), spend=("amount", "sum"),
                                        first=("timestamp", "min"), last=("timestamp", "max"))
    return {"seconds": time.perf_counter() - start, "customers": len(out)}


# ----------------------------------------------------------------------------- the parent side

def measure(method: str, path: Path, lines: int) -> dict:
    """Run one case in a fresh process; its own seconds, wall seconds, peak RSS and rows per second."""
    cmd = [sys.executable, __file__, "--child", method, str(path)]
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}  # this checkout's cxnb, not the one the venv points at
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    out, err = proc.stdout, proc.stderr
    wall = time.perf_counter() - start
    row = {"lines": lines, "format": path.suffix[1:], "method": method, "wall_s": round(wall, 2),
           "load_1min": round(os.getloadavg()[0], 1)}
    if proc.returncode < 0:
        return {**row, "error": f"killed by signal {-proc.returncode} (out of memory when it is 9)"}
    if proc.returncode != 0:
        lines = err.strip().splitlines() or ["killed"]
        return {**row, "error": next((x for x in reversed(lines) if "Error" in x or "Exception" in x), lines[-1])[:200]}
    result = json.loads(out.strip().splitlines()[-1])
    row.update({k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()})
    row["peak_rss_mb"] = round(row.pop("peak_rss_kb") / 1024)
    row["rows_per_s"] = round(lines / result["seconds"])
    return row


def child(method: str, path: str) -> None:
    import resource

    runs = {"cxnb": run_cxnb, "duckdb": run_duckdb, "pandas": run_pandas, "duckdb_write": run_duckdb_write}
    result = runs[method](Path(path))
    result["peak_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))


def cases(sizes: list[int]) -> list[tuple[str, int, str]]:
    """(method, lines, format) in the order they run (100M-line cases may be skipped, see ``_skip_big``)."""
    out = []
    for n in sizes:
        for fmt in (["csv"] if n in CSV_SIZES else []) + ["parquet"]:
            out += [(m, n, fmt) for m in METHODS]
    return out


def run(sizes: list[int]) -> list[dict]:
    """Measure every case, skipping 100M lines when disk or the time budget would not allow it."""
    rows: list[dict] = []
    for method, n, fmt in cases(sizes):
        if n >= 100_000_000:
            reason = _skip_big(rows, method, n)
            if reason:
                rows.append({"lines": n, "format": fmt, "method": method, "skipped": reason})
                print(rows[-1], file=sys.stderr, flush=True)
                continue
        path = generate_log(n, fmt)
        rows.append(measure(method, path, n))
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def _skip_big(rows: list[dict], method: str, n: int) -> str | None:
    """Why a 100M-line case is not run (free disk, or a 10x extrapolation of the 10M time over budget)."""
    free_gb = shutil.disk_usage(HERE).free / 1e9
    if not log_path(n, "parquet").exists() and free_gb < 20:
        return f"only {free_gb:.0f} GB free on disk"
    ten = [r for r in rows if r["lines"] == n // 10 and r["method"] == method and r["format"] == "parquet"]
    if not ten or "seconds" not in ten[0]:
        return "no 10M-line measurement to extrapolate from"
    estimate = ten[0]["wall_s"] * n / ten[0]["lines"]
    if estimate > TIME_BUDGET_S:
        return f"would take about {estimate / 60:.0f} min (10x the 10M-line time), over the {TIME_BUDGET_S // 60}-min budget"
    if method == "pandas":
        need = ten[0]["peak_rss_mb"] * n / ten[0]["lines"] / 1024
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3
        if need > 0.8 * ram:
            return f"not run: from its 10M-line peak it would need about {need:.0f} GB of memory ({ram:.0f} GB here)"
    return None


def plot(rows: list[dict], target: Path) -> None:
    """Seconds and peak memory per method and log size (log-scaled lines axis)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.2))
    done = [r for r in rows if "seconds" in r]
    series = sorted({(r["method"], r["format"]) for r in done})
    for (method, fmt), marker in zip(series, itertools.cycle("osD^v<>"), strict=False):
        pts = sorted((r["lines"], r["seconds"], r["peak_rss_mb"]) for r in done
                     if r["method"] == method and r["format"] == fmt)
        label = f"{method} ({fmt})"
        style = "-" if fmt == "parquet" else "--"
        axes[0].plot([p[0] for p in pts], [p[1] for p in pts], style, marker=marker, label=label)
        axes[1].plot([p[0] for p in pts], [p[2] / 1024 for p in pts], style, marker=marker, label=label)
    axes[0].set(xscale="log", yscale="log", xlabel="transaction lines", ylabel="seconds",
                title="Prepare + profile time (500k customers)")
    axes[1].set(xscale="log", yscale="log", xlabel="transaction lines", ylabel="peak RSS (GB)",
                title="Peak memory (500k customers)")
    axes[1].axhline(1.5, color="grey", lw=0.8, ls=":")
    axes[1].axhline(4.0, color="grey", lw=0.8, ls=":")
    axes[1].text(1.1e6, 1.55, "target at 10M: 1.5 GB", fontsize=7, color="grey")
    axes[1].text(1.1e6, 4.1, "target at 100M: 4 GB", fontsize=7, color="grey")
    for ax in axes:
        ax.grid(True, which="major", alpha=0.3)
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(target, dpi=110)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        child(argv[1], argv[2])
        return
    sizes = [int(a) for a in argv] or SIZES
    rows = run(sizes)
    target = HERE / "prepare.json"
    earlier = json.loads(target.read_text(encoding="utf-8")) if target.exists() else []
    rows = sorted([r for r in earlier if r["lines"] not in sizes] + rows, key=lambda r: r["lines"])  # stable
    target.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    plot(rows, HERE / "prepare.png")


if __name__ == "__main__":
    main(sys.argv[1:])
