"""Sentences of the recommendation report that carry figures, as Markdown in the report language (the edge)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cxnb.i18n import t
from cxnb.recommend.decision import MIN_DECISION_CUSTOMERS, Decision
from cxnb.recommend.item_item import item_pairs
from cxnb.recommend.labels import model_label

if TYPE_CHECKING:
    from cxnb.recommend.evaluation import Evaluation
    from cxnb.recommend.events import EventsComparison
    from cxnb.recommend.pipeline import RecommendationResult


def points(value: float, decimals: int) -> str:
    """A difference of shares in percentage points with its sign: 0.0234 -> '+2.3'."""
    return f"{100 * value:+.{decimals}f}"


def _decimals(difference: float, low: float, high: float) -> int:
    """One decimal of a point for differences of a point or more, else two."""
    return 1 if max(abs(difference), abs(low), abs(high)) >= 0.01 else 2


def skipped_models_text(evaluation: Evaluation, language: str = "en") -> str:
    """One line per model left out and why, or the catalogue's 'none'."""
    if not evaluation.skipped:
        return t("rec.none", language)
    return "; ".join(f"{model_label(name, language)}: {t(why.key, language, **why.values)}"
                     for name, why in evaluation.skipped.items())


def sample_text(evaluation: Evaluation, language: str = "en") -> str:
    """The sentences saying which figures were computed on a sample of customers and whether item CF kept only
    each item's nearest neighbours ('' when everything was exact)."""
    info = evaluation.info
    parts = []
    if info.get("n_users_sampled") is not None:
        parts.append(t("rec.sampled", language, n=f"{info['n_users_sampled']:,}",
                       eligible=f"{info['n_users_eligible']:,}"))
    if info.get("n_users_tuned") is not None:
        parts.append(t("rec.tuned_sample", language, n=f"{info['n_users_tuned']:,}"))
    if info.get("item_cf_neighbours") is not None:
        model = evaluation.models["item_cf"]
        parts.append(t("rec.neighbours", language, n=f"{info['item_cf_neighbours']:,}",
                       pairs=f"{item_pairs(model.interactions_.binary):,}"))
    return " ".join(parts)


def split_markdown(result: RecommendationResult, language: str = "en") -> str:
    """How the models were split and which were left out, and the sample of customers when there was one."""
    evaluation = result.evaluation
    parts = [t("rec.split_line", language, split=t(f"rec.split_name.{evaluation.split}", language),
               skipped=skipped_models_text(evaluation, language)), sample_text(evaluation, language)]
    return "\n\n".join(part for part in parts if part)


def chosen_markdown(result: RecommendationResult, language: str = "en") -> str:
    """The best model on the validation split."""
    return t("rec.chosen_line", language, model=model_label(result.evaluation.best_model, language))


def advice_values(decision: Decision, language: str = "en") -> dict:
    """Placeholders of the ``rec.advice_*`` messages (figures as text, never NaN)."""
    values = {"k": decision.k, "n": f"{decision.n_customers:,}", "drawn": f"{decision.n_resampled:,}",
              "resamples": f"{decision.resamples:,}", "minimum": MIN_DECISION_CUSTOMERS,
              "model": model_label(decision.model, language) if decision.model else ""}
    if decision.verdict == "insufficient":
        why = "few" if decision.n_customers < MIN_DECISION_CUSTOMERS else "no_hits"
        values["why"] = t(f"rec.insufficient_why.{why}", language, n=values["n"], minimum=MIN_DECISION_CUSTOMERS)
    if decision.difference is None:
        return values
    decimals = _decimals(decision.difference, decision.low, decision.high)
    return values | {"personal": f"{decision.personal:.1%}", "baseline": f"{decision.baseline:.1%}",
                     "difference": points(decision.difference, decimals), "low": points(decision.low, decimals),
                     "high": points(decision.high, decimals)}


def advice_markdown(decision: Decision, language: str = "en") -> str:
    """The comparison and what to do, for the decision's verdict."""
    values = advice_values(decision, language)
    if decision.model is None:
        return t("rec.advice_no_model", language)
    parts = [t(f"rec.advice_{decision.verdict}", language, **values).strip()]
    if decision.n_resampled < decision.n_customers:
        parts.append(t("rec.advice_resampled", language, **values))
    return "\n\n".join(parts)


def _weights_text(weights: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:g}" for name, value in weights.items())


def events_values(comparison: EventsComparison, language: str = "en") -> dict:
    """Placeholders of the ``rec.events.*`` sentences (figures as text, never NaN)."""
    values = {"model": model_label(comparison.model, language), "weights": _weights_text(comparison.weights)}
    d = comparison.decision
    if d is None or d.difference is None:
        return values | {"n": f"{d.n_customers:,}" if d else "0"}
    decimals = _decimals(d.difference, d.low, d.high)
    return values | {"k": d.k, "n": f"{d.n_customers:,}", "purchases": f"{d.baseline:.1%}",
                     "events": f"{d.personal:.1%}", "difference": points(d.difference, decimals),
                     "low": points(d.low, decimals), "high": points(d.high, decimals)}


def events_markdown(comparison: EventsComparison, language: str = "en") -> str:
    """One sentence for the outcome: events help, no clear difference, hurt, too little evidence, or why
    nothing was compared."""
    values = events_values(comparison, language)
    if comparison.decision is None:
        return t(f"rec.events.why.{comparison.reason}", language, **values)
    return t(f"rec.events.{comparison.outcome}", language, **values)


def diversity_markdown(result: RecommendationResult, language: str = "en") -> str:
    """What the re-ranking at the export's λ gains in diversity and costs in precision (or why it cannot be
    measured)."""
    d = result.diversity
    if d.skipped:
        return t("rec.no_categories", language)
    first = d.curve[f"precision@{result.k}"].iloc[0]
    return t("rec.diversity_result", language, model=model_label(d.model, language), lam=d.lam,
             before=d.diversity_before, after=d.diversity, cost=d.precision_cost, cost_share=d.precision_cost / first)


def cold_start_markdown(result: RecommendationResult, language: str = "en") -> str:
    """How many test customers had no history (the table of the fallbacks follows when there were any)."""
    n = result.cold_start.n_customers
    return t("rec.cold_some", language, n=n) if n else t("rec.cold_none", language)


def examples_markdown(result: RecommendationResult, language: str = "en") -> str:
    """The heading of the example lists: reasons from the customer's own items, or bestsellers."""
    return t("rec.examples" if result.decision.verdict == "better" else "rec.examples_bestsellers", language)


def closing_markdown(result: RecommendationResult, language: str = "en") -> str:
    """What the export holds and from which model."""
    return t("rec.closing", language, model=model_label(result.decision.export_model, language))
