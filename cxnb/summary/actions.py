""""What to do next" on the index: each bullet drawn from a stage's evidence-backed conclusion, naming it."""

from __future__ import annotations

from cxnb.guards import customers_text
from cxnb.i18n import t
from cxnb.journey.metrics import JourneyMetrics
from cxnb.predict.metrics import PredictionMetrics
from cxnb.profile.metrics import NeedsMetrics
from cxnb.recommend.metrics import RecommendationMetrics
from cxnb.summary.entries import too_few_customers, typed_entries
from cxnb.summary.findings import points, rule_text
from cxnb.summary.text import num, pct, rec_model_name
from cxnb.value.metrics import ValueMetrics

CONCENTRATED = 0.4  # the top 20% holding at least this share of predicted value: a group worth protecting
MAX_ACTIONS = 5


def _recommendation(m: RecommendationMetrics, language: str, min_group_size: int = 1) -> list[str]:
    """Use the personal lists when the paired comparison says better, else keep bestsellers."""
    decision = m.decision
    if decision.verdict == "insufficient":
        return [t("summary.action.rec_insufficient", language, n=num(decision.n_customers))]
    diff = points(decision)
    return [t(f"summary.action.rec_{decision.verdict}", language, model=rec_model_name(decision.model, language),
              k=decision.k, diff=diff["difference"], low=diff["ci_low"], high=diff["ci_high"],
              n=num(decision.n_customers))]


def _prediction(m: PredictionMetrics, language: str, min_group_size: int = 1) -> list[str]:
    """By the best model's grade: A, target its top tenth; B, use the recency rule; C, no targeting model."""
    best = m.best_model()
    score, name = getattr(m, best), t(f"summary.model.{best}", language)
    low, high = f"{score.auc_ci[0]:.2f}", f"{score.auc_ci[1]:.2f}"
    if score.grade == "A":
        key = "summary.action.pred_a_given" if m.label_source == "given" else "summary.action.pred_a"
        return [t(key, language, model=name, lift=f"{score.top_decile_lift:.1f}", auc=f"{score.auc:.2f}",
                  low=low, high=high)]
    if score.grade == "B" and m.recency_rule_days is not None and score.auc_gain_vs_rule is not None:
        return [t("summary.action.pred_b", language, rule=rule_text(m, language), model=name,
                  gain=f"{score.auc_gain_vs_rule:+.3f}", low=f"{score.gain_ci_low:+.3f}",
                  high=f"{score.gain_ci_high:+.3f}")]
    if score.grade == "C":
        return [t("summary.action.pred_c", language, model=name, auc=f"{score.auc:.2f}", low=low, high=high)]
    return []


def _value(m: ValueMetrics, language: str, min_group_size: int = 1) -> list[str]:
    """Protect the top 20% when they hold a large share of the predicted value; else say it is spread out."""
    if m.concentration is None:
        return []
    key = "summary.action.value_protect" if m.concentration >= CONCENTRATED else "summary.action.value_spread"
    return [t(key, language, share=pct(m.concentration), days=m.horizon_days)]


def _winback(m: NeedsMetrics, language: str, min_group_size: int = 1) -> list[str]:
    """Win back the larger (by revenue) of the lapsed frequent-buyer RFM segments, when it can be shown."""
    from cxnb.summary.charts import segment_label

    revenue = m.rfm_segment_share_revenue or {}
    sizes = m.shown_segments(min_group_size)
    lapsed = [s for s in ("Can't lose them", "At risk") if s in sizes and revenue.get(s)]
    if not lapsed:
        return []
    segment = max(lapsed, key=revenue.get)
    return [t("summary.action.winback", language, segment=segment_label(segment, language),
              customers=customers_text(sizes[segment], language), revenue=pct(revenue[segment]))]


def _retention(m: JourneyMetrics, language: str, min_group_size: int = 1) -> list[str]:
    """Work on the second purchase, with the average share of new customers who buy again the next period."""
    r1 = m.retention.get("period_1")
    if r1 is None or not m.cohorts:
        return []
    return [t("summary.action.retention", language, r1=pct(r1), unit=t(f"cj.period.{m.period}", language),
              cohorts=m.cohorts)]


MAKERS = [("recommendation", _recommendation), ("behavior_prediction", _prediction), ("customer_value", _value),
          ("requirement_analysis", _winback), ("customer_journey", _retention)]


def actions(metrics: dict, language: str = "en", min_group_size: int = 1) -> list[str]:
    """Up to five bullets; none for a skipped stage, and none at all for a client under ``min_group_size``."""
    if too_few_customers(metrics, min_group_size):
        return []
    entries = typed_entries(metrics)
    out = []
    for stage, make in MAKERS:
        out += make(entries[stage], language, min_group_size) if stage in entries else []
    return out[:MAX_ACTIONS]
