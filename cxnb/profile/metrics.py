"""The typed ``requirement_analysis`` (customer needs) entry of metrics.json, written by the stage and read by the
index page."""

from __future__ import annotations

import pandas as pd

from cxnb.privacy import OTHER
from cxnb.stage import StageMetrics


class NeedsMetrics(StageMetrics):
    """The ``requirement_analysis`` entry: medians of the profile and the RFM segments as reported (segments under
    ``privacy.min_group_size`` merged into 'other'), keyed by their English names."""

    customers: int
    median_orders: float
    median_days_since_last_order: float
    median_monetary: float | None
    top_segment: str | None
    champions_share_revenue: float | None
    rfm_segments: dict[str, int]
    rfm_segment_share_revenue: dict[str, float] | None

    def shown_segments(self, min_group_size: int = 1) -> dict[str, int]:
        """The RFM segments with at least ``min_group_size`` customers, by English name."""
        return {k: v for k, v in self.rfm_segments.items() if v >= min_group_size}


def needs_metrics(profiles: pd.DataFrame, summary: pd.DataFrame) -> NeedsMetrics:
    """Headline figures of the customer-needs stage; segments only as in the (suppressed) ``summary`` from
    ``rfm_segment_summary``."""
    champions = summary.loc[summary["rfm_segment"] == "Champions", "share_revenue"]
    named = summary[summary["rfm_segment"] != OTHER].sort_values("customers", ascending=False, kind="mergesort")
    return NeedsMetrics(
        customers=int(len(profiles)),
        median_orders=float(profiles["frequency"].median()),
        median_days_since_last_order=round(float(profiles["days_since_last_order"].median()), 1),
        median_monetary=None if profiles["monetary"].isna().all() else round(float(profiles["monetary"].median()), 2),
        top_segment=None if named.empty else str(named["rfm_segment"].iloc[0]),
        champions_share_revenue=None if champions.empty or pd.isna(champions.iloc[0])
        else round(float(champions.iloc[0]), 4),
        rfm_segments={str(k): int(v) for k, v in zip(summary["rfm_segment"], summary["customers"], strict=True)},
        rfm_segment_share_revenue=None if summary["share_revenue"].isna().all() else
        {str(k): round(float(v), 4) for k, v in zip(summary["rfm_segment"], summary["share_revenue"], strict=True)})
