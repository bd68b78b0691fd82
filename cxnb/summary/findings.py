"""Two or three sentences per stage for the index cards, generated from the typed entries (never typed by hand)."""

from __future__ import annotations

from cxnb import formats
from cxnb.constants import STAGES
from cxnb.guards import count_text, customers_text
from cxnb.i18n import t
from cxnb.journey.metrics import JourneyMetrics
from cxnb.predict.metrics import ModelScores, PredictionMetrics
from cxnb.profile.metrics import NeedsMetrics
from cxnb.quality.metrics import QualityMetrics
from cxnb.recommend.metrics import RecommendationMetrics
from cxnb.segment.metrics import SegmentationMetrics
from cxnb.summary.entries import too_few_customers, typed_entries
from cxnb.summary.text import num, pct, rec_model_name
from cxnb.value.metrics import ValueMetrics


def quality_sentences(dq: QualityMetrics, language: str, currency: str | None = None) -> list[str]:
    """The client's data in one or two sentences."""
    customers = customers_text(dq.customers, language)
    if not dq.has_transactions:
        return [t("summary.data_customers_only", language, customers=customers)]
    if dq.orders is not None and dq.revenue is not None:
        out = [t("summary.data", language, customers=customers, orders=count_text(dq.orders, "orders", language),
                 first=dq.first_date, last=dq.last_date, revenue=formats.money(dq.revenue, currency, language))]
    else:
        out = [t("summary.data_no_orders", language, customers=customers, first=dq.first_date, last=dq.last_date)]
    if dq.rows_removed:
        out.append(t("summary.removed", language, removed=num(dq.rows_removed), read=num(dq.rows_read),
                     share=pct(dq.rows_removed / dq.rows_read)))
    return out


def data_sentences(metrics: dict, language: str, currency: str | None = None) -> list[str]:
    """The client's data in one or two sentences (none without a data-quality entry)."""
    dq = typed_entries(metrics).get("data_quality")
    return [] if dq is None else quality_sentences(dq, language, currency)


def _needs(m: NeedsMetrics, language: str, min_group_size: int = 1) -> list[str]:
    """The Champions' share of revenue, the largest segment and the typical customer."""
    from cxnb.profile import rfm_label

    out = []
    segments = m.shown_segments(min_group_size)
    if m.champions_share_revenue is not None and segments.get("Champions"):
        out.append(t("summary.rfm_champions", language, share_customers=pct(segments["Champions"] / m.customers),
                     share_revenue=pct(m.champions_share_revenue)))
    if m.top_segment in segments:
        out.append(t("summary.rfm_top", language, segment=rfm_label(m.top_segment, language),
                     customers=customers_text(segments[m.top_segment], language)))
    orders = m.median_orders
    out.append(t("summary.rfm_median", language, days=num(m.median_days_since_last_order),
                 orders=count_text(int(orders), "orders", language) if orders.is_integer()
                 else t("common.n_orders.other", language, n=num(orders))))
    return out


def rule_text(m: PredictionMetrics, language: str) -> str:
    """The recency rule in words ("bought in the last 91 days")."""
    return t(f"summary.pred_rule.{m.recency_rule_direction}", language, days=m.recency_rule_days)


def _against_rule(m: PredictionMetrics, best: ModelScores, language: str) -> list[str]:
    """Whether the best model beats the recency rule (grade A) or the rule does as well (grade B)."""
    if m.recency_rule_days is None or best.grade not in ("A", "B") or best.auc_gain_vs_rule is None:
        return []
    key = "summary.pred_beats_rule" if best.grade == "A" else "summary.pred_rule_as_good"
    return [t(key, language, rule=rule_text(m, language), rule_auc=f"{m.recency_rule_auc:.2f}",
              gain=f"{best.auc_gain_vs_rule:+.3f}", low=f"{best.gain_ci_low:+.3f}", high=f"{best.gain_ci_high:+.3f}")]


def _prediction(m: PredictionMetrics, language: str, min_group_size: int = 1) -> list[str]:
    """Lift and AUC of the models worth using (grade A or B), how they compare with the recency rule, or, when
    every model is grade C, that none ranks customers better than guessing; then the base rate."""
    given = m.label_source == "given"
    best = m.best_model()
    score, name = getattr(m, best), t(f"summary.model.{best}", language)
    if m.usable():  # the same model the index's actions target with
        out = [t("summary.pred_lift_given" if given else "summary.pred_lift", language,
                 lift=f"{score.top_decile_lift:.1f}", auc=f"{score.auc:.2f}", model=name),
               t("summary.pred_auc_given" if given else "summary.pred_auc", language, model=name,
                 auc_pct=pct(score.auc)),
               *_against_rule(m, score, language)]
    else:
        low, high = score.auc_ci
        out = [t("summary.pred_grade_c", language, model=name, auc=f"{score.auc:.2f}", low=f"{low:.2f}",
                 high=f"{high:.2f}")]
    out.append(t("summary.pred_base_given" if given else "summary.pred_base", language, base=pct(m.base_rate)))
    return out


def _segmentation(m: SegmentationMetrics, language: str, min_group_size: int = 1) -> list[str]:
    """k and silhouette (and how clear the structure is), the largest segment shown, how stable they are."""
    from cxnb.privacy import OTHER

    out = [] if m.silhouette is None else [t("summary.seg_k", language, k=m.k, silhouette=f"{m.silhouette:.2f}")]
    if m.structure in ("weak", "none"):
        out.append(t(f"summary.seg_structure_{m.structure}", language))
    sizes = {k: v for k, v in m.sizes.items() if v >= min_group_size and k != OTHER}
    if sizes:
        name = max(sizes, key=sizes.get)
        total = m.customers or sum(sizes.values())
        out.append(t("summary.seg_largest", language, name=m.names.get(name, name), share=pct(sizes[name] / total)))
    if m.stability_ari is not None:
        key = "summary.seg_stable" if m.stability_ari >= 0.8 else "summary.seg_unstable"
        out.append(t(key, language, ari=f"{m.stability_ari:.2f}"))
    return out


def points(decision) -> dict[str, str]:
    """The difference of the recommendation decision and its interval in signed percentage points."""
    values = {"difference": decision.difference, "ci_low": decision.ci_low, "ci_high": decision.ci_high}
    spread = max(abs(value) for value in values.values())
    return {key: f"{100 * value:+.{1 if spread >= 0.01 else 2}f}" for key, value in values.items()}


def _recommendation(m: RecommendationMetrics, language: str, min_group_size: int = 1) -> list[str]:
    """The verdict of the paired comparison with bestsellers: a gain is claimed only when its interval is above 0."""
    decision = m.decision
    if decision.verdict == "insufficient":
        return [t("summary.rec_decision_insufficient", language, n=num(decision.n_customers))]
    diff = points(decision)
    out = [t(f"summary.rec_decision_{decision.verdict}", language, model=rec_model_name(decision.model, language),
             k=decision.k, p_model=f"{decision.personal:.3f}", p_pop=f"{decision.baseline:.3f}",
             diff=diff["difference"], low=diff["ci_low"], high=diff["ci_high"], n=num(decision.n_customers))]
    scores = m.scores(decision.model) if decision.model else None
    if decision.verdict == "better" and scores is not None and scores.coverage is not None:
        out.append(t("summary.rec_coverage", language, coverage=pct(scores.coverage)))
    return out


def _journey(m: JourneyMetrics, language: str, min_group_size: int = 1) -> list[str]:
    """The funnel's overall conversion (with its interval) and the average retention after one period."""
    out = []
    if m.funnel and m.funnel[-1].overall_conversion is not None:
        last = m.funnel[-1]
        out.append(t("summary.journey_funnel", language, rate=pct(last.overall_conversion),
                     low=pct(last.overall_ci_low), high=pct(last.overall_ci_high),
                     window=f"{m.conversion_window_days:g}"))
    r1 = m.retention.get("period_1")
    if r1 is not None:
        out.append(t("summary.journey_retention", language, r1=pct(r1), unit=t(f"cj.period.{m.period}", language)))
    return out


def _value(m: ValueMetrics, language: str, min_group_size: int = 1, currency: str | None = None) -> list[str]:
    """Where the predicted value sits (top 20% share) and how the chosen model did on the holdout."""
    out = []
    if m.concentration is not None:
        out.append(t("summary.value_concentration", language, share=pct(m.concentration), days=m.horizon_days,
                     mean=formats.money(m.mean_clv, currency, language, 2)))
    held = m.holdout.get(m.model)
    if held:
        error = held.error_share
        out.append(t("summary.value_backtest", language, model=m.model_name, expected=num(held.predicted),
                     actual=num(held.actual), error="–" if error is None else f"{error:+.0%}"))
    return out


SENTENCES = {"requirement_analysis": _needs, "behavior_prediction": _prediction, "segmentation": _segmentation,
             "recommendation": _recommendation, "customer_journey": _journey, "customer_value": _value}


def findings(metrics: dict, language: str = "en", min_group_size: int = 1,
             currency: str | None = None) -> dict[str, list[str]]:
    """Two or three sentences per stage; no group smaller than ``min_group_size`` is described, and a client with
    fewer customers than that gets one sentence saying so."""
    entries = typed_entries(metrics)
    if too_few_customers(metrics, min_group_size):
        customers = customers_text(entries["data_quality"].customers, language)
        return {stage: [t("summary.too_few", language, customers=customers, minimum=min_group_size)]
                if stage == "data_quality" else [] for stage in STAGES}
    out = {"data_quality": quality_sentences(entries["data_quality"], language, currency)
           if "data_quality" in entries else []}
    for stage, make in SENTENCES.items():
        if stage not in entries:
            out[stage] = []
        elif stage == "customer_value":
            out[stage] = make(entries[stage], language, min_group_size, currency)
        else:
            out[stage] = make(entries[stage], language, min_group_size)
    return out
