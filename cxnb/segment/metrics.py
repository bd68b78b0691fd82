"""The typed ``segmentation`` entry of metrics.json, written by the stage and read by the index page."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxnb.segment.model import Segmentation, structure_strength
from cxnb.stage import StageMetrics


class SegmentationMetrics(StageMetrics):
    """The ``segmentation`` entry of metrics.json: ``sizes`` keyed by English name, ``names`` in the report
    language (the index page reads both)."""

    k: int
    k_chosen_by: str
    k_range: list[int]
    k_range_requested: list[int]
    silhouette: float | None  # None: not computable (one segment holds every customer)
    structure: str
    stability_ari: float
    stability_ari_seeds: float | None
    stability_ari_bootstrap: float | None
    sizes: dict[str, int]
    names: dict[str, str]
    features: list[str]
    log_features: list[str]
    pca_components: int
    customers: int


def _rounded(value) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 4)


def segmentation_metrics(seg: Segmentation, stability: pd.DataFrame, summary: pd.DataFrame) -> SegmentationMetrics:
    """The metrics of a fitted segmentation, its stability refits and its per-segment summary."""
    by_kind = stability.groupby("kind")["ari"].mean()
    return SegmentationMetrics(
        k=seg.k, k_chosen_by=seg.k_chosen_by, k_range=list(seg.k_range),
        k_range_requested=list(seg.k_range_requested), silhouette=round(seg.silhouette, 4),
        structure=structure_strength(float(seg.scores["silhouette"].max())),
        stability_ari=round(float(stability["ari"].mean()), 4),
        stability_ari_seeds=_rounded(by_kind.get("other seed")),
        stability_ari_bootstrap=_rounded(by_kind.get("bootstrap")),
        sizes={str(n): int(c) for n, c in zip(summary["segment_name"], summary["customers"], strict=True)},
        names={str(n): str(label) for n, label in zip(summary["segment_name"], summary["label"], strict=True)},
        features=seg.features, log_features=seg.log_features,
        pca_components=int(seg.model["pca"].n_components_), customers=int(len(seg.labels)))
