"""Top paths: each customer's distinct event types in the order they first occurred (view → cart → purchase)."""

from __future__ import annotations

import pandas as pd

from cxnb.constants import COL_CUSTOMER, COL_EVENT, COL_TIMESTAMP
from cxnb.engine import Engine

PATH_SEPARATOR = " → "


def top_paths(engine: Engine, n: int = 10) -> pd.DataFrame:
    """The ``n`` most common paths with customers and share of all customers; the rest summed as one row."""
    events = engine.table
    firsts = events.group_by([COL_CUSTOMER, COL_EVENT]).aggregate(first=events[COL_TIMESTAMP].min())
    # Ties (two types at the same instant) are ordered by name, so a path is the same on every engine.
    paths = firsts.group_by(COL_CUSTOMER).aggregate(
        path=firsts[COL_EVENT].group_concat(PATH_SEPARATOR, order_by=[firsts.first, firsts[COL_EVENT]]))
    counts = engine.frame(paths.group_by("path").aggregate(customers=paths.count()))
    counts = counts.sort_values(["customers", "path"], ascending=[False, True], ignore_index=True)
    total = int(counts["customers"].sum())
    top = counts.head(n).copy()
    rest = int(counts["customers"].iloc[n:].sum())
    if rest:
        top = pd.concat([top, pd.DataFrame([{"path": None, "customers": rest}])], ignore_index=True)
    top["share"] = top["customers"] / max(total, 1)
    return top
