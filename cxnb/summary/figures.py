"""The headline figures of each stage card: (key, label, value) read from the typed entries."""

from __future__ import annotations

import re

from cxnb.constants import STAGES
from cxnb.i18n import t
from cxnb.journey.metrics import JourneyMetrics
from cxnb.predict.metrics import PredictionMetrics
from cxnb.profile.metrics import NeedsMetrics
from cxnb.quality.metrics import QualityMetrics
from cxnb.recommend.metrics import RecommendationMetrics
from cxnb.segment.metrics import SegmentationMetrics
from cxnb.summary.entries import too_few_customers, typed_entries
from cxnb.summary.text import finite
from cxnb.value.metrics import ValueMetrics

Pairs = list[tuple[str, object]]


def figure_label(stage: str, key: str, language: str = "en") -> str:
    """The label of a headline figure, from the catalogue (``precision@5`` is labelled by ``precision_at_k``)."""
    slug = re.sub(r"@\d+$", "_at_k", key).replace(".", "_")
    k = re.search(r"@(\d+)$", key)
    return t(f"summary.fig.{stage}.{slug}", language, **({"k": k.group(1)} if k else {}))


def _quality(m: QualityMetrics) -> Pairs:
    return [("customers", m.customers), ("orders", m.orders), ("rows_kept", m.rows_kept),
            ("rows_removed", m.rows_removed), ("revenue", m.revenue), ("first_date", m.first_date),
            ("last_date", m.last_date)]


def _needs(m: NeedsMetrics) -> Pairs:
    return [("customers", m.customers), ("median_orders", m.median_orders),
            ("median_days_since_last_order", m.median_days_since_last_order), ("top_segment", m.top_segment),
            ("champions_share_revenue", m.champions_share_revenue)]


def _prediction(m: PredictionMetrics) -> Pairs:
    return [("logit.auc", m.logit.auc), ("decision_tree.auc", m.decision_tree.auc),
            ("random_forest.auc", m.random_forest.auc), ("logit.top_decile_lift", m.logit.top_decile_lift),
            ("base_rate", m.base_rate)]


def _segmentation(m: SegmentationMetrics) -> Pairs:
    return [("k", m.k), ("silhouette", m.silhouette), ("stability_ari", m.stability_ari)]


def _recommendation(m: RecommendationMetrics) -> Pairs:
    """precision@k of item-item CF, EASE and bestsellers (those compared), customers evaluated."""
    rows = [(f"{name}.precision@{m.k}", scores.precision) for name in ("item_cf", "ease", "popularity")
            if (scores := m.scores(name)) is not None]
    return rows + [("n_users_evaluated", m.n_users_evaluated)]


def _journey(m: JourneyMetrics) -> Pairs:
    return [("overall_conversion", m.overall_conversion), ("retention.period_1", m.retention.get("period_1")),
            ("retention.period_3", m.retention.get("period_3")), ("cohorts", m.cohorts)]


def _value(m: ValueMetrics) -> Pairs:
    return [("model_name", m.model_name), ("mean_clv", m.mean_clv), ("total_clv", m.total_clv),
            ("concentration", m.concentration), ("backtest_customers", m.backtest_customers)]


FIGURES = {"data_quality": _quality, "requirement_analysis": _needs, "behavior_prediction": _prediction,
           "segmentation": _segmentation, "recommendation": _recommendation, "customer_journey": _journey,
           "customer_value": _value}


def headline_figures(metrics: dict, language: str = "en",
                     min_group_size: int = 1) -> dict[str, list[tuple[str, str, object]]]:
    """Per stage the (key, label, value) headline figures present in metrics; of a client with fewer customers
    than ``min_group_size`` only the number of customers."""
    from cxnb.profile import rfm_label

    few = too_few_customers(metrics, min_group_size)
    entries = typed_entries(metrics)
    out = {}
    for stage in STAGES:
        rows = []
        for key, value in FIGURES[stage](entries[stage]) if stage in entries else []:
            if few and (stage, key) != ("data_quality", "customers"):
                continue
            if key == "top_segment" and value:
                value = rfm_label(value, language)
            if finite(value):
                rows.append((key, figure_label(stage, key, language), value))
        out[stage] = rows
    return out
