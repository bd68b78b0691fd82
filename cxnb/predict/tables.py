"""The report's tables, functions of the fitted result, with their column headers in the report language."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxnb.i18n import t, text_of
from cxnb.predict.logit import top_reasons
from cxnb.predict.metrics import MODELS
from cxnb.predict.trees import tree_rules

PERFORMANCE_COLUMNS = ["model", "auc", "auc_ci", "auc_cv_mean", "auc_cv_sd", "top_decile_lift", "accuracy",
                       "precision", "recall", "f1", "brier"]
GRADE_COLUMNS = ["model", "auc", "auc_ci", "auc_gain_vs_rule", "gain_ci", "grade"]
EFFECT_COLUMNS = ["feature", "unit", "odds_ratio", "or_ci_low", "or_ci_high", "p_value", "ame"]
RULE_COLUMNS = ["rule", "customers", "rate"]


def headed(df: pd.DataFrame, columns: list[str], language: str = "en") -> pd.DataFrame:
    """``df[columns]`` with each header replaced by its ``bp.col.<column>`` message."""
    return df[columns].rename(columns={c: t(f"bp.col.{c}", language) for c in columns})


def model_name(model: str, language: str = "en") -> str:
    """The readable name of ``model`` (one of ``MODELS``) in ``language``."""
    return t(f"bp.model.{model}", language)


def _interval(ci) -> str:
    return f"{ci[0]:.3f}–{ci[1]:.3f}" if isinstance(ci, list) else ""


def performance_frame(result, language: str = "en") -> pd.DataFrame:
    """One row per model (then the recency rule and the majority baseline) with the held-out and CV figures."""
    rows = [{"model": model_name(m, language), **result.scores[m]} for m in MODELS]
    if result.rule:
        rows.append({"model": t("bp.model.recency_rule", language, rule=result.rule.describe(language)),
                     **result.rule_scores})
    rows.append({"model": t("bp.model.baseline", language), **result.baseline})
    table = pd.DataFrame(rows)
    table["auc_ci"] = [_interval(c) for c in table["auc_ci"]]
    return table


def performance_table(result, language: str = "en") -> pd.DataFrame:
    """Held-out and cross-validated scores per model, the recency rule and the baseline."""
    return headed(performance_frame(result, language), PERFORMANCE_COLUMNS, language)


def grade_table(result, language: str = "en") -> pd.DataFrame:
    """Per model: held-out AUC with its interval, the AUC gain over the recency rule with its paired bootstrap
    interval, and the grade."""
    rows = []
    for m in MODELS:
        s = result.scores[m]
        gain = s["auc_gain_vs_rule"] is not None
        interval = t("bp.gain_interval", language, low=f"{s['gain_ci_low']:+.3f}",
                     high=f"{s['gain_ci_high']:+.3f}") if gain else ""
        rows.append({"model": model_name(m, language), "auc": s["auc"], "auc_ci": _interval(s["auc_ci"]),
                     "auc_gain_vs_rule": s["auc_gain_vs_rule"] if gain else np.nan, "gain_ci": interval,
                     "grade": s["grade"]})
    return headed(pd.DataFrame(rows), GRADE_COLUMNS, language)


def effects_frame(result, language: str = "en") -> pd.DataFrame:
    """The logistic regression's coefficient table with each feature and its unit in ``language``."""
    labels = result.encoder.labels(language)
    table = result.logit.table
    return table.assign(feature=[labels.get(c, c) for c in table["term"]],
                        unit=[text_of(u, language) for u in table["unit"]])


def effects_table(result, language: str = "en") -> pd.DataFrame:
    """Odds ratios with 95% CI, p-values and average marginal effects, strongest first."""
    return headed(effects_frame(result, language), EFFECT_COLUMNS, language)


def overlap_table(result, language: str = "en") -> pd.DataFrame:
    """Variance inflation factor per feature, highest first."""
    labels = result.encoder.labels(language)
    vif = result.logit.vif
    return headed(vif.assign(feature=[labels.get(c, c) for c in vif["term"]]), ["feature", "vif"], language)


def depth_table(result, language: str = "en") -> pd.DataFrame:
    """Cross-validated AUC of every decision-tree depth tried."""
    return headed(result.tree.depth_scores, ["max_depth", "cv_auc_mean", "cv_auc_sd"], language)


def rules(result, language: str = "en") -> pd.DataFrame:
    """The decision tree's leaves as plain-language rules (training customers), highest rate first."""
    return tree_rules(result.tree, result.X_train, result.y_train, result.encoder.labels(language),
                      result.data.outcome.text(language), language)


def rule_tables(result, language: str = "en", top: int = 6, bottom: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``top`` rules with the highest rates and, without repeating them, the ``bottom`` lowest."""
    found = rules(result, language)
    return (headed(found.head(top), RULE_COLUMNS, language),
            headed(found.iloc[max(top, len(found) - bottom):], RULE_COLUMNS, language))


def importance_frame(result, language: str = "en") -> pd.DataFrame:
    """Random-forest permutation importance with the features named in ``language``."""
    labels = result.encoder.labels(language)
    table = result.importance()
    return table.assign(feature=[labels.get(c, c) for c in table["term"]])


def named_models(frame: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """A long table of ``result.gains()`` or ``result.calibration()`` with the models named in ``language``."""
    return frame.assign(model=[model_name(m, language) for m in frame["model"]])


def score_customers(result, n_reasons: int = 3, language: str = "en") -> pd.DataFrame:
    """The scored customer list the client receives: id, probability, decile (1 = highest) and the top reasons in
    ``language`` (the column names stay English, they are the export contract)."""
    scores = result.scores_frame()
    reasons = top_reasons(result.logit, result.score_features(), result.encoder.labels(language), n_reasons,
                          language)
    out = scores.assign(top_reasons=reasons.to_numpy())
    return out.sort_values(["decile", "probability"], ascending=[True, False], ignore_index=True)


def decile_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Customers and mean / min / max probability per score decile (1 = most likely)."""
    g = scores.groupby("decile")["probability"]
    return pd.DataFrame({"customers": g.size(), "mean_probability": g.mean(), "lowest": g.min(),
                         "highest": g.max()}).reset_index()


def decile_table(result, language: str = "en") -> pd.DataFrame:
    """Customers and probabilities per score decile."""
    deciles = decile_summary(result.scores_frame())
    return headed(deciles, ["decile", "customers", "mean_probability", "lowest", "highest"], language)
