"""The ``cxnb`` command line: run reports, validate a parameter file, generate the demo data."""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from cxnb.constants import STAGES
from cxnb.errors import CxnbError, OutputError, Terminated

EPILOG = """examples:
  cxnb run params/demo.yaml                 the built-in demo, written to reports/demo/
  cxnb run params/acme.yaml --only segmentation --with-code
  cxnb validate params/acme.yaml            check parameters and data, print what was found
  cxnb bundle acme                          zip the client version of reports/acme/ for handover
  cxnb demo-data raw/demo                   write the demo tables as CSV files

report folder: a run writes into a temporary folder beside the report and swaps it in only when every
  stage has finished, so the previous report stays byte-identical if anything fails. It replaces only a new
  or empty folder, or one an earlier cxnb run of the same client wrote (marked by its .cxnb-report file):
  any other folder, a file, or a report of older cxnb (no marker; move it away) is refused. One run per
  report folder at a time: a second one fails at once naming the first (pid). --only is refused when the
  report there was made with other parameters or data. Temporary folders of a run killed with kill -9 are
  removed by the next run of that client; a failed notebook is kept, readable by you only, in
  $TMPDIR/cxnb-failed/<client>-<run id>/.

exit codes:
  0    success
  1    a notebook failed (the message names it and where the executed notebook is kept)
  2    bad input: the parameter file, the data, or the report folder (not a report folder, in use by another
       run, read-only, disk full, name too long); one line names the file, key or folder and the fix
  130  interrupted (SIGINT, Ctrl-C); the previous report is untouched
  143  terminated (SIGTERM); the previous report is untouched
Set CXNB_SECRET to the pseudonymization key for client runs (the demo uses a fixed, public key)."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cxnb", description="Customer-experience analysis reports from one parameter file.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--debug", action="store_true", help="show Python tracebacks on errors")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run every stage notebook and write HTML reports, metrics and exports",
                         description="Prepare the data, run each stage notebook with papermill, render HTML, and "
                                     "swap the finished report into reports/<client>/ (the previous report stays "
                                     "untouched if anything fails).")
    run.add_argument("params", type=Path, help="parameter file, e.g. params/acme.yaml")
    run.add_argument("--out", type=Path, help="report folder (default: reports/<client>/)")
    run.add_argument("--only", nargs="+", choices=list(STAGES), metavar="STAGE",
                     help=f"run only these stages (of: {', '.join(STAGES)}); other reports are kept")
    run.add_argument("--with-code", action="store_true", help="analyst version: keep code cells in the HTML")
    run.add_argument("--write-id-map", type=Path, metavar="CSV",
                     help="also write raw customer id -> pseudonym to this CSV (outside the report folder)")
    run.add_argument("--jobs", type=_positive, metavar="N",
                     help="stage notebooks run at the same time (default: $CXNB_JOBS, else 2 or the cores if fewer)")
    run.add_argument("--quiet", action="store_true", help="no progress messages")
    run.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    val = sub.add_parser("validate", help="check the parameter file and the data; print a short summary",
                         description="Validate the parameter file, load and clean the data (nothing is written "
                                     "to reports/), and print rows, customers, items, date range and columns mapped.")
    val.add_argument("params", type=Path, help="parameter file, e.g. params/acme.yaml")
    val.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    bundle = sub.add_parser("bundle", help="zip the client version of a report and its exports for handover",
                            description="Pack reports/<CLIENT>/ (client version: no code) and its exports into "
                                        "reports/<CLIENT>-report.zip with a README listing every file.")
    bundle.add_argument("client", help="client slug (reports/<client>/) or the path of a report folder")
    bundle.add_argument("--out", type=Path, help="zip file to write (default: reports/<client>-report.zip)")
    bundle.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    demo = sub.add_parser("demo-data", help="write the built-in demo tables as CSV files",
                          description="Write transactions.csv, customers.csv and items.csv of the demo data.")
    demo.add_argument("folder", type=Path, help="folder to write into")
    demo.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    demo.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return p


def _positive(text: str) -> int:
    """A whole number of at least 1 (argparse type)."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _say(quiet: bool):
    start = time.time()

    def say(msg: str) -> None:
        if not quiet:
            print(f"cxnb [{time.time() - start:5.0f}s] {msg}", file=sys.stderr, flush=True)
    return say


def validation_summary(quality: dict) -> str:
    """A few lines describing what preparing the data found."""
    lines = []
    for table, info in quality["tables"].items():
        s = info.get("summary", {})
        parts = [f"{info['rows_read']:,} rows read", f"{info['rows_kept']:,} kept"]
        if "customers" in s:
            parts.append(f"{s['customers']:,} customers")
        if s.get("items"):
            parts.append(f"{s['items']:,} items")
        if s.get("orders"):
            parts.append(f"{s['orders']:,} orders")
        if s.get("first"):
            parts.append(f"{s['first'][:10]} to {s['last'][:10]}")
        lines.append(f"{table} ({info['source']}): " + ", ".join(parts))
        reader = info.get("reader", "")
        options = ", ".join(f"{k}={v!r}" for k, v in info.get("read_options", {}).items())
        lines.append(f"  read with: {reader}" + (f"; options {options}" if options else ""))
        if info.get("filter"):
            f = info["filter"]
            lines.append(f"  row filter where {f['where']!r}: {f['removed']:,} of {f['rows_before']:,} rows removed")
        mapped = ", ".join(f"{k} <- {v}" for k, v in info["columns"].items())
        lines.append(f"  columns mapped: {mapped}")
        if info.get("customer_id") == "row_number":
            lines.append("  no customer id column: rows are numbered in file order")
        if info.get("event_types"):
            lines.append("  event types: " + ", ".join(f"{k} {v:,}" for k, v in info["event_types"].items())
                         + " (orders, revenue and RFM count purchases only)")
        if info.get("timestamp_format"):
            lines.append(f"  timestamp format: {info['timestamp_format']}")
        removed = [f"{r['rule']} {r['removed']:,}" for r in info.get("cleaning", []) if r["removed"]]
        if removed:
            lines.append(f"  removed by cleaning: {', '.join(removed)}")
        excluded = info.get("non_products")
        if excluded and excluded["items"]:
            lines.append(f"  non-product codes excluded from recommendations and tastes: {excluded['items']:,} "
                         f"items, {excluded['lines']:,} lines (revenue kept)")
        if info.get("non_product_candidates"):
            codes = ", ".join(c["item_id"] for c in info["non_product_candidates"][:8])
            lines.append(f"  codes that look like charges, not products (add to data.items.exclude?): {codes}")
        if info.get("pii_dropped"):
            lines.append("  PII columns dropped: " + ", ".join(d["column"] for d in info["pii_dropped"]))
    from cxnb.quality import data_warnings
    lines += [f"warning: {w}" for w in data_warnings(quality, keys=True)]
    zone = quality.get("timezone")
    lines.append(f"time zone: {zone}" if zone else "time zone: as given in the data (unix times read as UTC)")
    return "\n".join(lines)


def _validate(args) -> int:
    from cxnb.config import load_params
    from cxnb.data import prepare
    from cxnb.report import params_file

    params = load_params(params_file(args.params))
    with tempfile.TemporaryDirectory(prefix="cxnb-validate-") as tmp:
        quality = prepare(params, tmp)
    print(f"{args.params}: OK — client '{params.client}'")
    print(validation_summary(quality))
    return 0


def _terminate(signum, frame):
    raise Terminated(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cxnb`` console script; the exit codes are listed in ``EPILOG``."""
    args = _parser().parse_args(argv)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        return _command(args)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _command(args) -> int:
    """Run the chosen command; every error ends as one line on stderr and its exit code."""
    try:
        if args.command == "run":
            from cxnb.report import run_report

            run_report(args.params, out=args.out, only=args.only, with_code=args.with_code,
                       id_map=args.write_id_map, progress=_say(args.quiet), jobs=args.jobs)
            return 0
        if args.command == "validate":
            return _validate(args)
        if args.command == "bundle":
            from cxnb.bundle import make_bundle
            from cxnb.context import repo_root

            folder = Path(args.client) if Path(args.client).is_dir() else repo_root() / "reports" / args.client
            print(make_bundle(folder, args.out))
            return 0
        if args.command == "demo-data":
            from cxnb.demo import write_demo_files

            for path in write_demo_files(args.folder, seed=args.seed).values():
                print(path)
            return 0
    except CxnbError as exc:
        if args.debug:
            raise
        print(f"cxnb: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        if args.debug:
            raise
        error = OutputError.from_os_error(exc)
        print(f"cxnb: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        _quiet_shutdown()
        print("cxnb: interrupted; the previous report is untouched", file=sys.stderr)
        return 130
    except Terminated:
        _quiet_shutdown()
        print("cxnb: terminated; the previous report is untouched", file=sys.stderr)
        return 143
    return 0


def _quiet_shutdown() -> None:
    """After an interrupt, asyncio tasks of the killed kernel's client are collected at exit and would log
    "Task exception was never retrieved" with a traceback under the one-line message."""
    import logging

    logging.getLogger("asyncio").setLevel(logging.CRITICAL + 1)


if __name__ == "__main__":
    sys.exit(main())
