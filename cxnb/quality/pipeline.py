"""The data-quality stage in one call: ``check(run)``, ``run_stage(run, config)`` computed once, typed metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from cxnb.quality.activity import Coverage, activity_over_time, top_frames
from cxnb.quality.metrics import QualityMetrics, quality_metrics


@dataclass
class QualityResult:
    """Everything the data-quality report shows, computed once: what preparing the data found and removed
    (``quality.json``), activity per month and the top tables (none for a client too small to show)."""

    quality: dict
    min_group_size: int
    activity: pd.DataFrame | None = None
    tops: list[pd.DataFrame] = field(default_factory=list)

    @property
    def has_transactions(self) -> bool:
        return self.activity is not None

    def metrics(self) -> QualityMetrics:
        """The stage's typed metrics.json entry."""
        return quality_metrics(self.quality)


def check(run) -> None:
    """Never skips: every prepared run has its ``quality.json`` (what was loaded, even a customer table only)."""


def run_stage(run, config: None = None) -> QualityResult:
    """Activity over time and the top tables of the prepared transactions (when there are any), once, from the
    aggregate tables prepare wrote (the lines are never read into memory)."""
    check(run)
    min_size = run.params.privacy.min_group_size
    result = QualityResult(run.quality, min_size)
    if run.has("transactions"):
        coverage = Coverage.of_run(run)
        result.activity = activity_over_time(coverage)
        result.tops = top_frames(coverage, run.items(), min_size)
    return result
