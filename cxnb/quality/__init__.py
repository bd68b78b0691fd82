"""Data quality: what was loaded, what each cleaning rule removed and why, coverage over time.

The stage: ``check(run)``, ``run_stage(run) -> QualityResult``, ``result.metrics() -> QualityMetrics``. One module
per concern: ``activity`` (coverage and top tables, computed), ``metrics``, ``tables`` (headers in the report
language), ``sentences`` (warnings said before any figure), ``plots``.
"""

from __future__ import annotations

from cxnb.quality.activity import (
    Coverage,
    activity_over_time,
    category_breakdown,
    purchase_lines_read,
    top_customers,
    top_frames,
    top_items,
)
from cxnb.quality.metrics import QualityMetrics, quality_metrics
from cxnb.quality.pipeline import QualityResult, check, run_stage
from cxnb.quality.plots import plot_activity
from cxnb.quality.sentences import LOW_ID_OVERLAP, data_warnings, id_overlap_warning
from cxnb.quality.tables import (
    cleaning_steps,
    dropped_pii,
    field_label,
    loaded_tables,
    missing_values,
    pii_reason,
    table_label,
    top_tables,
    with_labels,
)

__all__ = [
    "LOW_ID_OVERLAP", "Coverage", "QualityMetrics", "QualityResult", "activity_over_time", "category_breakdown", "check",
    "cleaning_steps", "data_warnings", "dropped_pii", "field_label", "id_overlap_warning", "loaded_tables",
    "missing_values", "pii_reason", "plot_activity", "purchase_lines_read", "quality_metrics", "run_stage",
    "table_label", "top_customers", "top_frames", "top_items", "top_tables", "with_labels",
]
