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
from cxnb.recommend.decision import BOOTSTRAP_RESAMPLES, Decision, paired_decision
from cxnb.recommend.evaluation import Evaluation
from cxnb.recommend.interactions import behaviour_events, with_object_ids
from cxnb.recommend.metrics import EventsCompared, EventsNotCompared
from cxnb.recommend.models import fit_model

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

    def record(self) -> EventsCompared | EventsNotCompared:
        """The ``events`` entry of the stage's metrics.json."""
        if self.decision is None:
            return EventsNotCompared(used=False, reason=self.reason, weights=self.weights)
        d = self.decision
        return EventsCompared(
            used=self.used, reason=self.reason, outcome=self.outcome, model=self.model, weights=self.weights,
            metric=d.metric, k=d.k, precision_purchases=d.baseline, precision_events=d.personal,
            difference=d.difference, ci_low=d.low, ci_high=d.high, n_customers=d.n_customers,
            n_resampled=d.n_resampled, resamples=d.resamples, n_training_events=self.n_training_events)


def training_events(events: pd.DataFrame, weights: dict[str, float], cutoff: pd.Timestamp) -> pd.DataFrame:
    """Behaviour events with a positive weight strictly before ``cutoff`` (the leakage guard)."""
    behaviour = behaviour_events(events, weights)
    return behaviour[behaviour[COL_TIMESTAMP] < pd.Timestamp(cutoff)]


def _not_compared(reason: str, model: str, weights: dict[str, float] | None) -> EventsComparison:
    return EventsComparison(False, reason, model, dict(weights or {}))


def compare_events(evaluation: Evaluation, events: pd.DataFrame | None, config: RecommendationConfig, model: str,
                   categories: pd.Series | None = None, groups: pd.Series | None = None, random_state: int = SEED,
                   resamples: int = BOOTSTRAP_RESAMPLES) -> EventsComparison:
    """``model`` fitted on the evaluation's training purchases vs on them plus the training period's weighted
    events, both scored by precision@k on the evaluation's customers (paired bootstrap of the difference)."""
    weights = config.event_weights
    if not weights or not set(weights) - {PURCHASE}:
        return _not_compared("off", model, weights)
    if events is None or not (events[COL_EVENT] != PURCHASE).any():
        return _not_compared("no_events", model, weights)
    if evaluation.info.get("cutoff") is None:
        return _not_compared("stratified", model, weights)
    behaviour = training_events(events, weights, evaluation.info["cutoff"])
    if behaviour.empty:
        return _not_compared("no_training_events", model, weights)
    behaviour = with_object_ids(behaviour)
    hyper = evaluation.chosen.get(model, {})
    users = evaluation.relevant[COL_CUSTOMER].unique()
    per_customer = {}
    for name, extra in (("purchases", None), ("events", behaviour)):
        if extra is None and model in evaluation.recommendations:  # the evaluation's own fit on these customers
            recs = evaluation.recommendations[model]
        else:
            fitted = fit_model(model, hyper, evaluation.train, categories, groups, extra, weights)
            recs = fitted.recommend(users, evaluation.k, config.exclude_seen)
        per_customer[name] = evaluation.precision_per_customer(recs)
    decision = paired_decision(per_customer["events"], per_customer["purchases"], model, evaluation.k,
                               random_state, resamples)
    used = decision.verdict == "better"
    reason = None if used else "insufficient" if decision.verdict == "insufficient" else "no_gain"
    counts = behaviour[COL_EVENT].value_counts().sort_index()
    return EventsComparison(used, reason, model, dict(weights), decision,
                            {str(k): int(v) for k, v in counts.items()})
