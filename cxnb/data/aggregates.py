"""The aggregate tables computed once per run, by DuckDB, next to the prepared lines: ``data/aggregates/*.parquet``.

Stages read these instead of the whole line table when they only need counts (``Run.aggregate(name)``):

- ``customers_end``: per customer over the whole history (``cxnb.engine.customer_aggregates``: first/last line,
  distinct orders ``frequency``, spend ``monetary``, distinct items, units, lines);
- ``customers_cutoff``: the same over the lines before the run's cutoff (``Run.cutoff``), for models that
  learn from history and are scored on what followed;
- ``items``: per item (``cxnb.engine.item_aggregates``: distinct customers, lines, units, revenue);
- ``customer_items``: per customer and item: lines, distinct orders, units, spend, first and last time;
- ``months``: per calendar month: active customers, customers buying for the first time, orders, lines, units
  and revenue.

Every table is written sorted by its key, so the same data gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd

from cxnb.constants import COL_CUSTOMER, COL_ITEM, COL_TIMESTAMP
from cxnb.engine import (
    _distinct_counts,
    _history,
    _quiet,
    _with_counts,
    customer_aggregates,
    from_duckdb,
    item_aggregates,
    last_timestamp,
)

AGGREGATES_DIR = "aggregates"
AGGREGATES = ("customers_end", "customers_cutoff", "items", "customer_items", "months")
KEYS = {"customers_end": [COL_CUSTOMER], "customers_cutoff": [COL_CUSTOMER], "items": [COL_ITEM],
        "customer_items": [COL_CUSTOMER, COL_ITEM], "months": ["month"]}


def customer_items(tx: ibis.Table, as_of=None) -> ibis.Table:
    """Per customer and item: lines, distinct orders, units, spend and the first and last time before ``as_of``
    (grouped by order first, then by customer and item: one pass, no join)."""
    h = _history(tx, as_of)
    h = h.filter(h._item.notnull())
    per_order = h.group_by([COL_CUSTOMER, "_item", "_order"]).aggregate(
        lines=h.count(), units=h._units.sum(), spend=h._amount.sum(), first=h[COL_TIMESTAMP].min(),
        last=h[COL_TIMESTAMP].max())
    p = per_order
    out = p.group_by([COL_CUSTOMER, "_item"]).aggregate(
        lines=p.lines.sum(), orders=p._order.count(), units=p.units.sum(), spend=p.spend.sum(), first=p.first.min(),
        last=p.last.max())
    return out.rename({COL_ITEM: "_item"})


def months(tx: ibis.Table) -> ibis.Table:
    """Per calendar month (its first day): active and new customers, distinct orders, lines, units and revenue."""
    h = _history(tx)
    h = h.mutate(month=h[COL_TIMESTAMP].truncate("M"))
    main = h.group_by("month").aggregate(lines=h.count(), units=h._units.sum(), revenue=h._amount.sum())
    firsts = h.group_by(COL_CUSTOMER).aggregate(month=h.month.min())
    new = firsts.group_by("month").aggregate(new_customers=firsts.count())
    out = _with_counts(main, ["month"], _distinct_counts(h, ["month"], COL_CUSTOMER, "customers"),
                       _distinct_counts(h, ["month"], "_order", "orders"), new)
    return out.select("month", "customers", "new_customers", "orders", "lines", "units", "revenue")


def aggregate_expressions(tx: ibis.Table, cutoff) -> dict[str, ibis.Table]:
    """Every aggregate table of a run as an expression on the prepared lines ``tx``."""
    return {"customers_end": customer_aggregates(tx), "customers_cutoff": customer_aggregates(tx, cutoff),
            "items": item_aggregates(tx), "customer_items": customer_items(tx), "months": months(tx)}


def _rounded(expr: ibis.Table) -> ibis.Table:
    """Float sums to 9 decimals: parallel sums differ in their last bits from run to run (as ``Engine.frame``)."""
    floats = {name: expr[name].round(9) for name, dtype in expr.schema().items() if dtype.is_floating()}
    return expr.mutate(**floats) if floats else expr


def write_aggregates(transactions: Path, out: Path, cutoff_of) -> pd.Timestamp:
    """Write ``out/aggregates/<name>.parquet`` from the prepared lines; ``cutoff_of(last_timestamp)`` gives the
    cutoff. Returns the time of the last line."""
    eng = from_duckdb(transactions)
    last = last_timestamp(eng)
    folder = out / AGGREGATES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    columns = eng.table.columns
    for name, expr in aggregate_expressions(eng.table, cutoff_of(last)).items():
        if COL_ITEM in KEYS[name] and COL_ITEM not in columns:
            continue
        with _quiet():
            _rounded(expr).order_by(KEYS[name]).to_parquet((folder / f"{name}.parquet").as_posix())
    return last
