"""Charts of the behaviour prediction report (seaborn/matplotlib), functions of the fitted result, titled and
labelled in the report language."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from sklearn.tree import plot_tree

from cxnb.i18n import t
from cxnb.predict.tables import effects_frame, importance_frame, named_models


def plot_gains_lift(result, language: str = "en"):
    """Cumulative gains (left) and lift (right) against the share of customers targeted."""
    gains, base_rate = named_models(result.gains(), language), result.base_rate
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    sns.lineplot(gains, x="share_targeted", y="gain", hue="model", ax=left)
    left.plot([0, 1], [0, 1], ls="--", color="grey", label=t("bp.chart.random_targeting", language))
    left.set(xlabel=t("bp.chart.share_targeted_first", language), ylabel=t("bp.chart.share_reached", language),
             title=t("bp.chart.gains_title", language))
    left.legend(fontsize=9, title=t("bp.chart.legend_model", language), title_fontsize=9)
    sns.lineplot(gains[gains["share_targeted"] >= 0.05], x="share_targeted", y="lift", hue="model", ax=right,
                 legend=False)
    right.axhline(1, ls="--", color="grey")
    right.set(xlabel=t("bp.chart.share_targeted", language), ylabel=t("bp.chart.lift", language),
              title=t("bp.chart.lift_title", language, base_rate=f"{base_rate:.1%}"))
    fig.tight_layout()
    return fig


def plot_calibration(result, language: str = "en"):
    """Observed rate against predicted probability; the diagonal is perfect calibration."""
    calibration = named_models(result.calibration(), language)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    sns.lineplot(calibration, x="predicted", y="observed", hue="model", marker="o", ax=ax)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label=t("bp.chart.perfect", language))
    ax.set(xlabel=t("bp.chart.predicted", language), ylabel=t("bp.chart.observed", language),
           title=t("bp.chart.calibration_title", language), xlim=(0, 1), ylim=(0, 1))
    ax.legend(fontsize=9, title=t("bp.chart.legend_model", language), title_fontsize=9)
    return fig


def plot_odds_ratios(result, top: int = 15, language: str = "en"):
    """Odds ratios with 95% CI of the strongest effects, on a log scale."""
    shown = effects_frame(result, language).head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(shown) + 1.2))
    has_ci = shown["or_ci_low"].notna()
    ax.errorbar(shown["odds_ratio"], range(len(shown)), fmt="o",
                xerr=[(shown["odds_ratio"] - shown["or_ci_low"]).where(has_ci, 0),
                      (shown["or_ci_high"] - shown["odds_ratio"]).where(has_ci, 0)])
    ax.axvline(1, ls="--", color="grey")
    ax.set_xscale("log")
    low = np.nanmin(shown[["odds_ratio", "or_ci_low"]].to_numpy())
    high = np.nanmax(shown[["odds_ratio", "or_ci_high"]].to_numpy())
    ticks = [x for x in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if low / 2 <= x <= high * 2]
    ax.set_xticks(ticks, [f"{x:g}" for x in ticks])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_yticks(range(len(shown)), shown["feature"])
    ax.set(xlabel=t("bp.chart.odds_axis", language), title=t("bp.chart.odds_title", language))
    return fig


def plot_decision_tree(result, max_depth: int = 2, language: str = "en"):
    """The first levels (root + ``max_depth``) of the fitted decision tree, with readable feature names and
    node text (samples, value, class, true/false) in ``language``."""
    tree, labels = result.tree.model, result.encoder.labels(language)
    depth = min(tree.get_depth(), max_depth)
    fig, ax = plt.subplots(figsize=(2.6 * 2 ** depth + 1, 1.9 * depth + 2))
    nodes = plot_tree(tree, max_depth=max_depth, feature_names=[labels.get(c, c) for c in tree.feature_names_in_],
                      class_names=[t("bp.chart.tree_no", language), t("bp.chart.tree_yes", language)], filled=True,
                      proportion=True, impurity=False, rounded=True, fontsize=10, ax=ax)
    words = {f"{w} = ": f"{t(f'bp.chart.tree_{w}', language)} = " for w in ("samples", "value", "class")}
    edges = {"True": t("bp.chart.tree_true", language), "False": t("bp.chart.tree_false", language)}
    for node in nodes:
        text = node.get_text()
        for english, shown in words.items():
            text = text.replace(english, shown)
        node.set_text(text.replace(text.strip(), edges[text.strip()]) if text.strip() in edges else text)
    return fig


def plot_importance(result, top: int = 15, language: str = "en"):
    """Permutation importance of the random forest (AUC lost when a feature is shuffled)."""
    shown = importance_frame(result, language).head(top)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(shown) + 1.2))
    sns.barplot(shown, x="auc_drop", y="feature", color=sns.color_palette()[0], ax=ax)
    ax.errorbar(shown["auc_drop"], range(len(shown)), xerr=shown["auc_drop_sd"], fmt="none", color="black")
    ax.set(xlabel=t("bp.chart.importance_axis", language), ylabel="", title=t("bp.chart.importance_title", language))
    return fig
