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
from cxnb.engine import _distinct_counts, _history, _quiet, _with_counts, from_duckdb, last_timestamp

AGGREGATES_DIR = "aggregates"
AGGREGATES = ("customers_end", "customers_cutoff", "items", "customer_items", "months")
# Parquet types of the columns summed from the two passes, as the tables were first written from the lines (a
# count of lines is an integer, a sum of integers a DuckDB HUGEINT, which reaches Parquet as a DOUBLE).
WRITTEN_TYPES = {"customers_end": {"n_lines": "BIGINT", "units": "DOUBLE"},
                 "customers_cutoff": {"n_lines": "BIGINT", "units": "DOUBLE"},
                 "items": {"lines": "BIGINT", "units": "DOUBLE"},
                 "customer_items": {"lines": "DOUBLE", "units": "DOUBLE"}, "months": {"lines": "BIGINT", "units": "DOUBLE"}}
KEYS = {"customers_end": [COL_CUSTOMER], "customers_cutoff": [COL_CUSTOMER], "items": [COL_ITEM],
        "customer_items": [COL_CUSTOMER, COL_ITEM], "months": ["month"]}


def _figures(t: ibis.Table, suffix: str = "", where=None) -> dict:
    """Lines, units, spend and the first and last time of the lines (those meeting ``where``) of a group."""
    return {f"lines{suffix}": t.count(where=where), f"units{suffix}": t._units.sum(where=where),
            f"spend{suffix}": t._amount.sum(where=where), f"first{suffix}": t[COL_TIMESTAMP].min(where=where),
            f"last{suffix}": t[COL_TIMESTAMP].max(where=where)}


def _before(h: ibis.Table, cutoff):
    """Whether a line falls before ``cutoff`` (every line when there is none)."""
    if cutoff is None:
        return ibis.literal(True)
    return h[COL_TIMESTAMP] < ibis.timestamp(pd.Timestamp(cutoff).isoformat(sep=" "))


def customer_orders(tx: ibis.Table, cutoff=None) -> ibis.Table:
    """Per customer, order and calendar month: the lines' figures over the whole history and before ``cutoff``
    (suffix ``_c``). The one pass over all lines the customer and month tables are summed from."""
    h = _history(tx)
    h = h.mutate(month=h[COL_TIMESTAMP].truncate("M"), _before=_before(h, cutoff))
    return h.group_by([COL_CUSTOMER, "_order", "month"]).aggregate(**_figures(h), **_figures(h, "_c", h._before))


def customer_item_lines(tx: ibis.Table, cutoff=None) -> ibis.Table:
    """Per customer and item: lines, distinct orders, units, spend, first and last time, and the lines before
    ``cutoff`` (grouped by order first, then by customer and item: the one pass over the lines with an item)."""
    h = _history(tx)
    h = h.filter(h._item.notnull()).mutate(_before=_before(h, cutoff))
    p = h.group_by([COL_CUSTOMER, "_item", "_order"]).aggregate(**_figures(h), lines_c=h.count(where=h._before))
    return p.group_by([COL_CUSTOMER, "_item"]).aggregate(
        lines=p.lines.sum(), orders=p._order.count(), units=p.units.sum(), spend=p.spend.sum(),
        first=p["first"].min(), last=p["last"].max(), lines_c=p.lines_c.sum())


def _customers(orders: ibis.Table, items: ibis.Table, suffix: str = "") -> ibis.Table:
    """``customers_end`` (or, with suffix ``_c``, ``customers_cutoff``) summed from ``customer_orders`` and
    ``customer_item_lines``: the same figures as ``cxnb.engine.customer_aggregates`` of the lines."""
    o = orders.filter(orders[f"lines{suffix}"] > 0)
    i = items.filter(items[f"lines{suffix}"] > 0)
    key = [COL_CUSTOMER]
    main = o.group_by(key).aggregate(
        first_order=o[f"first{suffix}"].min(), last_order=o[f"last{suffix}"].max(),
        monetary=o[f"spend{suffix}"].sum(), units=o[f"units{suffix}"].sum(), n_lines=o[f"lines{suffix}"].sum())
    n_items = i.group_by(key).aggregate(n_items=i.count())
    out = _with_counts(main, key, _distinct_counts(o, key, "_order", "frequency"), n_items)
    return out.select(COL_CUSTOMER, "first_order", "last_order", "frequency", "monetary", "n_items", "units",
                      "n_lines")


def _items(items: ibis.Table) -> ibis.Table:
    """Per item: distinct customers, lines, units and revenue (as ``cxnb.engine.item_aggregates``)."""
    out = items.group_by("_item").aggregate(customers=items.count(), lines=items.lines.sum(),
                                            units=items.units.sum(), revenue=items.spend.sum())
    return out.rename({COL_ITEM: "_item"})


def _customer_items(items: ibis.Table) -> ibis.Table:
    """Per customer and item: lines, distinct orders, units, spend, first and last time."""
    out = items.select(COL_CUSTOMER, "_item", "lines", "orders", "units", "spend", "first", "last")
    return out.rename({COL_ITEM: "_item"})


def _months(orders: ibis.Table) -> ibis.Table:
    """Per calendar month (its first day): active and new customers, distinct orders, lines, units and revenue."""
    o = orders
    main = o.group_by("month").aggregate(lines=o.lines.sum(), units=o.units.sum(), revenue=o.spend.sum())
    firsts = o.group_by(COL_CUSTOMER).aggregate(month=o.month.min())
    new = firsts.group_by("month").aggregate(new_customers=firsts.count())
    out = _with_counts(main, ["month"], _distinct_counts(o, ["month"], COL_CUSTOMER, "customers"),
                       _distinct_counts(o, ["month"], "_order", "orders"), new)
    return out.select("month", "customers", "new_customers", "orders", "lines", "units", "revenue")


def _from_passes(orders: ibis.Table, items: ibis.Table) -> dict[str, ibis.Table]:
    return {"customers_end": _customers(orders, items), "customers_cutoff": _customers(orders, items, "_c"),
            "items": _items(items), "customer_items": _customer_items(items), "months": _months(orders)}


def aggregate_expressions(tx: ibis.Table, cutoff) -> dict[str, ibis.Table]:
    """Every aggregate table of a run as an expression on the prepared lines ``tx``."""
    return _from_passes(customer_orders(tx, cutoff), customer_item_lines(tx, cutoff))


def _rounded(expr: ibis.Table) -> ibis.Table:
    """Float sums to 9 decimals: parallel sums differ in their last bits from run to run (as ``Engine.frame``)."""
    floats = {name: expr[name].round(9) for name, dtype in expr.schema().items() if dtype.is_floating()}
    return expr.mutate(**floats) if floats else expr


def write_aggregates(transactions: Path, out: Path, cutoff_of) -> pd.Timestamp:
    """Write ``out/aggregates/<name>.parquet`` from the prepared lines; ``cutoff_of(last_timestamp)`` gives the
    cutoff. The lines are read twice (``customer_orders``, ``customer_item_lines``, kept as temporary tables);
    every table is summed from those. Returns the time of the last line."""
    eng = from_duckdb(transactions)
    last = last_timestamp(eng)
    folder = out / AGGREGATES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    columns = eng.table.columns
    cutoff = cutoff_of(last)
    bk = eng.table.get_backend()
    with _quiet():
        orders = bk.create_table("_cxnb_customer_orders", customer_orders(eng.table, cutoff), temp=True)
        items = bk.create_table("_cxnb_customer_items", customer_item_lines(eng.table, cutoff), temp=True)
    for name, expr in _from_passes(orders, items).items():
        if COL_ITEM in KEYS[name] and COL_ITEM not in columns:
            continue
        _write(bk, _rounded(expr), name, folder / f"{name}.parquet")
    return last


def _write(bk, expr: ibis.Table, name: str, path: Path) -> None:
    """``expr`` written as Parquet sorted by the table's key, its summed columns cast to ``WRITTEN_TYPES``."""
    casts = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in WRITTEN_TYPES[name].items())
    with _quiet():
        sql = bk.compile(expr)
    bk.con.execute(f"COPY (SELECT * REPLACE ({casts}) FROM ({sql}) ORDER BY {', '.join(KEYS[name])}) "
                   f"TO '{path.as_posix()}' (FORMAT parquet)")
