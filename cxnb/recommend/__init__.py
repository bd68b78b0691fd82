"""Recommendation: popularity, item-item collaborative filtering (SAR family), EASE and a category fallback.

All models share one interface: ``fit(interactions)`` on a sparse customers x items matrix, then
``recommend(customer_ids, k, exclude_seen)`` returning a tidy DataFrame ``customer_id, rank, item_id, score``.
Scoring runs in batches of customers, so no dense customers x items matrix is ever built.
Offline evaluation follows Microsoft Recommenders' conventions (stratified split, metric definitions).

One module per concern: ``interactions``, ``splits``, ``models`` (no plotting), ``metrics``, ``rerank``,
``explain``, ``pipeline`` (tuning, evaluation, final lists), ``decision`` (personalised vs bestsellers, paired
bootstrap), ``events`` (weighted behaviour events vs purchases only), ``tables``, ``plots``.
"""

from __future__ import annotations

from cxnb.constants import DEFAULT_K
from cxnb.recommend.decision import (
    Decision,
    advice_markdown,
    advice_values,
    baseline_recommendations,
    bootstrap_mean_interval,
    decide,
    paired_decision,
    personal_model,
    points,
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
from cxnb.recommend.events import (
    EventsComparison,
    compare_events,
    compare_events_run,
    events_markdown,
    events_table,
    events_values,
    export_events,
    training_events,
)
from cxnb.recommend.explain import explain
from cxnb.recommend.interactions import (
    Interactions,
    behaviour_events,
    build_interactions,
    check_recommendation_inputs,
    interaction_weights,
)
from cxnb.recommend.metrics import (
    beyond_accuracy_metrics,
    catalogue_coverage,
    intra_list_diversity,
    novelty,
    ranking_metrics,
)
from cxnb.recommend.models import (
    EASE,
    CategoryPopularity,
    ItemItemCF,
    Popularity,
    Recommender,
    cooccurrence_similarity,
)
from cxnb.recommend.pipeline import (
    Evaluation,
    available_models,
    cold_start_metrics,
    customer_groups,
    diversity_summary,
    evaluate_recommenders,
    evaluate_run,
    final_recommendations,
    fit_model,
    hyperparameter_grid,
    item_categories_of,
    make_model,
    recommendation_metrics,
    sample_customers,
    tune,
    validation_split,
)
from cxnb.recommend.plots import plot_accuracy_diversity, plot_model_comparison
from cxnb.recommend.rerank import accuracy_diversity_curve, mmr_rerank
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
    diversity_values,
    examples_table,
    metric_label,
    metrics_table,
    model_label,
    sample_text,
    skipped_models_text,
    split_table,
)

__all__ = [
    "BASELINE", "BEYOND_METRICS", "CategoryPopularity", "DEFAULT_K", "Decision", "EASE", "EASE_ITEM_LIMIT",
    "EASE_LAMBDA_GRID", "EVAL_SAMPLE_CUSTOMERS", "Evaluation", "EventsComparison", "FALLBACK_REASONS", "HALF_LIFE_GRID",
    "HYPERPARAMETERS", "Interactions", "ItemItemCF", "MIN_CUSTOMERS", "MIN_ITEMS", "MMR_LAMBDAS", "MODELS",
    "PROBE_ITEMS", "Popularity", "RANKING_METRICS", "Recommender", "SCORE_BATCH_CELLS", "SIMILARITIES",
    "UNKNOWN_CATEGORY", "accuracy_diversity_curve", "advice_markdown", "advice_values", "available_models",
    "baseline_recommendations", "behaviour_events", "beyond_accuracy_metrics", "bootstrap_mean_interval",
    "build_interactions", "catalogue_coverage", "check_recommendation_inputs", "chosen_hyperparameters",
    "cold_start_metrics", "cold_start_table", "compare_events", "compare_events_run", "cooccurrence_similarity",
    "customer_groups", "decide", "diversity_summary", "diversity_values", "evaluate_recommenders",
    "evaluate_run", "events_markdown", "events_table", "events_values", "examples_table", "explain",
    "export_events", "final_recommendations", "fit_model", "hyperparameter_grid", "interaction_weights",
    "intra_list_diversity", "item_categories_of", "lines_in_order", "make_model", "metric_label",
    "metrics_table", "mmr_rerank", "model_label", "novelty", "paired_decision", "personal_model",
    "plot_accuracy_diversity", "plot_model_comparison", "points", "ranking_metrics", "recommendation_metrics",
    "relevant_items", "sample_text", "sample_customers", "skipped_models_text", "split_table", "split_transactions", "stratified_split",
    "time_cutoff", "time_split", "training_events", "tune", "validation_split",
]
