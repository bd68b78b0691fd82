"""Calendar periods (month or week) as consecutive integers, computed by the engine that holds the data."""

from __future__ import annotations

import ibis
import pandas as pd

PERIODS = ("month", "week")
_WEEK_SECONDS = 7 * 86_400


def period_index(ts: ibis.Value, period: str) -> ibis.Value:
    """Consecutive integers per calendar month (year * 12 + month - 1) or ISO week (Monday-based)."""
    if period == "month":
        return (ts.year() * 12 + ts.month() - 1).cast("int64")
    if period == "week":
        return (ts.truncate("W").epoch_seconds() // _WEEK_SECONDS).cast("int64")
    raise ValueError(f"period must be one of {PERIODS}, got {period!r}")


def period_start(index: int, period: str) -> pd.Timestamp:
    """The first day of the period with this index."""
    if period == "month":
        return pd.Timestamp(year=int(index) // 12, month=int(index) % 12 + 1, day=1)
    return pd.Timestamp("1970-01-05") + pd.Timedelta(weeks=int(index))  # the Monday of week 0


def period_end(index: int, period: str) -> pd.Timestamp:
    """The first day after the period with this index."""
    return period_start(int(index) + 1, period)


def period_label(index: int, period: str) -> str:
    """'2021-03' for a month, '2021-03-01' (its Monday) for a week."""
    start = period_start(index, period)
    return start.strftime("%Y-%m") if period == "month" else start.strftime("%Y-%m-%d")


def is_partial(index: int, period: str, last_timestamp: pd.Timestamp) -> bool:
    """Whether the data stops before the period ends (the last period of a log is usually partial)."""
    return pd.Timestamp(last_timestamp).normalize() + pd.Timedelta(days=1) < period_end(index, period)
