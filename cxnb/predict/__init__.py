"""Behaviour prediction: who will buy (or churn) next, why, and how much better than guessing.

Label from a time split of the purchases or from a customers-table column; statsmodels logistic
regression, a cross-validated decision tree and a random forest benchmark; honest held-out and
cross-validated evaluation; a scored customer list with reasons.
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
from cxnb.predict.pipeline import (
    MODELS,
    PredictionResult,
    check_classes,
    decile_summary,
    notes_markdown,
    predict_behavior,
    score_customers,
)
from cxnb.predict.tables import (
    decile_table,
    depth_table,
    effects_table,
    grade_table,
    overlap_table,
    performance_table,
    rule_tables,
)
from cxnb.predict.trees import TreeModel, fit_forest, fit_tree, forest_importance, tree_rules

__all__ = [
    "MODELS", "FeatureEncoder", "LogitModel", "PredictionData", "PredictionResult", "TreeModel", "auc_ci",
    "binary_label", "calibration_table", "check_classes", "check_prediction_inputs", "collinear_columns",
    "cv_auc", "dataset_from_run", "decile_summary", "decile_table", "depth_table", "effects_table", "evaluate",
    "fit_forest", "fit_logit", "fit_tree", "forest_importance", "gains_table", "given_dataset", "grade_table", "horizon_dataset",
    "horizon_labels", "notes_markdown", "outcome_summary", "overlap_table", "performance_table", "predict_behavior",
    "resolve_label_source", "rule_tables", "score_customers", "top_decile_lift", "top_reasons", "tree_rules",
    "vif_table",
]
