"""Charts of the recommendation report, functions of the result (``ax=None``: a new figure; returns the axes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import seaborn as sns

from cxnb.i18n import t
from cxnb.recommend.labels import metric_label, model_label

if TYPE_CHECKING:
    from cxnb.recommend.pipeline import RecommendationResult


def plot_model_comparison(result: RecommendationResult, language: str = "en", ax: plt.Axes | None = None) -> plt.Axes:
    """Grouped bars: precision, recall, NDCG, hit rate, coverage and diversity per model."""
    evaluation = result.evaluation
    k = evaluation.k
    cols = [f"precision@{k}", f"recall@{k}", f"ndcg@{k}", f"hit_rate@{k}", "coverage", "diversity"]
    long = evaluation.metrics[cols].rename(columns=lambda c: metric_label(c, language)).rename(
        index=lambda name: model_label(name, language)).rename_axis("model").reset_index().melt(
        "model", var_name="metric", value_name="value")
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 5))
    sns.barplot(long, x="metric", y="value", hue="model", ax=ax)
    ax.set(title=t("rec.chart.comparison_title", language), xlabel="", ylabel=t("rec.chart.value", language))
    ax.legend(title=t("rec.col.model", language), loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3,
              frameon=False)
    ax.figure.tight_layout()
    return ax


def plot_accuracy_diversity(result: RecommendationResult, language: str = "en",
                            ax: plt.Axes | None = None) -> plt.Axes | None:
    """precision@k against intra-list diversity for each MMR λ (None when the items have no category)."""
    curve, k = result.diversity.curve, result.k
    if curve.empty:
        return None
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    sns.lineplot(curve, x="diversity", y=f"precision@{k}", marker="o", ax=ax)
    for _, row in curve.iterrows():
        ax.annotate(f"λ={row['lambda']:.1f}", (row["diversity"], row[f"precision@{k}"]),
                    textcoords="offset points", xytext=(4, 4), fontsize=9)
    ax.set(title=t("rec.chart.tradeoff_title", language), xlabel=t("rec.chart.tradeoff_x", language),
           ylabel=metric_label(f"precision@{k}", language))
    ax.figure.tight_layout()
    return ax
