"""The typed ``customer_journey`` entry of metrics.json, written by the stage and read by the index page."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from cxnb.journey.periods import period_label
from cxnb.stage import StageMetrics

if TYPE_CHECKING:
    from cxnb.journey.pipeline import JourneyResult

RETENTION_OFFSETS = (1, 3, 6)
CURVE_PERIODS = 12  # the average retention curve of the index page: periods 1 to 12 after the first purchase


class FunnelStep(StageMetrics):
    name: str
    customers: int
    step_conversion: float | None
    overall_conversion: float | None
    overall_ci_low: float | None
    overall_ci_high: float | None
    median_hours_from_start: float | None
    ever_customers: int
    events: int


class PathShare(StageMetrics):
    path: str | None  # None: all other paths
    customers: int
    share: float


class Lifecycle(StageMetrics):
    period: str
    new: int
    returning: int
    resurrected: int
    dormant: int


class JourneyMetrics(StageMetrics):
    period: str
    last_period_partial: bool
    conversion_window_days: float | None = None
    funnel: list[FunnelStep] | None = None
    no_funnel: str | None = None
    overall_conversion: float | None = None
    median_hours_to_convert: float | None = None
    paths: list[PathShare] = []
    cohorts: int
    retention: dict[str, float | None]
    lifecycle_last_full_period: Lifecycle | None = None
    retention_curve: list[float] | None = None  # average retention 1, 2, … periods after the first purchase


def _retention_curve(result: JourneyResult) -> list[float] | None:
    """Average retention for offsets 1 to ``CURVE_PERIODS`` (up to the first offset not observed)."""
    avg = result.average.set_index("offset")["retention"]
    curve = []
    for k in range(1, CURVE_PERIODS + 1):
        if k not in avg.index or not pd.notna(avg[k]):
            break
        curve.append(float(avg[k]))
    return curve or None


def _retention_at(result: JourneyResult) -> dict[str, float | None]:
    avg = result.average.set_index("offset")["retention"]
    return {f"period_{k}": (float(avg[k]) if k in avg.index else None) for k in RETENTION_OFFSETS}


def _last_full_lifecycle(result: JourneyResult) -> Lifecycle | None:
    full = result.lifecycle[result.lifecycle["period"] <= result.complete_until]
    if full.empty:
        return None
    row = full.iloc[-1]
    return Lifecycle(period=period_label(int(row["period"]), result.period),
                     **{k: int(row[k]) for k in ("new", "returning", "resurrected", "dormant")})


def metrics_of(result: JourneyResult) -> JourneyMetrics:
    """The metrics of a computed journey."""
    funnel, overall, hours = None, None, None
    if result.steps is not None:
        funnel = [FunnelStep(**{k: row[k] for k in FunnelStep.model_fields}) for row in result.steps.to_dict("records")]
        overall = funnel[-1].overall_conversion
        hours = funnel[-1].median_hours_from_start
    return JourneyMetrics(
        period=result.period, last_period_partial=result.last_partial,
        conversion_window_days=result.funnel.window_days if result.funnel else None,
        funnel=funnel, no_funnel=result.no_funnel, overall_conversion=overall, median_hours_to_convert=hours,
        paths=[PathShare(**r) for r in result.paths.to_dict("records")] if result.paths is not None else [],
        cohorts=int(result.retention["cohort"].nunique()), retention=_retention_at(result),
        lifecycle_last_full_period=_last_full_lifecycle(result), retention_curve=_retention_curve(result))
