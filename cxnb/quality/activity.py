"""What the data covers: activity per month, the most active customers, the most popular items and categories."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cxnb.constants import COL_AMOUNT, COL_CUSTOMER, COL_ITEM, COL_ORDER, COL_TIMESTAMP
from cxnb.privacy import suppress_small_groups

DAY = pd.Timedelta(days=1)
MONTH = pd.offsets.MonthBegin()


@dataclass
class Coverage:
    """The aggregate tables the coverage figures are read from (computed once by prepare, never the lines): per
    calendar month, per customer, per item and per customer x item, with the time of the last line and the
    columns the lines have."""

    months: pd.DataFrame
    customers: pd.DataFrame
    items: pd.DataFrame | None
    customer_items: pd.DataFrame | None
    last: pd.Timestamp
    columns: frozenset[str]

    @classmethod
    def of_run(cls, run) -> Coverage:
        """The run's aggregate tables (``Run.aggregate``)."""
        import pyarrow.parquet as pq

        columns = frozenset(pq.read_schema(run.path("transactions")).names)
        with_items = COL_ITEM in columns
        return cls(run.aggregate("months"), run.aggregate("customers_end"),
                   run.aggregate("items") if with_items else None,
                   run.aggregate("customer_items") if with_items else None, run.last_timestamp, columns)

    @classmethod
    def of_lines(cls, transactions: pd.DataFrame) -> Coverage:
        """The same tables computed from lines in a DataFrame, by the code prepare runs (``aggregate_expressions``)."""
        from cxnb.data.aggregates import KEYS, aggregate_expressions
        from cxnb.engine import from_duckdb

        eng = from_duckdb(transactions)
        exprs = aggregate_expressions(eng.table, None)
        with_items = COL_ITEM in transactions.columns
        tables = {name: eng.frame(exprs[name], KEYS[name]) if with_items or COL_ITEM not in KEYS[name] else None
                  for name in ("months", "customers_end", "items", "customer_items")}
        return cls(tables["months"], tables["customers_end"], tables["items"], tables["customer_items"],
                   pd.Timestamp(transactions[COL_TIMESTAMP].max()), frozenset(transactions.columns))


def activity_over_time(coverage: Coverage) -> pd.DataFrame:
    """Lines, orders, active customers and revenue per calendar month, months without a line included;
    ``partial`` marks a last month the data does not cover to its end (it must not be read as a drop)."""
    cols = ["lines", "customers"] + (["orders"] if COL_ORDER in coverage.columns else []) + \
        (["revenue"] if COL_AMOUNT in coverage.columns else [])
    months = coverage.months.assign(month=pd.to_datetime(coverage.months["month"])).set_index("month")[cols]
    span = pd.date_range(months.index.min(), months.index.max(), freq="MS", name="period")
    out = months.reindex(span, fill_value=0).reset_index()
    out[[c for c in cols if c != "revenue"]] = out[[c for c in cols if c != "revenue"]].astype("int64")
    out["partial"] = False
    if len(out) and coverage.last.normalize() < out["period"].iloc[-1] + MONTH - DAY:
        out.loc[out.index[-1], "partial"] = True
    return out


def top_customers(coverage: Coverage, n: int = 10) -> pd.DataFrame:
    """The customers with the most lines (ids are pseudonyms), with their orders and spend."""
    c = coverage.customers
    out = pd.DataFrame({COL_CUSTOMER: c[COL_CUSTOMER], "lines": c["n_lines"].astype("int64")})
    if COL_ORDER in coverage.columns:
        out["orders"] = c["frequency"].astype("int64")
    if COL_AMOUNT in coverage.columns:
        out["spend"] = c["monetary"].round(2)
    return out.sort_values("lines", ascending=False, kind="mergesort").head(n).reset_index(drop=True)


def top_items(coverage: Coverage, items: pd.DataFrame | None, n: int = 10) -> pd.DataFrame:
    """The items bought by the most customers, with name and category where known."""
    if coverage.items is None:
        return pd.DataFrame()
    i = coverage.items
    out = pd.DataFrame({COL_ITEM: i[COL_ITEM], "customers": i["customers"].astype("int64"),
                        "lines": i["lines"].astype("int64")})
    out = out.sort_values(["customers", "lines"], ascending=False, kind="mergesort").head(n).reset_index(drop=True)
    if items is not None:
        keep = [c for c in ("item_id", "name", "category") if c in items.columns]
        out = out.merge(items[keep], on=COL_ITEM, how="left")
    return out


def category_breakdown(coverage: Coverage, items: pd.DataFrame | None, min_group_size: int) -> pd.DataFrame:
    """Customers, lines and revenue per item category; categories with too few customers merged into 'other'."""
    if items is None or "category" not in items.columns or coverage.customer_items is None:
        return pd.DataFrame()
    pairs = coverage.customer_items.merge(items[[COL_ITEM, "category"]], on=COL_ITEM, how="left")
    pairs["category"] = pairs["category"].fillna("unknown")
    g = pairs.groupby("category")
    out = pd.DataFrame({"customers": g[COL_CUSTOMER].nunique(), "lines": g["lines"].sum().astype("int64")})
    if COL_AMOUNT in coverage.columns:
        out["revenue"] = g["spend"].sum().round(2)
    out = out.sort_values("lines", ascending=False, kind="mergesort").reset_index()
    return suppress_small_groups(out, "category", "customers", min_group_size)


def top_frames(coverage: Coverage, items: pd.DataFrame | None, min_group_size: int) -> list[pd.DataFrame]:
    """Most active customers, most popular items and the category breakdown; none when the whole client has fewer
    customers than ``min_group_size`` (any row could identify someone)."""
    if len(coverage.customers) < min_group_size:
        return []
    return [top_customers(coverage), top_items(coverage, items), category_breakdown(coverage, items, min_group_size)]


def purchase_lines_read(info: dict) -> int:
    """Transaction lines the cleaning rules judged: all lines read, or the purchase lines of an event log (views,
    carts and favourites are kept for the journey, not removed)."""
    events = info.get("event_types")
    if not events:
        return info["rows_read"]
    return int(events.get("purchase", 0)) + int(info.get("filter", {}).get("removed", 0))
