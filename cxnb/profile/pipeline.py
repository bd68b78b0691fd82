"""The customer-needs stage in one call: ``check(run)``, ``run_stage(run, config)`` computed once, typed metrics."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cxnb.errors import StageSkipped
from cxnb.guards import check_population
from cxnb.i18n import t
from cxnb.profile.metrics import NeedsMetrics, needs_metrics
from cxnb.profile.rfm import category_taste, rfm_grid, rfm_scores, rfm_segment_summary


@dataclass
class NeedsResult:
    """Everything the customer-needs report shows, computed once; every group table already without the groups
    smaller than ``min_group_size`` (merged into 'other', or masked in the grid)."""

    profiles: pd.DataFrame
    rfm: pd.DataFrame
    summary: pd.DataFrame
    grid: pd.DataFrame
    taste: pd.DataFrame
    min_group_size: int

    @property
    def grid_masked(self) -> bool:
        """Whether some cells of the R×F grid hide their count (fewer than ``min_group_size`` customers)."""
        return bool(self.grid.isna().any().any())

    def metrics(self) -> NeedsMetrics:
        """The stage's typed metrics.json entry."""
        return needs_metrics(self.profiles, self.summary)


def check(run) -> None:
    """Raise StageSkipped (reason in the report language) when the client has no purchases to profile."""
    if not run.has("transactions"):
        raise StageSkipped(t("ra.skip.no_transactions", run.params.language))


def run_stage(run, config: None = None) -> NeedsResult:
    """Profiles, RFM scores, the segment summary, the R×F grid and the category taste per segment, once; skipped
    for a client with fewer customers than ``privacy.min_group_size``."""
    check(run)
    profiles = run.profiles()
    check_population(len(profiles), run.params)
    min_size = run.params.privacy.min_group_size
    rfm = rfm_scores(profiles)
    return NeedsResult(profiles, rfm, rfm_segment_summary(profiles, rfm, min_size), rfm_grid(rfm, min_size),
                       category_taste(profiles, rfm, min_size), min_size)
