"""The recommendation stage in one call: ``check(run)``, ``run_stage(run, config)`` computed once, typed metrics."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cxnb.config import RecommendationConfig
from cxnb.constants import COL_CUSTOMER, COL_ITEM
from cxnb.errors import StageSkipped
from cxnb.guards import check_population
from cxnb.i18n import t
from cxnb.recommend.coldstart import cold_start_metrics
from cxnb.recommend.decision import Decision, decide
from cxnb.recommend.defaults import MIN_CUSTOMERS, MIN_ITEMS
from cxnb.recommend.evaluation import Evaluation, customer_groups, evaluate, holdout_split, item_categories_of
from cxnb.recommend.events import EventsComparison, compare_events
from cxnb.recommend.export import final_recommendations
from cxnb.recommend.interactions import with_object_ids
from cxnb.recommend.metrics import ColdStart, RecommendationMetrics, metrics_of
from cxnb.recommend.rerank import Diversity, diversity_summary

EVENTS_TABLE = "events"


@dataclass
class RecommendationResult:
    """Everything the recommendation report shows, computed once: the evaluation, the verdict against
    bestsellers, the events comparison, the diversity re-ranking, the cold start and the export's lists."""

    evaluation: Evaluation
    decision: Decision
    events: EventsComparison
    diversity: Diversity
    cold_start: ColdStart
    lists: pd.DataFrame  # the export's rows, reasons as kinds (see tables.export_table)
    language: str  # the report language, for the skip reasons metrics.json keeps as text

    @property
    def k(self) -> int:
        """The length of every list (``top_n``)."""
        return self.evaluation.k

    def metrics(self) -> RecommendationMetrics:
        """The stage's typed metrics.json entry."""
        return metrics_of(self)


def check_recommendation_inputs(transactions: pd.DataFrame | None, language: str = "en") -> None:
    """Raise StageSkipped (reason in ``language``) when the transactions cannot support recommendations."""
    if transactions is None:
        raise StageSkipped(t("rec.skip.no_transactions", language))
    if COL_ITEM not in transactions.columns:
        raise StageSkipped(t("rec.skip.no_item_id", language))
    n_customers = transactions[COL_CUSTOMER].nunique()
    n_items = transactions[COL_ITEM].nunique()
    if n_customers < MIN_CUSTOMERS or n_items < MIN_ITEMS:
        raise StageSkipped(t("rec.skip.too_few", language, customers=n_customers, items=n_items,
                             min_customers=MIN_CUSTOMERS, min_items=MIN_ITEMS))


def check(run) -> None:
    """Raise StageSkipped (reason in the report language) when the transactions cannot support recommendations
    or the client has too few customers to report on."""
    transactions = run.transactions() if run.has("transactions") else None
    check_recommendation_inputs(transactions, run.params.language)
    check_population(transactions[COL_CUSTOMER].nunique(), run.params)


def run_stage(run, config: RecommendationConfig | None = None) -> RecommendationResult:
    """Split once; tune and evaluate every model on it; compare the best personalised model with bestsellers
    and with behaviour events; re-rank for diversity; score the cold-start fallbacks on the same split; build the
    export's lists with the model (and events) the comparisons chose."""
    check(run)
    config = config or run.params.analysis.recommendation
    horizon = run.params.analysis.horizon_days
    transactions, items, customers = (with_object_ids(x) for x in (run.transactions(), run.items(), run.customers()))
    train, test, cutoff = holdout_split(transactions, config, run.cutoff, horizon)
    if train.empty or test.empty:
        raise StageSkipped(t("rec.skip.empty_split", run.params.language, split=config.split))
    categories, groups = item_categories_of(items), customer_groups(customers, config.popularity_by)
    evaluation = evaluate(train, test, cutoff, config, categories, groups, horizon)
    decision = decide(evaluation, config.seed)
    events = run.table(EVENTS_TABLE) if run.has(EVENTS_TABLE) else None
    comparison = compare_events(evaluation, events, config, decision.export_model, categories, groups, config.seed)
    diversity = diversity_summary(evaluation, categories, config.mmr_lambda)
    cold = cold_start_metrics(evaluation, categories, config.seed)
    lists = final_recommendations(transactions, evaluation, config, items, customers, decision.export_model,
                                  events if comparison.used else None)
    return RecommendationResult(evaluation, decision, comparison, diversity, cold, lists, run.params.language)
