"""The report's tables: fitted results with their column headers in the report language."""

from __future__ import annotations

import pandas as pd

from cxnb.i18n import t
from cxnb.predict.logit import LogitModel
from cxnb.predict.trees import TreeModel

PERFORMANCE_COLUMNS = ["model", "auc", "auc_ci", "auc_cv_mean", "auc_cv_sd", "top_decile_lift", "accuracy",
                       "precision", "recall", "f1", "brier"]
GRADE_COLUMNS = ["model", "auc", "auc_ci", "auc_gain_vs_rule", "gain_ci", "grade"]
EFFECT_COLUMNS = ["feature", "unit", "odds_ratio", "or_ci_low", "or_ci_high", "p_value", "ame"]
RULE_COLUMNS = ["rule", "customers", "rate"]


def headed(df: pd.DataFrame, columns: list[str], language: str = "en") -> pd.DataFrame:
    """``df[columns]`` with each header replaced by its ``bp.col.<column>`` message."""
    return df[columns].rename(columns={c: t(f"bp.col.{c}", language) for c in columns})


def performance_table(metrics_table: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """Held-out and cross-validated scores per model (``PredictionResult.metrics_table()``)."""
    return headed(metrics_table, PERFORMANCE_COLUMNS, language)


def grade_table(grade_frame: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """AUC, gain over the recency rule with its interval, and grade per model (``PredictionResult.grade_frame()``)."""
    return headed(grade_frame, GRADE_COLUMNS, language)


def effects_table(logit: LogitModel, language: str = "en") -> pd.DataFrame:
    """Odds ratios with 95% CI, p-values and average marginal effects, strongest first."""
    return headed(logit.table, EFFECT_COLUMNS, language)


def overlap_table(logit: LogitModel, language: str = "en") -> pd.DataFrame:
    """Variance inflation factor per feature, highest first."""
    return headed(logit.vif, ["feature", "vif"], language)


def depth_table(tree: TreeModel, language: str = "en") -> pd.DataFrame:
    """Cross-validated AUC of every decision-tree depth tried."""
    return headed(tree.depth_scores, ["max_depth", "cv_auc_mean", "cv_auc_sd"], language)


def rule_tables(rules: pd.DataFrame, language: str = "en", top: int = 6,
                bottom: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``top`` rules with the highest rates and, without repeating them, the ``bottom`` lowest."""
    return (headed(rules.head(top), RULE_COLUMNS, language),
            headed(rules.iloc[max(top, len(rules) - bottom):], RULE_COLUMNS, language))


def decile_table(deciles: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """Customers and probabilities per score decile (``decile_summary``)."""
    return headed(deciles, ["decile", "customers", "mean_probability", "lowest", "highest"], language)
