"""Charts of the behaviour prediction report (seaborn/matplotlib)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from sklearn.tree import plot_tree


def plot_gains_lift(gains, base_rate: float):
    """Cumulative gains (left) and lift (right) against the share of customers targeted."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    sns.lineplot(gains, x="share_targeted", y="gain", hue="model", ax=left)
    left.plot([0, 1], [0, 1], ls="--", color="grey", label="random targeting")
    left.set(xlabel="share of customers targeted (highest score first)", ylabel="share of positives reached",
             title="Cumulative gains")
    left.legend(fontsize=9)
    sns.lineplot(gains[gains["share_targeted"] >= 0.05], x="share_targeted", y="lift", hue="model", ax=right,
                 legend=False)
    right.axhline(1, ls="--", color="grey")
    right.set(xlabel="share of customers targeted", ylabel="lift over random",
              title=f"Lift (base rate {base_rate:.1%})")
    fig.tight_layout()
    return fig


def plot_calibration(calibration):
    """Observed rate against predicted probability; the diagonal is perfect calibration."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    sns.lineplot(calibration, x="predicted", y="observed", hue="model", marker="o", ax=ax)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="perfect")
    ax.set(xlabel="predicted probability", ylabel="observed rate", title="Calibration (held-out customers)",
           xlim=(0, 1), ylim=(0, 1))
    ax.legend(fontsize=9)
    return fig


def plot_odds_ratios(table, top: int = 15):
    """Odds ratios with 95% CI of the strongest effects, on a log scale."""
    shown = table.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(shown) + 1.2))
    has_ci = shown["or_ci_low"].notna()
    ax.errorbar(shown["odds_ratio"], range(len(shown)), fmt="o",
                xerr=[(shown["odds_ratio"] - shown["or_ci_low"]).where(has_ci, 0),
                      (shown["or_ci_high"] - shown["odds_ratio"]).where(has_ci, 0)])
    ax.axvline(1, ls="--", color="grey")
    ax.set_xscale("log")
    low = np.nanmin(shown[["odds_ratio", "or_ci_low"]].to_numpy())
    high = np.nanmax(shown[["odds_ratio", "or_ci_high"]].to_numpy())
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if low / 2 <= t <= high * 2]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_yticks(range(len(shown)), shown["feature"])
    ax.set(xlabel="odds ratio (log scale; 1 = no effect)", title="Strongest effects (logistic regression)")
    return fig


def plot_decision_tree(tree, labels: dict[str, str], class_names=("no", "yes"), max_depth: int = 3):
    """The first ``max_depth`` levels of the fitted decision tree, with readable feature names."""
    depth = min(tree.get_depth(), max_depth)
    fig, ax = plt.subplots(figsize=(4 * 2 ** depth * 0.75 + 2, 2.2 * depth + 2.5))
    plot_tree(tree, max_depth=max_depth, feature_names=[labels.get(c, c) for c in tree.feature_names_in_],
              class_names=list(class_names), filled=True, proportion=True, impurity=False, rounded=True,
              fontsize=9, ax=ax)
    return fig


def plot_importance(importance, top: int = 15):
    """Permutation importance of the random forest (AUC lost when a feature is shuffled)."""
    shown = importance.head(top)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(shown) + 1.2))
    sns.barplot(shown, x="auc_drop", y="feature", color=sns.color_palette()[0], ax=ax)
    ax.errorbar(shown["auc_drop"], range(len(shown)), xerr=shown["auc_drop_sd"], fmt="none", color="black")
    ax.set(xlabel="drop in AUC when shuffled", ylabel="", title="Random forest: permutation importance")
    return fig
