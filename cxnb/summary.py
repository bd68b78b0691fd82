"""The client's landing page (``index.html``): headline figures of every stage, read from metrics.json."""

from __future__ import annotations

import html
import math
import re
from functools import partial
from pathlib import Path

from cxnb import formats
from cxnb.config import Params
from cxnb.constants import STAGES
from cxnb.guards import count_text, customers_text
from cxnb.i18n import t
from cxnb.predict.metrics import ModelScores, PredictionMetrics
from cxnb.profile.metrics import NeedsMetrics
from cxnb.quality.metrics import QualityMetrics

# Headline figures per stage: dotted keys in metrics.json, or a function of the typed entry (FIGURES, after the
# stage's sentences); labels from summary.fig.*.
HEADLINES: dict[str, list[str]] = {
    "data_quality": ["customers", "orders", "rows_kept", "rows_removed", "revenue", "first_date", "last_date"],
    "requirement_analysis": ["customers", "median_orders", "median_days_since_last_order", "top_segment",
                             "champions_share_revenue"],
    "behavior_prediction": ["logit.auc", "decision_tree.auc", "random_forest.auc", "logit.top_decile_lift",
                            "base_rate"],
    "segmentation": ["k", "silhouette", "stability_ari"],
    "customer_journey": ["overall_conversion", "retention.period_1", "retention.period_3", "cohorts"],
    "customer_value": ["model_name", "mean_clv", "total_clv", "concentration", "backtest_customers"],
}


def figure_label(stage: str, key: str, language: str = "en") -> str:
    """The label of a headline figure, from the catalogue (``precision@5`` is labelled by ``precision_at_k``)."""
    slug = re.sub(r"@\d+$", "_at_k", key.replace("@{k}", "@0")).replace(".", "_")
    k = re.search(r"@(\d+)$", key)
    return t(f"summary.fig.{stage}.{slug}", language, **({"k": k.group(1)} if k else {}))


def metric_value(metrics: dict, stage: str, dotted: str):
    """The value at ``stage`` / dotted key in metrics, or None."""
    node = metrics.get(stage, {})
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


MONEY_KEYS = ("revenue", "mean_clv", "total_clv")


def format_value(value, key: str = "", language: str = "en", currency: str | None = None) -> str:
    """How a headline figure is printed in index.html: money in the currency, shares and rates as percentages,
    counts with separators, other figures to three significant digits."""
    if isinstance(value, bool):
        return t("pages.yes" if value else "pages.no", language)
    if isinstance(value, float) and (key.endswith(("share_revenue", "base_rate", "conversion", "concentration"))
                                     or key.startswith("retention.")):
        return formats.percent(value, language)
    if key.endswith(MONEY_KEYS):
        return formats.money(value, currency, language)
    if isinstance(value, int):
        return formats.number(value, language)
    if isinstance(value, float):
        return formats.significant(value, 3, language) if abs(value) < 1000 else formats.number(value, language)
    return str(value)


def _finite(value) -> bool:
    """Whether a figure can be printed: not None, a dict or list, NaN or infinite."""
    if value is None or isinstance(value, (dict, list)):
        return False
    return not (isinstance(value, float) and not math.isfinite(value))


def _quality(metrics: dict) -> QualityMetrics | None:
    """The data-quality entry, or None when it is absent or the stage was skipped."""
    entry = metrics.get("data_quality")
    return QualityMetrics.model_validate(entry) if entry and "skipped" not in entry else None


def too_few_customers(metrics: dict, min_group_size: int = 1) -> bool:
    """Whether the whole client has fewer customers than ``privacy.min_group_size`` (no figures may be shown)."""
    dq = _quality(metrics)
    return dq is not None and dq.customers < min_group_size


def _quality_figures(m: QualityMetrics) -> dict:
    return {"customers": m.customers, "orders": m.orders, "rows_kept": m.rows_kept, "rows_removed": m.rows_removed,
            "revenue": m.revenue, "first_date": m.first_date, "last_date": m.last_date}


def _needs_figures(m: NeedsMetrics) -> dict:
    return {"customers": m.customers, "median_orders": m.median_orders,
            "median_days_since_last_order": m.median_days_since_last_order, "top_segment": m.top_segment,
            "champions_share_revenue": m.champions_share_revenue}


def _prediction_figures(m: PredictionMetrics) -> dict:
    return {"logit.auc": m.logit.auc, "decision_tree.auc": m.decision_tree.auc, "random_forest.auc": m.random_forest.auc,
            "logit.top_decile_lift": m.logit.top_decile_lift, "base_rate": m.base_rate}


TYPED_FIGURES = {"data_quality": (QualityMetrics, _quality_figures), "requirement_analysis": (NeedsMetrics, _needs_figures),
                 "behavior_prediction": (PredictionMetrics, _prediction_figures)}


def _typed_figures(stage: str, entry: dict) -> list[tuple[str, object]]:
    """The headline figures of a stage read through its metrics model, as (key, value) pairs."""
    model, figures = TYPED_FIGURES[stage]
    return list(figures(model.model_validate(entry)).items())


def headline_figures(metrics: dict, language: str = "en",
                     min_group_size: int = 1) -> dict[str, list[tuple[str, str, object]]]:
    """Per stage the (key, label, value) headline figures present in metrics; of a client with fewer customers
    than ``min_group_size`` only the number of customers."""
    few = too_few_customers(metrics, min_group_size)
    out = {}
    for stage in STAGES:
        rows = []
        entry = metrics.get(stage) or {}
        if not entry or "skipped" in entry:
            pairs = []
        elif stage in FIGURES:
            pairs = FIGURES[stage](entry)
        else:
            pairs = [(key, metric_value(metrics, stage, key)) for key in HEADLINES.get(stage, [])]
        for key, value in pairs:
            if few and (stage, key) != ("data_quality", "customers"):
                continue
            if key == "top_segment" and value:
                from cxnb.profile import rfm_label

                value = rfm_label(value, language)
            if _finite(value):
                rows.append((key, figure_label(stage, key, language), value))
        out[stage] = rows
    return out


def _pct(x: float) -> str:
    return f"{x:.0%}" if x >= 0.1 else f"{x:.1%}"


def _num(x) -> str:
    return f"{x:,.0f}" if isinstance(x, (int, float)) else str(x)


def data_sentences(metrics: dict, language: str, currency: str | None = None) -> list[str]:
    """The client's data in one or two sentences."""
    dq = _quality(metrics)
    if dq is None:
        return []
    customers = customers_text(dq.customers, language)
    if not dq.has_transactions:
        return [t("summary.data_customers_only", language, customers=customers)]
    if dq.orders is not None and dq.revenue is not None:
        out = [t("summary.data", language, customers=customers, orders=count_text(dq.orders, "orders", language),
                 first=dq.first_date, last=dq.last_date, revenue=formats.money(dq.revenue, currency, language))]
    else:
        out = [t("summary.data_no_orders", language, customers=customers, first=dq.first_date, last=dq.last_date)]
    if dq.rows_removed:
        out.append(t("summary.removed", language, removed=_num(dq.rows_removed), read=_num(dq.rows_read),
                     share=_pct(dq.rows_removed / dq.rows_read)))
    return out


def _needs(entry: dict, language: str, min_group_size: int = 1) -> list[str]:
    """The Champions' share of revenue, the largest segment and the typical customer."""
    from cxnb.profile import rfm_label

    m = NeedsMetrics.model_validate(entry)
    out = []
    segments = m.shown_segments(min_group_size)
    if m.champions_share_revenue is not None and segments.get("Champions"):
        out.append(t("summary.rfm_champions", language, share_customers=_pct(segments["Champions"] / m.customers),
                     share_revenue=_pct(m.champions_share_revenue)))
    if m.top_segment in segments:
        out.append(t("summary.rfm_top", language, segment=rfm_label(m.top_segment, language),
                     customers=customers_text(segments[m.top_segment], language)))
    orders = m.median_orders
    out.append(t("summary.rfm_median", language, days=_num(m.median_days_since_last_order),
                 orders=count_text(int(orders), "orders", language) if orders.is_integer()
                 else t("common.n_orders.other", language, n=_num(orders))))
    return out


def _prediction(entry: dict, language: str, min_group_size: int = 1) -> list[str]:
    """Lift and AUC of the models worth using (grade A or B), how they compare with the recency rule, or, when
    every model is grade C, that none ranks customers better than guessing; then the base rate."""
    m = PredictionMetrics.model_validate(entry)
    given = m.label_source == "given"
    best = m.best_model()
    score, name = getattr(m, best), t(f"summary.model.{best}", language)
    if m.usable():  # the same model the index's actions target with
        out = [t("summary.pred_lift_given" if given else "summary.pred_lift", language,
                 lift=f"{score.top_decile_lift:.1f}", auc=f"{score.auc:.2f}", model=name),
               t("summary.pred_auc_given" if given else "summary.pred_auc", language, model=name,
                 auc_pct=_pct(score.auc)),
               *_against_rule(m, score, language)]
    else:
        low, high = score.auc_ci
        out = [t("summary.pred_grade_c", language, model=name, auc=f"{score.auc:.2f}", low=f"{low:.2f}",
                 high=f"{high:.2f}")]
    out.append(t("summary.pred_base_given" if given else "summary.pred_base", language, base=_pct(m.base_rate)))
    return out


def _rule_text(m: PredictionMetrics, language: str) -> str:
    return t(f"summary.pred_rule.{m.recency_rule_direction}", language, days=m.recency_rule_days)


def _against_rule(m: PredictionMetrics, best: ModelScores, language: str) -> list[str]:
    """Whether the best model beats the recency rule (grade A) or the rule does as well (grade B)."""
    if m.recency_rule_days is None or best.grade not in ("A", "B") or best.auc_gain_vs_rule is None:
        return []
    key = "summary.pred_beats_rule" if best.grade == "A" else "summary.pred_rule_as_good"
    return [t(key, language, rule=_rule_text(m, language), rule_auc=f"{m.recency_rule_auc:.2f}",
              gain=f"{best.auc_gain_vs_rule:+.3f}", low=f"{best.gain_ci_low:+.3f}", high=f"{best.gain_ci_high:+.3f}")]


def _segmentation(m: dict, language: str, min_group_size: int = 1) -> list[str]:
    from cxnb.privacy import OTHER

    out = []
    if "k" in m and "silhouette" in m:
        out.append(t("summary.seg_k", language, k=m["k"], silhouette=f"{m['silhouette']:.2f}"))
        if m.get("structure") in ("weak", "none"):
            out.append(t(f"summary.seg_structure_{m['structure']}", language))
    sizes = {k: v for k, v in (m.get("sizes") or {}).items() if v >= min_group_size and k != OTHER}
    if sizes:
        name = max(sizes, key=sizes.get)
        total = m.get("customers") or sum(sizes.values())
        out.append(t("summary.seg_largest", language, name=m.get("names", {}).get(name, name),
                     share=_pct(sizes[name] / total)))
    if m.get("stability_ari") is not None:
        key = "summary.seg_stable" if m["stability_ari"] >= 0.8 else "summary.seg_unstable"
        out.append(t(key, language, ari=f"{m['stability_ari']:.2f}"))
    return out


def _points(decision) -> dict[str, str]:
    """The difference of the recommendation decision and its interval in signed percentage points."""
    values = {"difference": decision.difference, "ci_low": decision.ci_low, "ci_high": decision.ci_high}
    spread = max(abs(value) for value in values.values())
    return {key: f"{100 * value:+.{1 if spread >= 0.01 else 2}f}" for key, value in values.items()}


def _recommendation_entry(m: dict):
    """The ``recommendation`` entry of metrics.json, typed."""
    from cxnb.recommend.metrics import RecommendationMetrics

    return RecommendationMetrics.model_validate(m)


def _model_name(model: str | None, language: str) -> str:
    """A recommendation model's name in a summary sentence."""
    return t(f"summary.model.{model}", language) if model in ("item_cf", "ease") else \
        t(f"rec.model.{model}", language) if model else ""


def _recommendation(m: dict, language: str, min_group_size: int = 1) -> list[str]:
    """The verdict of the paired comparison with bestsellers: a gain is claimed only when its interval is above 0."""
    rec = _recommendation_entry(m)
    decision = rec.decision
    if decision.verdict == "insufficient":
        return [t("summary.rec_decision_insufficient", language, n=_num(decision.n_customers))]
    points = _points(decision)
    out = [t(f"summary.rec_decision_{decision.verdict}", language, model=_model_name(decision.model, language),
             k=decision.k, p_model=f"{decision.personal:.3f}", p_pop=f"{decision.baseline:.3f}",
             diff=points["difference"], low=points["ci_low"], high=points["ci_high"], n=_num(decision.n_customers))]
    scores = rec.scores(decision.model) if decision.model else None
    if decision.verdict == "better" and scores is not None and scores.coverage is not None:
        out.append(t("summary.rec_coverage", language, coverage=_pct(scores.coverage)))
    return out


def _recommendation_figures(m: dict) -> list[tuple[str, object]]:
    """Headline figures: precision@k of item-item CF, EASE and bestsellers (those compared), customers evaluated."""
    rec = _recommendation_entry(m)
    rows = [(f"{name}.precision@{rec.k}", scores.precision) for name in ("item_cf", "ease", "popularity")
            if (scores := rec.scores(name)) is not None]
    return rows + [("n_users_evaluated", rec.n_users_evaluated)]


FIGURES = {"recommendation": _recommendation_figures, **{stage: partial(_typed_figures, stage) for stage in TYPED_FIGURES}}


def _journey(m: dict, language: str, min_group_size: int = 1) -> list[str]:
    """The funnel's overall conversion (with its interval) and the average retention after one period."""
    out = []
    funnel = m.get("funnel") or []
    if funnel and funnel[-1].get("overall_conversion") is not None:
        last = funnel[-1]
        out.append(t("summary.journey_funnel", language, rate=_pct(last["overall_conversion"]),
                     low=_pct(last["overall_ci_low"]), high=_pct(last["overall_ci_high"]),
                     window=f"{m['conversion_window_days']:g}"))
    r1 = (m.get("retention") or {}).get("period_1")
    if r1 is not None:
        out.append(t("summary.journey_retention", language, r1=_pct(r1), unit=t(f"cj.period.{m['period']}", language)))
    return out


def _value(m: dict, language: str, min_group_size: int = 1, currency: str | None = None) -> list[str]:
    """Where the predicted value sits (top 20% share) and how the chosen model did on the holdout."""
    out = []
    if m.get("concentration") is not None:
        out.append(t("summary.value_concentration", language, share=_pct(m["concentration"]), days=m["horizon_days"],
                     mean=formats.money(m["mean_clv"], currency, language, 2)))
    held = (m.get("holdout") or {}).get(m.get("model"))
    if held:
        error = held["error_share"]
        out.append(t("summary.value_backtest", language, model=m["model_name"], expected=_num(held["predicted"]),
                     actual=_num(held["actual"]), error="–" if error is None else f"{error:+.0%}"))
    return out


def findings(metrics: dict, language: str = "en", min_group_size: int = 1,
             currency: str | None = None) -> dict[str, list[str]]:
    """Two or three sentences per stage, generated from metrics.json (never typed by hand); no group smaller than
    ``min_group_size`` is described, and a client with fewer customers than that gets one sentence saying so."""
    if too_few_customers(metrics, min_group_size):
        customers = customers_text(metrics["data_quality"]["customers"], language)
        return {stage: [t("summary.too_few", language, customers=customers, minimum=min_group_size)]
                if stage == "data_quality" else [] for stage in STAGES}
    makers = {"requirement_analysis": _needs, "behavior_prediction": _prediction,
              "segmentation": _segmentation, "recommendation": _recommendation, "customer_journey": _journey,
              "customer_value": partial(_value, currency=currency)}
    dq = metrics.get("data_quality", {})
    out = {"data_quality": [] if not dq or "skipped" in dq else data_sentences(metrics, language, currency)}
    for stage, make in makers.items():
        m = metrics.get(stage, {})
        out[stage] = [] if not m or "skipped" in m else make(m, language, min_group_size)
    return out


CONCENTRATED = 0.4  # the top 20% holding at least this share of predicted value: a group worth protecting


def _act_recommendation(m: dict, language: str, min_group_size: int = 1) -> list[str]:
    """Use the personal lists when the paired comparison says better, else keep bestsellers."""
    decision = _recommendation_entry(m).decision
    if decision.verdict == "insufficient":
        return [t("summary.action.rec_insufficient", language, n=_num(decision.n_customers))]
    points = _points(decision)
    return [t(f"summary.action.rec_{decision.verdict}", language, model=_model_name(decision.model, language),
              k=decision.k, diff=points["difference"], low=points["ci_low"], high=points["ci_high"],
              n=_num(decision.n_customers))]


def _act_prediction(entry: dict, language: str, min_group_size: int = 1) -> list[str]:
    """By the best model's grade: A, target its top tenth; B, use the recency rule; C, no targeting model."""
    m = PredictionMetrics.model_validate(entry)
    best = m.best_model()
    score, name = getattr(m, best), t(f"summary.model.{best}", language)
    low, high = f"{score.auc_ci[0]:.2f}", f"{score.auc_ci[1]:.2f}"
    if score.grade == "A":
        key = "summary.action.pred_a_given" if m.label_source == "given" else "summary.action.pred_a"
        return [t(key, language, model=name, lift=f"{score.top_decile_lift:.1f}", auc=f"{score.auc:.2f}",
                  low=low, high=high)]
    if score.grade == "B" and m.recency_rule_days is not None and score.auc_gain_vs_rule is not None:
        return [t("summary.action.pred_b", language, rule=_rule_text(m, language), model=name,
                  gain=f"{score.auc_gain_vs_rule:+.3f}", low=f"{score.gain_ci_low:+.3f}",
                  high=f"{score.gain_ci_high:+.3f}")]
    if score.grade == "C":
        return [t("summary.action.pred_c", language, model=name, auc=f"{score.auc:.2f}", low=low, high=high)]
    return []


def _act_value(m: dict, language: str, min_group_size: int = 1) -> list[str]:
    """Protect the top 20% when they hold a large share of the predicted value; else say it is spread out."""
    share = m.get("concentration")
    if share is None or m.get("horizon_days") is None:
        return []
    key = "summary.action.value_protect" if share >= CONCENTRATED else "summary.action.value_spread"
    return [t(key, language, share=_pct(share), days=m["horizon_days"])]


def _act_winback(entry: dict, language: str, min_group_size: int = 1) -> list[str]:
    """Win back the larger (by revenue) of the lapsed frequent-buyer RFM segments, when it can be shown."""
    from cxnb.summary_charts import segment_label

    m = NeedsMetrics.model_validate(entry)
    revenue = m.rfm_segment_share_revenue or {}
    sizes = m.shown_segments(min_group_size)
    lapsed = [s for s in ("Can't lose them", "At risk") if s in sizes and revenue.get(s)]
    if not lapsed:
        return []
    segment = max(lapsed, key=revenue.get)
    return [t("summary.action.winback", language, segment=segment_label(segment, language),
              customers=customers_text(sizes[segment], language), revenue=_pct(revenue[segment]))]


def _act_retention(m: dict, language: str, min_group_size: int = 1) -> list[str]:
    """Work on the second purchase, with the average share of new customers who buy again the next period."""
    r1 = (m.get("retention") or {}).get("period_1")
    if r1 is None or not m.get("cohorts"):
        return []
    return [t("summary.action.retention", language, r1=_pct(r1), unit=t(f"cj.period.{m['period']}", language),
              cohorts=m["cohorts"])]


MAX_ACTIONS = 5


def actions(metrics: dict, language: str = "en", min_group_size: int = 1) -> list[str]:
    """"What to do next": up to five bullets, each drawn from a stage's evidence-backed conclusion and naming
    that evidence; none for a skipped stage, and none at all for a client under ``min_group_size``."""
    if too_few_customers(metrics, min_group_size):
        return []
    makers = [("recommendation", _act_recommendation), ("behavior_prediction", _act_prediction),
              ("customer_value", _act_value), ("requirement_analysis", _act_winback),
              ("customer_journey", _act_retention)]
    out = []
    for stage, make in makers:
        m = metrics.get(stage) or {}
        out += [] if not m or "skipped" in m else make(m, language, min_group_size)
    return out[:MAX_ACTIONS]


def write_index(run_dir: Path, params: Params, metrics: dict) -> Path:
    """Write ``index.html``: the data in a paragraph, the headline charts, what to do next, then one card per stage
    with findings, figures and a link."""
    from cxnb.summary_charts import headline_charts

    lang, min_size = params.language, params.privacy.min_group_size
    currency = params.report.currency
    said = findings(metrics, lang, min_size, currency)
    cards = []
    for stage, rows in headline_figures(metrics, lang, min_size).items():
        stem = STAGES[stage]
        title = t(f"stage.{stage}", lang)
        body = ""
        if "skipped" in metrics.get(stage, {}):
            body = f"<p class='skipped'>{html.escape(t('common.skipped', lang, reason=metrics[stage]['skipped']))}</p>"
        else:
            if stage != "data_quality":
                body += "".join(f"<p class='finding'>{html.escape(s)}</p>" for s in said.get(stage, []))
            if rows:
                body += "<table>" + "".join(
                    f"<tr><th>{html.escape(label)}</th><td data-metric='{stage}.{html.escape(key)}'>"
                    f"{html.escape(format_value(value, key, lang, currency))}</td></tr>" for key, label, value in rows) + "</table>"
        link = (f"<a href='{stem}.html'>{html.escape(t('common.open_report', lang))}</a>"
                if (run_dir / f"{stem}.html").exists() else "")
        cards.append(f"<section class='card'><h2>{html.escape(title)}</h2>{body}{link}</section>")
    charts = [] if too_few_customers(metrics, min_size) else headline_charts(metrics, lang, min_size)
    charts_html = (f"<section class='charts'><h2>{html.escape(t('summary.charts_heading', lang))}</h2>"
                   f"<div class='grid'>{''.join(c.html() for c in charts)}</div></section>" if charts else "")
    todo = actions(metrics, lang, min_size)
    actions_html = (f"<section class='actions'><h2>{html.escape(t('summary.actions_heading', lang))}</h2><ul>"
                    + "".join(f"<li>{html.escape(a)}</li>" for a in todo) + "</ul></section>" if todo else "")
    heading = t("summary.title", lang, title=params.title or params.client)
    intro = " ".join(said.get("data_quality", []))
    page = f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8"><title>{html.escape(heading)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; max-width: 60em;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.5; }}
.intro {{ font-size: 1.15em; }}
.card {{ border: 1px solid #ddd; border-radius: 6px; padding: 0.5em 1.5em 1em; margin: 1em 0; }}
.finding {{ font-size: 1.08em; margin: 0.4em 0; }}
table {{ margin: 0.8em 0; border-collapse: collapse; }}
th {{ text-align: left; font-weight: normal; color: #555; padding: 0.1em 2em 0.1em 0; }}
td {{ font-weight: bold; }} .skipped {{ color: #a60; }}
.actions {{ background: #f4f8fc; border-left: 4px solid #08519c; padding: 0.3em 1.5em 0.6em; margin: 1em 0; }}
.actions li {{ margin: 0.35em 0; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(26em, 1fr)); gap: 1em; }}
.chart {{ margin: 0; border: 1px solid #ddd; border-radius: 6px; padding: 0.6em; }}
.chart figcaption {{ font-weight: bold; margin-bottom: 0.3em; }}
.chart img {{ width: 100%; height: auto; display: block; }}
@media print {{ body {{ max-width: none; }} .card, .chart {{ break-inside: avoid; border-color: #999; }} a {{ color: #000; }} }}
</style></head>
<body><h1>{html.escape(heading)}</h1>
<p class="intro">{html.escape(intro)}</p>
{charts_html}
{actions_html}
{''.join(cards)}
</body></html>
"""
    path = run_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
