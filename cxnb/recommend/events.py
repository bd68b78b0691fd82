"""Whether behaviour events (views, carts, favourites) improve the recommendations: a paired bootstrap of
per-customer precision@k of one model trained on purchases only and on purchases plus weighted events.

Both versions learn from the same training period (events at or after the cutoff never reach training), use the
hyperparameters chosen on purchases, and are scored on the same evaluated customers against their test purchases.
The export uses events only when the interval of the difference lies above zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cxnb.config import RecommendationConfig
from cxnb.constants import COL_CUSTOMER, COL_EVENT, COL_TIMESTAMP, PURCHASE, SEED
from cxnb.i18n import t
from cxnb.recommend.decision import BOOTSTRAP_RESAMPLES, Decision, paired_decision, points
from cxnb.recommend.interactions import behaviour_events, with_object_ids
from cxnb.recommend.pipeline import Evaluation, customer_groups, fit_model, item_categories_of
from cxnb.recommend.splits import split_transactions
from cxnb.recommend.tables import metric_label, model_label

EVENTS_TABLE = "events"
NOT_COMPARED = ("off", "no_events", "stratified", "no_training_events")  # reasons without figures (rec.events.why.*)
OUTCOMES = ("help", "no_difference", "hurt", "insufficient")  # sentences with figures (rec.events.*)


@dataclass(frozen=True)
class EventsComparison:
    """Outcome of purchases only vs purchases + weighted events; ``decision`` is None when nothing was compared."""

    used: bool  # whether the export learns from the events
    reason: str | None  # why not (NOT_COMPARED, or "insufficient"/"no_gain" after comparing), None when used
    model: str
    weights: dict[str, float]
    decision: Decision | None = None  # personal = with events, baseline = purchases only
    n_training_events: dict[str, int] | None = None  # behaviour events per type before the cutoff

    @property
    def outcome(self) -> str:
        """``help``, ``no_difference``, ``hurt``, ``insufficient`` or ``not_compared``."""
        if self.decision is None:
            return "not_compared"
        return {"better": "help", "worse": "hurt"}.get(self.decision.verdict, self.decision.verdict)

    def record(self) -> dict:
        """The ``events`` entry of the stage's metrics.json."""
        if self.decision is None:
            return {"used": False, "reason": self.reason, "weights": self.weights}
        d = self.decision
        return {"used": self.used, "reason": self.reason, "outcome": self.outcome, "model": self.model,
                "weights": self.weights, "metric": d.metric, "k": d.k, "precision_purchases": d.baseline,
                "precision_events": d.personal, "difference": d.difference, "ci_low": d.low, "ci_high": d.high,
                "n_customers": d.n_customers, "n_resampled": d.n_resampled, "resamples": d.resamples,
                "n_training_events": self.n_training_events}


def training_events(events: pd.DataFrame, weights: dict[str, float], cutoff: pd.Timestamp) -> pd.DataFrame:
    """Behaviour events with a positive weight strictly before ``cutoff`` (the leakage guard)."""
    behaviour = behaviour_events(events, weights)
    return behaviour[behaviour[COL_TIMESTAMP] < pd.Timestamp(cutoff)]


def _not_compared(reason: str, model: str, weights: dict[str, float] | None) -> EventsComparison:
    return EventsComparison(False, reason, model, dict(weights or {}))


def compare_events(evaluation: Evaluation, transactions: pd.DataFrame, events: pd.DataFrame | None,
                   config: RecommendationConfig, model: str, items: pd.DataFrame | None = None,
                   customers: pd.DataFrame | None = None, horizon_days: int = 90, random_state: int = SEED,
                   resamples: int = BOOTSTRAP_RESAMPLES) -> EventsComparison:
    """``model`` fitted on the training purchases vs on them plus the training period's weighted events, both
    scored by precision@k on the evaluation's customers (paired bootstrap of the difference)."""
    weights = config.event_weights
    if not weights or not set(weights) - {PURCHASE}:
        return _not_compared("off", model, weights)
    if events is None or not (events[COL_EVENT] != PURCHASE).any():
        return _not_compared("no_events", model, weights)
    if evaluation.info.get("cutoff") is None:
        return _not_compared("stratified", model, weights)
    cutoff = evaluation.info["cutoff"]
    behaviour = training_events(events, weights, cutoff)
    if behaviour.empty:
        return _not_compared("no_training_events", model, weights)
    transactions, items, customers = (with_object_ids(table) for table in (transactions, items, customers))
    behaviour = with_object_ids(behaviour)
    train, _ = split_transactions(transactions, config, cutoff, horizon_days)
    categories = item_categories_of(items)
    groups = customer_groups(customers, config.popularity_by)
    hyper = evaluation.chosen.get(model, {})
    users = evaluation.relevant[COL_CUSTOMER].unique()
    per_customer = {}
    for name, extra in (("purchases", None), ("events", behaviour)):
        fitted = fit_model(model, hyper, train, categories, groups, extra, weights)
        per_customer[name] = evaluation.precision_per_customer(
            fitted.recommend(users, evaluation.k, config.exclude_seen))
    decision = paired_decision(per_customer["events"], per_customer["purchases"], model, evaluation.k,
                               random_state, resamples)
    used = decision.verdict == "better"
    reason = None if used else "insufficient" if decision.verdict == "insufficient" else "no_gain"
    counts = behaviour[COL_EVENT].value_counts().sort_index()
    return EventsComparison(used, reason, model, dict(weights), decision,
                            {str(k): int(v) for k, v in counts.items()})


def compare_events_run(run, evaluation: Evaluation, model: str) -> EventsComparison:
    """:func:`compare_events` on a run's prepared tables (``data/events.parquet`` when the log has events)."""
    config = run.params.analysis.recommendation
    events = run.table(EVENTS_TABLE) if run.has(EVENTS_TABLE) else None
    return compare_events(evaluation, run.transactions(), events, config, model, run.items(), run.customers(),
                          run.params.analysis.horizon_days, config.seed)


def export_events(run, comparison: EventsComparison) -> pd.DataFrame | None:
    """Every behaviour event of the run for the export's refit when the comparison says they help, else None."""
    return run.table(EVENTS_TABLE) if comparison.used else None


def _weights_text(weights: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:g}" for name, value in weights.items())


def events_values(comparison: EventsComparison, language: str = "en") -> dict:
    """Placeholders of the ``rec.events.*`` sentences (figures as text, never NaN)."""
    values = {"model": model_label(comparison.model, language), "weights": _weights_text(comparison.weights)}
    d = comparison.decision
    if d is None or d.difference is None:
        return values | {"n": f"{d.n_customers:,}" if d else "0"}
    spread = max(abs(d.difference), abs(d.low), abs(d.high))
    decimals = 1 if spread >= 0.01 else 2
    return values | {"k": d.k, "n": f"{d.n_customers:,}", "purchases": f"{d.baseline:.1%}",
                     "events": f"{d.personal:.1%}", "difference": points(d.difference, decimals),
                     "low": points(d.low, decimals), "high": points(d.high, decimals)}


def events_markdown(comparison: EventsComparison, language: str = "en") -> str:
    """One sentence for the outcome: events help, no clear difference, hurt, too little evidence, or why
    nothing was compared (Markdown in ``language``)."""
    values = events_values(comparison, language)
    if comparison.decision is None:
        return t(f"rec.events.why.{comparison.reason}", language, **values)
    return t(f"rec.events.{comparison.outcome}", language, **values)


def events_table(comparison: EventsComparison, language: str = "en") -> pd.DataFrame:
    """precision@k of both trainings and their difference with its interval (empty when nothing was compared)."""
    d = comparison.decision
    if d is None or d.difference is None:
        return pd.DataFrame()
    values = events_values(comparison, language)
    rows = {t("rec.events.row.purchases", language): values["purchases"],
            t("rec.events.row.events", language, weights=values["weights"]): values["events"],
            t("rec.events.row.difference", language): t("rec.events.points", language, **values),
            t("rec.events.row.customers", language): values["n"]}
    return pd.DataFrame({t("rec.events.col.training", language): list(rows),
                         metric_label(f"precision@{d.k}", language): list(rows.values())})

