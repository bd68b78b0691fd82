"""Purchase days and the calibration/holdout summaries the "buy till you die" models read.

As in the literature (Fader, Hardie & Lee 2005; lifetimes; PyMC-Marketing), a customer buys at most once a day:
the lines of one customer and day are one purchase, their spend summed. Time is counted in weeks. ``frequency`` is
the number of repeat purchase days, ``recency`` the time from the first to the last purchase and ``T`` the time from
the first purchase to the end of the period (the BTYD meanings, not RFM's days since the last order).
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from cxnb.constants import COL_AMOUNT, COL_CUSTOMER, COL_TIMESTAMP
from cxnb.engine import Engine

WEEK_DAYS = 7
DAY = pd.Timedelta(days=1)
SUMMARY_COLUMNS = (COL_CUSTOMER, "frequency", "recency", "T", "monetary_value", "first_day")


def purchase_days(engine: Engine) -> pd.DataFrame:
    """One row per customer and day with a purchase: ``customer_id``, ``day``, ``spend`` (NaN without amounts),
    aggregated where the data is."""
    tx = engine.table
    day = tx[COL_TIMESTAMP].truncate("D").name("day")
    spend = tx[COL_AMOUNT].cast("float64") if COL_AMOUNT in tx.columns else ibis.null("float64")
    keyed = tx.mutate(day=day, _spend=spend, **{COL_CUSTOMER: tx[COL_CUSTOMER].cast("string")})
    grouped = keyed.group_by([COL_CUSTOMER, "day"]).aggregate(spend=ibis._["_spend"].sum())
    return engine.frame(grouped, keys=[COL_CUSTOMER, "day"])


@dataclass(frozen=True)
class Split:
    """The backtest's periods: calibration up to ``cutoff`` (exclusive), holdout from ``cutoff`` to ``holdout_end``
    (exclusive), and the whole history up to ``last_day`` (inclusive)."""

    first_day: pd.Timestamp
    cutoff: pd.Timestamp
    holdout_end: pd.Timestamp
    last_day: pd.Timestamp

    @property
    def calibration_end(self) -> pd.Timestamp:
        """The last day of the calibration period."""
        return self.cutoff - DAY

    @property
    def holdout_days(self) -> int:
        return int((self.holdout_end - self.cutoff) / DAY)

    @property
    def holdout_weeks(self) -> float:
        return self.holdout_days / WEEK_DAYS


def split_periods(days: pd.DataFrame, cutoff: pd.Timestamp | None, holdout_days: int) -> Split:
    """The calibration/holdout split: ``cutoff`` (default: ``holdout_days`` before the day after the last purchase),
    a holdout of ``holdout_days`` cut at the end of the data."""
    first, last = days["day"].min(), days["day"].max()
    cutoff = pd.Timestamp(cutoff).normalize() if cutoff is not None else last + DAY - holdout_days * DAY
    return Split(first, cutoff, min(cutoff + holdout_days * DAY, last + DAY), last)


def btyd_summary(days: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Per customer with a purchase on or before ``end`` (a day): frequency, recency and T in weeks, the mean spend
    of the repeat purchases (``monetary_value``, NaN for one-time buyers) and the first purchase day."""
    past = days[days["day"] <= end]
    g = past.groupby(COL_CUSTOMER, sort=True)
    first, last, n = g["day"].min(), g["day"].max(), g.size()
    first_spend = past.loc[g["day"].idxmin(), [COL_CUSTOMER, "spend"]].set_index(COL_CUSTOMER)["spend"]
    repeat_spend = g["spend"].sum(min_count=1) - first_spend
    frequency = (n - 1).astype("int64")
    out = pd.DataFrame({
        COL_CUSTOMER: first.index.to_numpy(),
        "frequency": frequency.to_numpy(),
        "recency": ((last - first) / DAY / WEEK_DAYS).to_numpy(),
        "T": ((end - first) / DAY / WEEK_DAYS).to_numpy(),
        "monetary_value": (repeat_spend / frequency.where(frequency > 0)).to_numpy(),
        "first_day": first.to_numpy(),
    })
    return out.reset_index(drop=True)


def holdout_purchases(days: pd.DataFrame, split: Split, customers: pd.Series) -> pd.DataFrame:
    """Purchase days and spend in the holdout of each of ``customers`` (0 for those who did not buy)."""
    held = days[(days["day"] >= split.cutoff) & (days["day"] < split.holdout_end)]
    g = held.groupby(COL_CUSTOMER)
    counts = g.size().reindex(customers, fill_value=0)
    spend = g["spend"].sum().reindex(customers, fill_value=0.0)
    return pd.DataFrame({COL_CUSTOMER: customers.to_numpy(), "purchases": counts.to_numpy().astype("int64"),
                         "spend": spend.to_numpy()})


def daily_repeat_purchases(days: pd.DataFrame, cutoff: pd.Timestamp, until: pd.Timestamp) -> pd.DataFrame:
    """Per day up to ``until`` (exclusive): repeat purchases (days after their first) of the customers who bought
    before ``cutoff`` (the calibration customers) and their first purchases, for the cumulative tracking chart."""
    first = days.groupby(COL_CUSTOMER, sort=False)["day"].transform("min")
    keep = ((first < cutoff) & (days["day"] < until)).to_numpy()
    day, first = days["day"].to_numpy()[keep], first.to_numpy()[keep]
    index = pd.date_range(days["day"].min(), until - DAY, freq="D")
    repeats = pd.Series(day[day > first]).value_counts().reindex(index, fill_value=0)
    births = pd.Series(day[day == first]).value_counts().reindex(index, fill_value=0)
    return pd.DataFrame({"day": index, "repeat_purchases": repeats.to_numpy(), "first_purchases": births.to_numpy()})


def frequency_bucket(frequency: pd.Series | np.ndarray, top: int = 7) -> np.ndarray:
    """Calibration frequency capped at ``top`` (the last bucket reads '7+')."""
    return np.minimum(np.asarray(frequency), top)
