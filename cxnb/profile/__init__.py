"""Customer needs analysis: one profile row per customer, RFM scores and named RFM segments.

"Recency" here is RFM recency, the time since the last order, and is named ``days_since_last_order``
so it cannot be confused with the BTYD meaning (first to last purchase).

The stage: ``check(run)``, ``run_stage(run) -> NeedsResult``, ``result.metrics() -> NeedsMetrics``. One module per
concern: ``profiles`` (the per-customer table and its column names), ``rfm`` (scores, segments, suppressed
summaries), ``metrics``, ``tables`` (report language, export, sentences), ``plots``.
"""

from __future__ import annotations

from cxnb.profile.metrics import NeedsMetrics, needs_metrics
from cxnb.profile.pipeline import NeedsResult, check, run_stage
from cxnb.profile.plots import plot_distributions, plot_rfm_grid, plot_rfm_segments
from cxnb.profile.profiles import (
    LABELLED_FEATURES,
    MAX_CATEGORY_SHARES,
    customer_profiles,
    feature_label,
    feature_name,
    share_columns,
)
from cxnb.profile.rfm import (
    MAX_TIE_GROUPS,
    RFM_LEVELS,
    RFM_SEGMENT_RULES,
    category_taste,
    levels_used,
    reported_rfm_segments,
    rfm_grid,
    rfm_key,
    rfm_scores,
    rfm_segment_name,
    rfm_segment_summary,
    small_rfm_segments,
)
from cxnb.profile.tables import (
    levels_note,
    profile_export,
    profile_overview,
    rfm_label,
    rfm_rules_table,
    rfm_summary_table,
    rfm_suppression_note,
    taste_table,
)

__all__ = [
    "LABELLED_FEATURES", "MAX_CATEGORY_SHARES", "MAX_TIE_GROUPS", "NeedsMetrics", "NeedsResult", "RFM_LEVELS",
    "RFM_SEGMENT_RULES", "category_taste", "check", "customer_profiles", "feature_label", "feature_name",
    "levels_note", "levels_used", "needs_metrics", "plot_distributions", "plot_rfm_grid", "plot_rfm_segments",
    "profile_export", "profile_overview", "reported_rfm_segments", "rfm_grid", "rfm_key", "rfm_label",
    "rfm_rules_table", "rfm_scores", "rfm_segment_name", "rfm_segment_summary", "rfm_summary_table",
    "rfm_suppression_note", "run_stage", "share_columns", "small_rfm_segments", "taste_table",
]
