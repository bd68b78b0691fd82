"""What a notebook works with: the validated parameters and the prepared tables of one run."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from cxnb.config import Params, load_params, resolve_cutoff
from cxnb.data.base import DATA_DIR, QUALITY_FILE
from cxnb.errors import CxnbError, StageSkipped
from cxnb.i18n import Text
from cxnb.reportdir import MARKER as REPORT_MARKER
from cxnb.safe import csv_safe
from cxnb.stage import StageMetrics, json_ready

METRICS_DIR = "metrics"
EXPORTS_DIR = "exports"
RUNNER_TMP = re.compile(r"^\..+\.tmp-")


def is_delivered_report(folder: Path) -> bool:
    """Whether ``folder`` is a report a run swapped into place (not the runner's own temporary folder)."""
    folder = Path(folder)
    finished = (folder / REPORT_MARKER).exists() or (folder / "manifest.json").exists()
    return finished and not RUNNER_TMP.match(folder.name)


def repo_root() -> Path:
    """The project folder (holding ``params/`` and ``notebooks/``)."""
    return Path(__file__).resolve().parent.parent


def scratch_dir(params: Params) -> Path:
    """Where an interactive (JupyterLab) session of a client keeps its prepared data."""
    return repo_root() / "reports" / ".scratch" / params.client


@dataclass
class Run:
    """One client's run: parameters, run directory and lazily loaded prepared tables."""

    params: Params
    run_dir: Path
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def language(self) -> str:
        """The report language (``en`` or ``zh``)."""
        return self.params.language

    @cached_property
    def text(self) -> Text:
        """The message catalogue of the report language, as notebooks use it (``T("key")``, ``T.md("key")``)."""
        return Text(self.params.language)

    def path(self, table: str) -> Path:
        """Path of a prepared table's Parquet file (``transactions``, ``customers``, ``items``)."""
        return self.run_dir / DATA_DIR / f"{table}.parquet"

    def has(self, table: str) -> bool:
        """Whether the run has this prepared table."""
        return self.path(table).exists()

    def table(self, name: str) -> pd.DataFrame | None:
        """A prepared table as a DataFrame, or None when the client has no such table."""
        if name not in self._cache:
            self._cache[name] = pd.read_parquet(self.path(name)) if self.has(name) else None
        return self._cache[name]

    def transactions(self) -> pd.DataFrame | None:
        return self.table("transactions")

    def customers(self) -> pd.DataFrame | None:
        return self.table("customers")

    def items(self) -> pd.DataFrame | None:
        return self.table("items")

    def non_products(self) -> set[str]:
        """Item ids that are not products (``data.items.exclude``): never recommended, never a category taste."""
        path = self.run_dir / DATA_DIR / "non_products.parquet"
        return set(pd.read_parquet(path)["item_id"].astype(str)) if path.exists() else set()

    @cached_property
    def quality(self) -> dict:
        """What preparing the data found and removed (see ``cxnb.data.prepare``)."""
        return json.loads((self.run_dir / DATA_DIR / QUALITY_FILE).read_text(encoding="utf-8"))

    def aggregate(self, name: str) -> pd.DataFrame:
        """An aggregate table of the prepared lines (``customers_end``, ``customers_cutoff``, ``items``,
        ``customer_items``, ``months``; see ``cxnb.data.aggregates``), computed by prepare, read once."""
        from cxnb.data.aggregates import AGGREGATES, AGGREGATES_DIR, KEYS, aggregate_expressions
        from cxnb.engine import from_duckdb

        if name not in AGGREGATES:
            raise KeyError(f"no aggregate table {name!r}; there are {', '.join(AGGREGATES)}")
        key = ("aggregate", name)
        if key not in self._cache:
            if not self.has("transactions"):
                raise StageSkipped(self.text("common.no_transactions"))
            path = self.run_dir / DATA_DIR / AGGREGATES_DIR / f"{name}.parquet"
            if path.exists():
                self._cache[key] = pd.read_parquet(path)
            else:  # data prepared by an older version: computed here, not stored
                eng = from_duckdb(self.path("transactions"))
                self._cache[key] = eng.frame(aggregate_expressions(eng.table, self.cutoff)[name], KEYS[name])
        return self._cache[key]

    @cached_property
    def last_timestamp(self) -> pd.Timestamp | None:
        """Time of the last prepared transaction line (from the per-customer aggregate, not the lines)."""
        if not self.has("transactions"):
            return None
        from cxnb.data.aggregates import AGGREGATES_DIR
        from cxnb.engine import from_duckdb, last_timestamp

        path = self.run_dir / DATA_DIR / AGGREGATES_DIR / "customers_end.parquet"
        last = (pd.read_parquet(path, columns=["last_order"])["last_order"].max() if path.exists()
                else last_timestamp(from_duckdb(self.path("transactions"))))
        return None if pd.isna(last) else pd.Timestamp(last)

    @cached_property
    def cutoff(self) -> pd.Timestamp | None:
        """The prediction/evaluation cutoff: ``analysis.cutoff`` or last date minus ``horizon_days``."""
        return None if self.last_timestamp is None else resolve_cutoff(self.params, self.last_timestamp)

    def profiles(self, as_of=None) -> pd.DataFrame:
        """Customer profiles from the prepared transactions, up to ``as_of`` (default: all history)."""
        from cxnb.profile import customer_profiles

        key = ("profiles", str(as_of))
        if key not in self._cache:
            if not self.has("transactions"):
                raise StageSkipped(self.text("ra.skip.no_transactions"))
            items = self.path("items") if self.has("items") else None
            self._cache[key] = customer_profiles(self.path("transactions"), items, as_of=as_of)
        return self._cache[key]

    def record_metrics(self, stage: str, metrics: StageMetrics | dict) -> StageMetrics | dict:
        """Store a stage's headline figures (they go into ``metrics.json``); returns them."""
        out = self.run_dir / METRICS_DIR
        out.mkdir(parents=True, exist_ok=True)
        text = json.dumps(json_ready(metrics), indent=2, sort_keys=True, ensure_ascii=False)
        (out / f"{stage}.json").write_text(text + "\n", encoding="utf-8")
        return metrics

    def export(self, df: pd.DataFrame, name: str) -> Path:
        """Write a client export ``exports/<name>.csv`` (UTF-8, with a byte-order mark where ``report.csv_bom``
        says so; no index), cells a spreadsheet would run as formulas neutralized (:func:`cxnb.safe.csv_safe`);
        returns its path."""
        out = self.run_dir / EXPORTS_DIR
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{name}.csv"
        encoding = "utf-8-sig" if self.params.csv_bom() else "utf-8"
        csv_safe(df).to_csv(path, index=False, lineterminator="\n", float_format="%.6g", encoding=encoding)
        return path


def open_run(params: str | Path | Params = "../params/demo.yaml", run_dir: str | Path | None = None) -> Run:
    """Open a run for a notebook (and set the report's chart theme); without ``run_dir`` (JupyterLab) prepare the
    data in a scratch folder once."""
    from cxnb.data import is_prepared, prepare
    from cxnb.viz import set_theme

    set_theme()

    if not isinstance(params, Params):
        params = load_params(params)
    target = Path(run_dir) if run_dir else scratch_dir(params)
    if is_delivered_report(target):
        raise CxnbError(f"run_dir {target}: this is a finished report, which a notebook run must not overwrite; "
                        f"leave run_dir empty (JupyterLab uses reports/.scratch/{params.client}) or run `cxnb run`.")
    if not is_prepared(target, params):
        prepare(params, target)
    return Run(params, target)
