"""Charts of the recommendation report."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from cxnb.i18n import t
from cxnb.recommend.pipeline import Evaluation
from cxnb.recommend.tables import metric_label, model_label


def plot_model_comparison(evaluation: Evaluation, language: str = "en") -> plt.Figure:
    """Grouped bars: precision, recall, NDCG, hit rate, coverage and diversity per model."""
    k = evaluation.k
    cols = [f"precision@{k}", f"recall@{k}", f"ndcg@{k}", f"hit_rate@{k}", "coverage", "diversity"]
    long = evaluation.metrics[cols].rename(columns=lambda c: metric_label(c, language)).rename(
        index=lambda name: model_label(name, language)).rename_axis("model").reset_index().melt(
        "model", var_name="metric", value_name="value")
    fig, ax = plt.subplots(figsize=(10, 5))
    sns.barplot(long, x="metric", y="value", hue="model", ax=ax)
    ax.set(title=t("rec.chart.comparison_title", language), xlabel="", ylabel=t("rec.chart.value", language))
    ax.legend(title=t("rec.col.model", language), loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3,
              frameon=False)
    fig.tight_layout()
    return fig


def plot_accuracy_diversity(curve: pd.DataFrame, k: int, language: str = "en") -> plt.Figure:
    """precision@k against intra-list diversity for each MMR λ."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    sns.lineplot(curve, x="diversity", y=f"precision@{k}", marker="o", ax=ax)
    for _, row in curve.iterrows():
        ax.annotate(f"λ={row['lambda']:.1f}", (row["diversity"], row[f"precision@{k}"]),
                    textcoords="offset points", xytext=(4, 4), fontsize=9)
    ax.set(title=t("rec.chart.tradeoff_title", language), xlabel=t("rec.chart.tradeoff_x", language),
           ylabel=metric_label(f"precision@{k}", language))
    fig.tight_layout()
    return fig
