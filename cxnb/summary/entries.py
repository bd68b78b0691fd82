"""metrics.json read back through each stage's own metrics model: the only way the index reads a figure."""

from __future__ import annotations

from cxnb.journey.metrics import JourneyMetrics
from cxnb.predict.metrics import PredictionMetrics
from cxnb.profile.metrics import NeedsMetrics
from cxnb.quality.metrics import QualityMetrics
from cxnb.recommend.metrics import RecommendationMetrics
from cxnb.segment.metrics import SegmentationMetrics
from cxnb.stage import StageMetrics
from cxnb.value.metrics import ValueMetrics

MODELS: dict[str, type[StageMetrics]] = {
    "data_quality": QualityMetrics, "requirement_analysis": NeedsMetrics, "behavior_prediction": PredictionMetrics,
    "segmentation": SegmentationMetrics, "recommendation": RecommendationMetrics,
    "customer_journey": JourneyMetrics, "customer_value": ValueMetrics,
}


def skipped_reason(metrics: dict, stage: str) -> str | None:
    """Why a stage was skipped, or None when it ran (or is absent)."""
    entry = metrics.get(stage)
    return entry.get("skipped") if isinstance(entry, dict) else None


def typed_entries(metrics: dict) -> dict[str, StageMetrics]:
    """The entries of the stages that ran, each validated by its model (a malformed entry is an error)."""
    return {stage: model.model_validate(metrics[stage]) for stage, model in MODELS.items()
            if metrics.get(stage) and skipped_reason(metrics, stage) is None}


def too_few_customers(metrics: dict, min_group_size: int = 1) -> bool:
    """Whether the whole client has fewer customers than ``privacy.min_group_size`` (no figures may be shown)."""
    dq = typed_entries(metrics).get("data_quality")
    return dq is not None and dq.customers < min_group_size
