"""The journey stage's client exports: funnel steps and the cohort table."""

from __future__ import annotations

import pandas as pd

from cxnb.journey.periods import period_label
from cxnb.journey.pipeline import JourneyResult


def funnel_export(result: JourneyResult) -> pd.DataFrame | None:
    """``exports/journey_funnel.csv``: one row per step (None without a funnel)."""
    if result.steps is None:
        return None
    out = result.steps.copy()
    out["event_types"] = [" | ".join(types) for types in out["event_types"]]
    return out


def retention_export(result: JourneyResult) -> pd.DataFrame:
    """``exports/retention_cohorts.csv``: cohort × periods later, customers, revenue and retention."""
    r = result.retention
    return pd.DataFrame({
        "cohort": [period_label(c, result.period) for c in r["cohort"]],
        "periods_later": r["offset"], "period": [period_label(p, result.period) for p in r["period"]],
        "partial_period": (r["period"] == result.last_period) & result.last_partial,
        "cohort_customers": r["cohort_customers"], "customers": r["customers"], "retention": r["retention"],
        "revenue": r["revenue"], "revenue_retention": r["revenue_retention"],
    })


def export(run, result: JourneyResult) -> None:
    """Write the journey exports of ``result`` into the run's exports folder."""
    run.export(retention_export(result), "retention_cohorts")
    funnel = funnel_export(result)
    if funnel is not None:
        run.export(funnel, "journey_funnel")
