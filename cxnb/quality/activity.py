"""What the data covers: activity per month, the most active customers, the most popular items and categories."""

from __future__ import annotations

import pandas as pd

from cxnb.constants import COL_AMOUNT, COL_CUSTOMER, COL_ITEM, COL_ORDER, COL_TIMESTAMP
from cxnb.privacy import suppress_small_groups

DAY = pd.Timedelta(days=1)


def activity_over_time(transactions: pd.DataFrame, freq: str = "MS") -> pd.DataFrame:
    """Lines, orders, active customers and revenue per period (month by default); ``partial`` marks a last
    period the data does not cover to its end (it must not be read as a drop)."""
    tx = transactions
    grouper = pd.Grouper(key=COL_TIMESTAMP, freq=freq)
    agg = {"lines": (COL_CUSTOMER, "size"), "customers": (COL_CUSTOMER, "nunique")}
    if COL_ORDER in tx.columns:
        agg["orders"] = (COL_ORDER, "nunique")
    if COL_AMOUNT in tx.columns:
        agg["revenue"] = (COL_AMOUNT, "sum")
    out = tx.groupby(grouper).agg(**agg).reset_index().rename(columns={COL_TIMESTAMP: "period"})
    last = tx[COL_TIMESTAMP].max()
    out["partial"] = False
    if len(out) and last.normalize() < out["period"].iloc[-1] + pd.tseries.frequencies.to_offset(freq) - DAY:
        out.loc[out.index[-1], "partial"] = True
    return out


def top_customers(transactions: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The customers with the most lines (ids are pseudonyms), with their orders and spend."""
    g = transactions.groupby(COL_CUSTOMER)
    out = pd.DataFrame({"lines": g.size()})
    if COL_ORDER in transactions.columns:
        out["orders"] = g[COL_ORDER].nunique()
    if COL_AMOUNT in transactions.columns:
        out["spend"] = g[COL_AMOUNT].sum().round(2)
    return out.sort_values("lines", ascending=False, kind="mergesort").head(n).reset_index()


def top_items(transactions: pd.DataFrame, items: pd.DataFrame | None, n: int = 10) -> pd.DataFrame:
    """The items bought by the most customers, with name and category where known."""
    if COL_ITEM not in transactions.columns:
        return pd.DataFrame()
    g = transactions.groupby(COL_ITEM)
    out = pd.DataFrame({"customers": g[COL_CUSTOMER].nunique(), "lines": g.size()})
    out = out.sort_values(["customers", "lines"], ascending=False, kind="mergesort").head(n).reset_index()
    if items is not None:
        keep = [c for c in ("item_id", "name", "category") if c in items.columns]
        out = out.merge(items[keep], on=COL_ITEM, how="left")
    return out


def category_breakdown(transactions: pd.DataFrame, items: pd.DataFrame | None, min_group_size: int) -> pd.DataFrame:
    """Customers, lines and revenue per item category; categories with too few customers merged into 'other'."""
    if items is None or "category" not in items.columns or COL_ITEM not in transactions.columns:
        return pd.DataFrame()
    tx = transactions.merge(items[[COL_ITEM, "category"]], on=COL_ITEM, how="left")
    tx["category"] = tx["category"].fillna("unknown")
    g = tx.groupby("category")
    out = pd.DataFrame({"customers": g[COL_CUSTOMER].nunique(), "lines": g.size()})
    if COL_AMOUNT in tx.columns:
        out["revenue"] = g[COL_AMOUNT].sum().round(2)
    out = out.sort_values("lines", ascending=False, kind="mergesort").reset_index()
    return suppress_small_groups(out, "category", "customers", min_group_size)


def top_frames(transactions: pd.DataFrame, items: pd.DataFrame | None, min_group_size: int) -> list[pd.DataFrame]:
    """Most active customers, most popular items and the category breakdown; none when the whole client has fewer
    customers than ``min_group_size`` (any row could identify someone)."""
    if transactions[COL_CUSTOMER].nunique() < min_group_size:
        return []
    return [top_customers(transactions), top_items(transactions, items),
            category_breakdown(transactions, items, min_group_size)]


def purchase_lines_read(info: dict) -> int:
    """Transaction lines the cleaning rules judged: all lines read, or the purchase lines of an event log (views,
    carts and favourites are kept for the journey, not removed)."""
    events = info.get("event_types")
    if not events:
        return info["rows_read"]
    return int(events.get("purchase", 0)) + int(info.get("filter", {}).get("removed", 0))
