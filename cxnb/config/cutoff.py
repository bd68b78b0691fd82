"""The instant that separates history from outcome, written once."""

from __future__ import annotations

import pandas as pd

from cxnb.config.params import Params


def cutoff_instant(cutoff: str | None) -> pd.Timestamp | None:
    """The first instant after ``analysis.cutoff``: a date's whole day is history (features, calibration), the
    label window or holdout starts at the next midnight; a date with a time is taken as that instant."""
    if not cutoff:
        return None
    ts = pd.Timestamp(cutoff)
    return ts + pd.Timedelta(days=1) if ts == ts.normalize() else ts


def resolve_cutoff(params: Params, last_timestamp: pd.Timestamp) -> pd.Timestamp:
    """The instant that separates history from outcome: the day after ``analysis.cutoff``, or ``horizon_days``
    before the day after the last purchase when not given."""
    if params.analysis.cutoff:
        return cutoff_instant(params.analysis.cutoff)
    return (pd.Timestamp(last_timestamp).normalize() + pd.Timedelta(days=1)) - pd.Timedelta(
        days=params.analysis.horizon_days
    )
