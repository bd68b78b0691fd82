"""Behaviour prediction: who will buy (or churn) next, why, and how much better than guessing.

Label from a time split of the purchases or from a customers-table column; statsmodels logistic
regression, a cross-validated decision tree and a random forest benchmark; honest held-out and
cross-validated evaluation; a scored customer list with reasons.

The stage: ``check(run)``, ``run_stage(run, config) -> PredictionResult``, ``result.metrics() -> PredictionMetrics``.
Computation (``data``, ``features``, ``logit``, ``trees``, ``evaluate``, ``baselines``, ``pipeline``) returns
message keys and values; ``tables``, ``sentences`` and ``plots`` (imported on its own: matplotlib) translate.
"""

from cxnb.predict.data import (
    PredictionData,
    binary_label,
    check_prediction_inputs,
    dataset_from_run,
    given_dataset,
    horizon_dataset,
    horizon_labels,
    outcome_summary,
    resolve_label_source,
)
from cxnb.predict.evaluate import auc_ci, calibration_table, cv_auc, evaluate, gains_table, top_decile_lift
from cxnb.predict.features import FeatureEncoder
from cxnb.predict.logit import LogitModel, collinear_columns, fit_logit, top_reasons, vif_table
from cxnb.predict.metrics import MODELS, Gains, ModelScores, PredictionMetrics
from cxnb.predict.pipeline import PredictionResult, check, check_classes, predict_behavior, run_stage
from cxnb.predict.sentences import (
    grade_intro,
    grade_sentences,
    majority_message,
    majority_note,
    notes_markdown,
    outcome_line,
    scored_line,
)
from cxnb.predict.tables import (
    decile_summary,
    decile_table,
    depth_table,
    effects_frame,
    effects_table,
    grade_table,
    importance_frame,
    model_name,
    named_models,
    overlap_table,
    performance_frame,
    performance_table,
    rule_tables,
    rules,
    score_customers,
)
from cxnb.predict.trees import CV_FOLDS, TreeModel, fit_forest, fit_tree, forest_importance, tree_rules

__all__ = [
    "CV_FOLDS", "MODELS", "FeatureEncoder", "Gains", "LogitModel", "ModelScores", "PredictionData",
    "PredictionMetrics", "PredictionResult", "TreeModel", "auc_ci", "binary_label", "calibration_table", "check",
    "check_classes", "check_prediction_inputs", "collinear_columns", "cv_auc", "dataset_from_run", "decile_summary",
    "decile_table", "depth_table", "effects_frame", "effects_table", "evaluate", "fit_forest", "fit_logit",
    "fit_tree", "forest_importance", "gains_table", "given_dataset", "grade_intro", "grade_sentences", "grade_table",
    "horizon_dataset", "horizon_labels", "importance_frame", "majority_message", "majority_note", "model_name",
    "named_models", "notes_markdown", "outcome_line", "outcome_summary", "overlap_table", "performance_frame",
    "performance_table", "predict_behavior", "resolve_label_source", "rule_tables", "rules", "run_stage",
    "score_customers", "scored_line", "top_decile_lift", "top_reasons", "tree_rules", "vif_table",
]
