"""Customer journey: funnels from behaviour events, top paths, retention cohorts and lifecycle per period.

Every count is a grouped aggregate run by the engine that holds the prepared events (DuckDB over Parquet,
a SQL server or Spark through :mod:`cxnb.engine`); only per-step, per-cohort and per-period tables reach pandas.
"""

from cxnb.journey.cohorts import average_retention, cohort_counts, lifecycle_counts, retention_table
from cxnb.journey.exports import export, funnel_export, retention_export
from cxnb.journey.funnel import DEFAULT_FUNNEL, Funnel, funnel_by, funnel_table
from cxnb.journey.metrics import JourneyMetrics
from cxnb.journey.paths import top_paths
from cxnb.journey.pipeline import JourneyResult, check, events_engine, purchases_engine, run_stage
from cxnb.journey.plots import plot_funnel, plot_lifecycle, plot_retention_curves, plot_retention_heatmap
from cxnb.journey.tables import (
    by_group_table,
    funnel_sentences,
    lifecycle_sentences,
    lifecycle_table,
    paths_table,
    retention_sentences,
    steps_table,
)

__all__ = [
    "DEFAULT_FUNNEL", "Funnel", "JourneyMetrics", "JourneyResult", "average_retention", "by_group_table", "check",
    "cohort_counts", "events_engine", "export", "funnel_by", "funnel_export", "funnel_sentences", "funnel_table",
    "lifecycle_counts", "lifecycle_sentences", "lifecycle_table", "paths_table", "plot_funnel", "plot_lifecycle",
    "plot_retention_curves", "plot_retention_heatmap", "purchases_engine", "retention_export", "retention_sentences",
    "retention_table", "run_stage", "steps_table", "top_paths",
]
