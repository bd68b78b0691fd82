"""A whole ``cxnb run`` (every stage, HTML included) on synthetic logs of 1M and 10M lines.

The logs are those of ``bench_prepare.py`` (500,000 customers, 50,000 items, about three lines per order), with
a customers table of one row per customer (region, channel) so every stage runs. The run is a child process;
the process tree (the runner and each notebook kernel) is sampled every half second for its resident memory.

    .venv/bin/python benchmarks/bench_report.py              # 1M and 10M lines; writes report.json, report.png
    .venv/bin/python benchmarks/bench_report.py 1000000      # only the sizes given (others kept from report.json)

Seconds per stage are each stage's own (they overlap: two stage notebooks run at once); ``stages_wall`` is the
stage phase from the first start to the last end, ``finish`` the index page, page decoration and the workbook.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from bench_prepare import DATA, N_CUSTOMERS, generate_log  # noqa: E402

SIZES = [1_000_000, 10_000_000]
TARGET_S = {1_000_000: 180, 10_000_000: 600}
TARGET_RSS_MB = 4096
RESULTS = HERE / "report.json"


def customers_file() -> Path:
    """One row per customer id of the logs, with two attributes."""
    import duckdb

    path = DATA / "customers.parquet"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        duckdb.sql(f"""COPY (SELECT 'C' || lpad(CAST(i AS VARCHAR), 6, '0') AS customer_id,
            ['North', 'South', 'East', 'West'][1 + i % 4] AS region, ['web', 'app', 'store'][1 + i % 3] AS channel
            FROM range({N_CUSTOMERS}) t(i)) TO '{path.as_posix()}' (FORMAT parquet)""")
    return path


def params_file(log: Path, n: int) -> Path:
    work = DATA / f"report_{n // 1_000_000}M"
    work.mkdir(parents=True, exist_ok=True)
    path = work / "bench.yaml"
    path.write_text(f"client: bench-{n // 1_000_000}m\ntitle: Benchmark\ndata:\n"
                    f"  transactions: {{source: {log.as_posix()}}}\n"
                    f"  customers: {{source: {customers_file().as_posix()}}}\n", encoding="utf-8")
    return path


class PeakMemory:
    """Peak resident memory per process of a process tree, sampled in a thread."""

    def __init__(self, pid: int, every: float = 0.5):
        self.root, self.every, self.peaks, self._stop = psutil.Process(pid), every, {}, threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for p in procs:
                try:
                    name = "kernel" if "ipykernel" in " ".join(p.cmdline()) else "runner"
                    self.peaks[(name, p.pid)] = max(self.peaks.get((name, p.pid), 0), p.memory_info().rss)
                except psutil.Error:
                    continue
            time.sleep(self.every)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()


def run_one(n: int) -> dict:
    """Generate (or reuse) the log, run every stage, and read the seconds per stage from the manifest."""
    log = generate_log(n, "parquet")
    out = ROOT / "reports" / f"bench-{n // 1_000_000}m"  # outside the data folder, which a run never writes into
    # PYTHONPATH: the runner and its kernels import this checkout's cxnb, not the one the venv was installed from
    env = {**os.environ, "CXNB_SECRET": "bench-secret", "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    load = os.getloadavg()[0]
    started = time.time()
    proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "cxnb"), "run", str(params_file(log, n)), "--out", str(out),
                             "--quiet"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    with PeakMemory(proc.pid) as mem:
        _, err = proc.communicate()
    wall = time.time() - started
    row = {"lines": n, "wall_s": round(wall, 1), "load_1min_start": round(load, 1), "date": time.strftime("%Y-%m-%d"), "exit": proc.returncode, "error": err.strip()[-500:] or None,
           "peak_rss_mb": round(max(mem.peaks.values(), default=0) / 2**20),
           "peak_kernel_rss_mb": round(max((v for (k, _), v in mem.peaks.items() if k == "kernel"), default=0) / 2**20)}
    manifest = out / "manifest.json"
    if proc.returncode == 0 and manifest.exists():
        written = json.loads(manifest.read_text())
        seconds, row["jobs"] = written["seconds"], written.get("jobs", 1)
        row["seconds"] = seconds
    return row


def merged(rows: list[dict]) -> list[dict]:
    """``rows`` with the sizes of an earlier ``report.json`` that were not run again, by lines."""
    earlier = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else []
    fresh = {r["lines"] for r in rows}
    return sorted([r for r in earlier if r["lines"] not in fresh] + rows, key=lambda r: r["lines"])


def plot(rows: list[dict], target: Path) -> None:
    """Seconds against lines (log-log): the run's wall time, each stage's own time, and the targets."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if r.get("seconds")]
    if not ok:
        return
    lines = [r["lines"] for r in ok]
    fig, ax = plt.subplots(figsize=(8, 5))
    stages = [s for s in ok[0]["seconds"] if s not in ("total", "stages_wall")]
    for stage in stages:
        ax.plot(lines, [max(r["seconds"].get(stage, 0), 0.1) for r in ok], marker="o", lw=1, alpha=0.8, label=stage)
    ax.plot(lines, [r["wall_s"] for r in ok], marker="s", lw=3, color="black", label="whole run (wall)")
    ax.scatter(list(TARGET_S), list(TARGET_S.values()), marker="_", s=400, color="red", lw=3, zorder=5,
               label="target")
    for r in ok:
        ax.annotate(f"{r['wall_s']:.0f} s", (r["lines"], r["wall_s"]), textcoords="offset points", xytext=(8, -4))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("lines in the log")
    ax.set_ylabel("seconds (wall clock; stages overlap when run side by side)")
    ax.set_title("Whole cxnb run: seconds against lines")
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.savefig(target, bbox_inches="tight", dpi=100)


def markdown(rows: list[dict]) -> str:
    """The whole-report table for results.md."""
    stages = next((list(r["seconds"]) for r in rows if r.get("seconds")), [])
    head = ("| lines | date | jobs | load | " + " | ".join(stages)
            + " | wall s | target s | peak RSS MB (any process) | peak kernel MB |")
    lines = [head, "|---:|---|---:|---:|" + "---:|" * (len(stages) + 4)]
    for r in rows:
        if not r.get("seconds"):
            lines.append(f"| {r['lines']:,} | failed (exit {r['exit']}): {r['error']} |")
            continue
        cells = " | ".join(f"{r['seconds'].get(s, 0):.1f}" for s in stages)
        lines.append(f"| {r['lines']:,} | {r.get('date', '')} | {r.get('jobs', 1)} | {r.get('load_1min_start', '')} | "
                     f"{cells} | {r['wall_s']:.0f} | {TARGET_S.get(r['lines'], '')} | "
                     f"{r['peak_rss_mb']:,} (target {TARGET_RSS_MB:,}) | {r['peak_kernel_rss_mb']:,} |")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or SIZES
    rows = merged([run_one(n) for n in sizes])
    RESULTS.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    plot(rows, HERE / "report.png")
    print("Whole `cxnb run` (all stages, HTML included) on the synthetic Parquet logs with a customers table; "
          "seconds per stage from manifest.json, memory sampled from the process tree every 0.5 s.\n")
    print(markdown(rows))
    print("\n![whole report: seconds per stage](report.png)")


if __name__ == "__main__":
    main(sys.argv[1:])
