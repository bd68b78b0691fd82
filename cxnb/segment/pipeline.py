"""The segmentation stage in one call: ``check(run)``, ``run_stage(run, config)`` computed once, typed metrics."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cxnb.config import SegmentationConfig
from cxnb.segment.inputs import check_segmentation_inputs, customer_revenue, segmentation_features
from cxnb.segment.metrics import SegmentationMetrics, segmentation_metrics
from cxnb.segment.model import Segmentation, fit_segments
from cxnb.segment.naming import name_segments, shown_segments, standardized_centroids
from cxnb.segment.stability import segment_stability
from cxnb.segment.tables import segment_summary


@dataclass
class SegmentationResult:
    """Everything the segmentation report shows, computed once."""

    features: pd.DataFrame
    segmentation: Segmentation
    stability: pd.DataFrame
    centroids: pd.DataFrame
    names: pd.DataFrame
    summary: pd.DataFrame
    min_group_size: int

    @property
    def shown(self) -> pd.DataFrame:
        """The named segments large enough to be shown on their own."""
        return shown_segments(self.names, self.segmentation.labels, self.min_group_size)

    def metrics(self) -> SegmentationMetrics:
        """The stage's typed metrics.json entry."""
        return segmentation_metrics(self.segmentation, self.stability, self.summary)


def check(run) -> None:
    """Raise StageSkipped (reason in the report language) when there is nothing to segment."""
    check_segmentation_inputs(run)


def run_stage(run, config: SegmentationConfig | None = None) -> SegmentationResult:
    """Features, the fitted segments, their stability, names and per-segment summary, once."""
    check(run)
    config = config or run.params.analysis.segmentation
    min_size, language = run.params.privacy.min_group_size, run.params.language
    features = segmentation_features(run, config.features)
    seg = fit_segments(features, config.k, config.k_range, config.seed, min_size)
    stability = segment_stability(features, seg, random_state=config.seed)
    centroids = standardized_centroids(features, seg)
    names = name_segments(centroids, language)
    summary = segment_summary(seg.labels, names, min_size, customer_revenue(run), language)
    return SegmentationResult(features, seg, stability, centroids, names, summary, min_size)
