"""Retention cohorts and lifecycle per period, from purchases, as grouped aggregates on the engine."""

from __future__ import annotations

import ibis
import pandas as pd

from cxnb.constants import COL_AMOUNT, COL_CUSTOMER, COL_TIMESTAMP
from cxnb.engine import Engine
from cxnb.journey.periods import period_index

LIFECYCLE = ("new", "returning", "resurrected", "dormant")


def _activity(purchases: ibis.Table, period: str) -> ibis.Table:
    """One row per customer and period with a purchase: the period index and the spend in it."""
    amount = purchases[COL_AMOUNT].cast("float64") if COL_AMOUNT in purchases.columns else ibis.literal(0.0)
    p = purchases.select(COL_CUSTOMER, period=period_index(purchases[COL_TIMESTAMP], period), _amount=amount)
    return p.group_by([COL_CUSTOMER, "period"]).aggregate(revenue=p._amount.sum())


def cohort_counts(engine: Engine, period: str = "month") -> pd.DataFrame:
    """Per cohort (period of first purchase) and offset (periods since): active customers and their revenue."""
    act = _activity(engine.table, period)
    first = act.group_by(COL_CUSTOMER).aggregate(cohort=act.period.min())
    joined = act.join(first, COL_CUSTOMER)
    grid = joined.group_by([joined.cohort, (joined.period - joined.cohort).name("offset")]).aggregate(
        customers=joined.count(), revenue=joined.revenue.sum())
    return engine.frame(grid, keys=["cohort", "offset"])


def retention_table(counts: pd.DataFrame, last_period: int) -> pd.DataFrame:
    """The cohort triangle in long form: cohort size, customer and revenue retention per offset; offsets beyond
    the data are absent, the offset that ends in the (possibly partial) last period is flagged."""
    size = counts[counts["offset"] == 0].set_index("cohort")[["customers", "revenue"]]
    size.columns = ["cohort_customers", "cohort_revenue"]
    cohorts = size.index.to_numpy()
    offsets = range(0, int(last_period - cohorts.min()) + 1) if len(cohorts) else range(0)
    full = pd.MultiIndex.from_tuples([(c, o) for c in cohorts for o in offsets if c + o <= last_period],
                                     names=["cohort", "offset"])
    table = counts.set_index(["cohort", "offset"]).reindex(full, fill_value=0).reset_index().join(size, on="cohort")
    table["retention"] = table["customers"] / table["cohort_customers"]
    table["revenue_retention"] = (table["revenue"] / table["cohort_revenue"]).where(table["cohort_revenue"] > 0)
    table["period"] = table["cohort"] + table["offset"]
    return table


def average_retention(table: pd.DataFrame, complete_until: int) -> pd.DataFrame:
    """Mean retention per offset over the cohorts observed for that offset in complete periods only,
    weighted by cohort size."""
    done = table[table["period"] <= complete_until]
    g = done.groupby("offset")
    return pd.DataFrame({"cohorts": g.size(), "customers": g["customers"].sum(),
                         "cohort_customers": g["cohort_customers"].sum()}).assign(
        retention=lambda d: d["customers"] / d["cohort_customers"]).reset_index()


def lifecycle_counts(engine: Engine, period: str = "month") -> pd.DataFrame:
    """Customers per period who are new (first purchase), returning (bought last period too), resurrected (back
    after at least one silent period) or dormant (bought last period, not this one)."""
    act = _activity(engine.table, period)
    w = ibis.window(group_by=act[COL_CUSTOMER], order_by=act.period)
    seq = act.mutate(prev=act.period.lag().over(w), nxt=act.period.lead().over(w))
    status = (ibis.cases((seq.prev.isnull(), "new"), (seq.prev == seq.period - 1, "returning"),
                         else_="resurrected"))
    active = seq.group_by([seq.period, status.name("status")]).aggregate(customers=seq.count())
    lapsed = seq.filter(seq.nxt.isnull() | (seq.nxt != seq.period + 1))
    dormant = lapsed.group_by((lapsed.period + 1).name("period")).aggregate(customers=lapsed.count())
    dormant = dormant.mutate(status=ibis.literal("dormant")).select("period", "status", "customers")
    out = engine.frame(active.union(dormant), keys=["period", "status"])
    wide = out.pivot_table(index="period", columns="status", values="customers", fill_value=0, aggfunc="sum")
    wide = wide.reindex(columns=list(LIFECYCLE), fill_value=0)
    last = int(out.loc[out["status"] != "dormant", "period"].max())
    wide = wide.reindex(range(int(wide.index.min()), last + 1), fill_value=0)
    return wide.astype("int64").reset_index()
