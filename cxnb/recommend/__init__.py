"""Recommendation: popularity, item-item collaborative filtering (SAR family), EASE and a category fallback.

The stage: ``check(run)``; ``run_stage(run, config) -> RecommendationResult`` splits once, tunes and evaluates every
model on that split, compares the best personalised model with bestsellers (``decide``) and with behaviour events,
re-ranks for diversity, scores the cold-start fallbacks on the same split and builds the export's lists;
``result.metrics() -> RecommendationMetrics`` is the typed metrics.json entry the index page reads back. Tables,
sentences and plots are functions of the result and the report language.

All models share one interface: ``fit(interactions)`` on a sparse customers x items matrix, then
``recommend(customer_ids, k, exclude_seen)`` returning a tidy DataFrame ``customer_id, rank, item_id, score``.
Scoring runs in batches of customers, so no dense customers x items matrix is ever built.
Offline evaluation follows Microsoft Recommenders' conventions (stratified split, metric definitions).

One module per concern, computation first (no text, no plotting): ``interactions``, ``splits``, ``recommender``
(interface and top-k search), ``popularity``, ``item_item`` (CF and EASE), ``models`` (which models, how built),
``ranking`` (offline measures), ``evaluation``, ``decision`` (personalised vs bestsellers, paired bootstrap),
``events`` (weighted behaviour events vs purchases only), ``rerank`` (MMR, diversity), ``coldstart``, ``explain``,
``export``, ``pipeline`` (the stage), ``metrics`` (typed entry); then the edge: ``labels``, ``sentences``,
``tables``, ``plots``.
"""

from __future__ import annotations

from cxnb.constants import DEFAULT_K
from cxnb.recommend.coldstart import cold_start_metrics
from cxnb.recommend.decision import (
    Decision,
    baseline_recommendations,
    bootstrap_mean_interval,
    decide,
    paired_decision,
    personal_model,
)
from cxnb.recommend.defaults import (
    BASELINE,
    BEYOND_METRICS,
    EASE_ITEM_LIMIT,
    EASE_LAMBDA_GRID,
    EVAL_SAMPLE_CUSTOMERS,
    FALLBACK_REASONS,
    HALF_LIFE_GRID,
    HYPERPARAMETERS,
    MIN_CUSTOMERS,
    MIN_ITEMS,
    MMR_LAMBDAS,
    MODELS,
    PROBE_ITEMS,
    RANKING_METRICS,
    SCORE_BATCH_CELLS,
    SIMILARITIES,
    UNKNOWN_CATEGORY,
)
from cxnb.recommend.evaluation import (
    Evaluation,
    customer_groups,
    evaluate,
    evaluate_recommenders,
    holdout_split,
    item_categories_of,
    sample_customers,
    tune,
    validation_split,
)
from cxnb.recommend.events import EventsComparison, compare_events, training_events
from cxnb.recommend.explain import explain
from cxnb.recommend.export import final_recommendations
from cxnb.recommend.interactions import (
    Interactions,
    behaviour_events,
    build_interactions,
    interaction_weights,
)
from cxnb.recommend.item_item import EASE, ItemItemCF, cooccurrence_similarity
from cxnb.recommend.labels import metric_label, model_label
from cxnb.recommend.metrics import (
    ColdStart,
    DecisionMetrics,
    DiversityRerank,
    EventsCompared,
    EventsNotCompared,
    ModelScores,
    RankingScores,
    RecommendationMetrics,
)
from cxnb.recommend.models import Reason, available_models, fit_model, hyperparameter_grid, make_model
from cxnb.recommend.pipeline import RecommendationResult, check, check_recommendation_inputs, run_stage
from cxnb.recommend.plots import plot_accuracy_diversity, plot_model_comparison
from cxnb.recommend.popularity import CategoryPopularity, Popularity
from cxnb.recommend.ranking import (
    beyond_accuracy_metrics,
    catalogue_coverage,
    intra_list_diversity,
    novelty,
    ranking_metrics,
)
from cxnb.recommend.recommender import Recommender
from cxnb.recommend.rerank import Diversity, accuracy_diversity_curve, diversity_summary, mmr_rerank
from cxnb.recommend.sentences import (
    advice_markdown,
    advice_values,
    chosen_markdown,
    closing_markdown,
    cold_start_markdown,
    diversity_markdown,
    events_markdown,
    events_values,
    examples_markdown,
    points,
    sample_text,
    skipped_models_text,
    split_markdown,
)
from cxnb.recommend.splits import (
    lines_in_order,
    relevant_items,
    split_transactions,
    stratified_split,
    time_cutoff,
    time_split,
)
from cxnb.recommend.tables import (
    chosen_hyperparameters,
    cold_start_table,
    events_table,
    examples_table,
    export_table,
    lists_with_reasons,
    metrics_table,
    reason_texts,
    split_table,
)

__all__ = [
    # the stage
    "RecommendationResult", "check", "run_stage", "RecommendationMetrics", "ModelScores", "RankingScores",
    "ColdStart", "DecisionMetrics", "DiversityRerank", "EventsCompared", "EventsNotCompared",
    # tables, sentences and plots of the result
    "chosen_hyperparameters", "cold_start_table", "events_table", "examples_table", "export_table",
    "lists_with_reasons", "metrics_table", "reason_texts", "split_table", "advice_markdown", "advice_values",
    "chosen_markdown", "closing_markdown", "cold_start_markdown", "diversity_markdown", "events_markdown",
    "events_values", "examples_markdown", "points", "sample_text", "skipped_models_text", "split_markdown",
    "plot_accuracy_diversity", "plot_model_comparison", "metric_label", "model_label",
    # the steps and models
    "BASELINE", "BEYOND_METRICS", "CategoryPopularity", "DEFAULT_K", "Decision", "Diversity", "EASE",
    "EASE_ITEM_LIMIT", "EASE_LAMBDA_GRID", "EVAL_SAMPLE_CUSTOMERS", "Evaluation", "EventsComparison",
    "FALLBACK_REASONS", "HALF_LIFE_GRID", "HYPERPARAMETERS", "Interactions", "ItemItemCF", "MIN_CUSTOMERS",
    "MIN_ITEMS", "MMR_LAMBDAS", "MODELS", "PROBE_ITEMS", "Popularity", "RANKING_METRICS", "Reason", "Recommender",
    "SCORE_BATCH_CELLS", "SIMILARITIES", "UNKNOWN_CATEGORY", "accuracy_diversity_curve", "available_models",
    "baseline_recommendations", "behaviour_events", "beyond_accuracy_metrics", "bootstrap_mean_interval",
    "build_interactions", "catalogue_coverage", "check_recommendation_inputs", "cold_start_metrics",
    "compare_events", "cooccurrence_similarity", "customer_groups", "decide", "diversity_summary", "evaluate",
    "evaluate_recommenders", "explain", "final_recommendations", "fit_model", "holdout_split",
    "hyperparameter_grid", "interaction_weights", "intra_list_diversity", "item_categories_of", "lines_in_order",
    "make_model", "mmr_rerank", "novelty", "paired_decision", "personal_model", "ranking_metrics",
    "relevant_items", "sample_customers", "split_transactions", "stratified_split", "time_cutoff", "time_split",
    "training_events", "tune", "validation_split",
]
