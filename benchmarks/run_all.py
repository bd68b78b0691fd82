"""``make bench``: every benchmark in its own process, then ``benchmarks/results.md`` with the machine described.

1. prepare + profile on synthetic logs of 1M / 10M (/ 100M) lines against pandas and bare DuckDB
   (``bench_prepare.py``, which also draws ``prepare.png``);
2. a whole demo report (``cxnb run params/demo.yaml``) with the seconds of each stage;
3. the other benchmarks found here (``bench_*.py``), their printed output quoted as is.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from cxnb.constants import STAGES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PACKAGES = ("duckdb", "ibis-framework", "pandas", "numpy", "pyarrow", "pyspark", "scikit-learn", "SQLAlchemy")
OWN = {"bench_prepare.py"}


def machine() -> list[str]:
    """Lines describing the machine: CPU, cores, memory, OS, Python and package versions."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    mem_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0) if Path("/proc/meminfo").exists() else 0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in PACKAGES if _installed(p))
    return [f"- CPU: {cpu or 'unknown'}, {os.cpu_count()} cores; RAM {mem_kb / 1024 ** 2:.0f} GiB; "
            f"{platform.system()} {platform.release()}",
            f"- Python {platform.python_version()}; {versions}",
            f"- load average when the run started: {load:.1f} (the machine is shared; times are wall-clock)"]


def _installed(package: str) -> bool:
    try:
        metadata.version(package)
        return True
    except metadata.PackageNotFoundError:
        return False


def prepare_section(rows: list[dict]) -> list[str]:
    """The prepare + profile table, the targets of the issue, and RSS against lines."""
    out = ["## Prepare + customer profiles (`bench_prepare.py`)", "",
           "Synthetic logs, about three lines per order, 500,000 customers and 50,000 items at every size. "
           "`cxnb` = `cxnb.data.prepare` (read, type, clean with the named rules, pseudonymize ids, write the "
           "clean lines as Parquet) + `customer_profiles` (the Ibis aggregation on DuckDB: first/last time, spend, "
           "units, lines, distinct orders and distinct items per customer). `duckdb` = one bare aggregation "
           "query (distinct orders, spend, first/last date per customer). `pandas` = the whole file into pandas, "
           "then `groupby`. `duckdb_write` = the floor for any prepare that keeps its lines: DuckDB copies the "
           "file to Parquet once, unchanged, then runs the bare query on the copy. Seconds are measured inside "
           "each fresh child process (imports excluded); peak RSS is the child's own `getrusage` maximum; "
           "DuckDB inside cxnb is held to 1 GB (`CXNB_MEMORY_LIMIT`) and spills beyond it.", "",
           "| lines | file | method | seconds | prepare s | profile s | peak RSS MB | rows/s | customers |",
           "|---:|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if "seconds" not in r:
            note = r.get("skipped") or r.get("error")
            out.append(f"| {r['lines']:,} | {r['format']} | {r['method']} | {note} | | | | | |")
            continue
        out.append(f"| {r['lines']:,} | {r['format']} | {r['method']} | {r['seconds']:.1f} | "
                   f"{r.get('prepare_s', '')} | {r.get('profile_s', '')} | {r['peak_rss_mb']:,} | "
                   f"{r['rows_per_s']:,} | {r['customers']:,} |")
    out += ["", "![prepare + profile: seconds and peak memory](prepare.png)", "", *targets(rows)]
    return out


def _get(rows: list[dict], lines: int, fmt: str, method: str) -> dict | None:
    return next((r for r in rows if (r["lines"], r["format"], r["method"]) == (lines, fmt, method)
                 and "seconds" in r), None)


def targets(rows: list[dict]) -> list[str]:
    """The issue's targets, each with the measured figure and whether it is met."""
    out = ["### Against the targets", ""]
    for fmt in ("csv", "parquet"):
        kit, bare, base, floor = (_get(rows, 10_000_000, fmt, m) for m in ("cxnb", "duckdb", "pandas", "duckdb_write"))
        if kit and bare and base:
            ratio = kit["seconds"] / bare["seconds"]
            out.append(f"- 10M lines ({fmt}): cxnb {kit['seconds']:.1f} s = {ratio:.1f}x the bare DuckDB query "
                       f"({bare['seconds']:.1f} s; target ≤ 2x: {'met' if ratio <= 2 else 'not met'}); "
                       f"pandas {base['seconds']:.1f} s ({'slower' if base['seconds'] > kit['seconds'] else 'faster'}"
                       f" than cxnb; target: cxnb faster); peak {kit['peak_rss_mb']:,} MB (target < 4,096 MB: "
                       f"{'met' if kit['peak_rss_mb'] < 4096 else 'not met'}).")
            out.append(f"  The profile step alone (`customer_profiles` on the prepared file) took {kit['profile_s']:.1f} s"
                       f" = {kit['profile_s'] / bare['seconds']:.1f}x the bare query"
                       + (f"; copying the file once and querying the copy (`duckdb_write`) took {floor['seconds']:.1f} s"
                          f" = {floor['seconds'] / bare['seconds']:.1f}x: the floor of any prepare that writes its lines"
                          if floor else "") + ".")
    big = _get(rows, 100_000_000, "parquet", "cxnb")
    if big:
        out.append(f"- 100M lines (Parquet): cxnb {big['seconds']:.0f} s (target < 60 s: "
                   f"{'met' if big['seconds'] < 60 else 'not met'}), peak {big['peak_rss_mb']:,} MB "
                   f"(target < 4,096 MB: {'met' if big['peak_rss_mb'] < 4096 else 'not met'}).")
        pandas_big = next((r for r in rows if (r["lines"], r["method"]) == (100_000_000, "pandas")), None)
        if pandas_big:
            shown = (f"{pandas_big['seconds']:.0f} s with a peak of {pandas_big['peak_rss_mb']:,} MB"
                     if "seconds" in pandas_big else pandas_big.get("skipped") or pandas_big.get("error"))
            out.append(f"- pandas on the same 100M-line file: {shown}.")
    else:
        why = next((r.get("skipped") or r.get("error") for r in rows
                    if r["lines"] == 100_000_000 and r["method"] == "cxnb"), "not measured")
        out.append(f"- 100M lines (Parquet): not run — {why}.")
    rss = {r["lines"]: r["peak_rss_mb"] for r in rows if r["method"] == "cxnb" and r["format"] == "parquet"
           and "seconds" in r}
    if rss:
        shown = ", ".join(f"{n / 1e6:.0f}M lines: {mb:,} MB" for n, mb in sorted(rss.items()))
        out.append(f"- Peak RSS of cxnb with 500,000 customers held fixed (Parquet): {shown}.")
    return out + [""]


def demo_section() -> list[str]:
    """Run the whole demo report once and quote the seconds per stage from its manifest."""
    out_dir = HERE / "data" / "demo_report"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("CXNB_SECRET", None)
    start = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).parent / "cxnb"), "run", "params/demo.yaml", "--out", str(out_dir)],
                          cwd=ROOT, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    lines = ["## Whole demo report (`cxnb run params/demo.yaml`, what `make report` runs)", ""]
    if proc.returncode != 0:
        return lines + [f"Failed (exit {proc.returncode}): {(proc.stderr.strip().splitlines() or [''])[-1]}", ""]
    seconds = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))["seconds"]
    lines += [f"Wall time {wall:.1f} s, 5,000 customers.", "", "| step | seconds |", "|---|---:|"]
    order = ["prepare", *STAGES, "stages_wall", "finish", "total"]
    lines += [f"| {step} | {seconds[step]:.1f} |" for step in order if step in seconds]
    return lines + [""]


def other_sections() -> list[str]:
    """Every other ``bench_*.py`` here, run as is; its printed output quoted."""
    out = []
    for script in sorted(HERE.glob("bench_*.py")):
        if script.name in OWN:
            continue
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "MPLBACKEND": "Agg"})
        text = proc.stdout.strip() if proc.returncode == 0 else f"failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}"
        out += [f"## `{script.name}` ({time.perf_counter() - start:.0f} s)", "", "```", text, "```", ""]
    return out


def main(argv: list[str]) -> None:
    lines = ["# Benchmarks", "", f"Written by `make bench` (`benchmarks/run_all.py`) on {time.strftime('%Y-%m-%d')}.",
             "", "## Machine", "", *machine(), ""]
    subprocess.run([sys.executable, str(HERE / "bench_prepare.py"), *argv], cwd=ROOT, check=True)
    rows = json.loads((HERE / "prepare.json").read_text(encoding="utf-8"))
    lines += prepare_section(rows) + demo_section() + other_sections()
    (HERE / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {HERE / 'results.md'}")


if __name__ == "__main__":
    main(sys.argv[1:])
