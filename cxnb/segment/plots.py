"""Charts of the segmentation stage (every function returns a figure; none is called by the model)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from sklearn.decomposition import PCA

from cxnb.constants import SEED
from cxnb.i18n import t
from cxnb.profile import feature_label
from cxnb.segment.model import Segmentation, _sample_rows
from cxnb.segment.naming import _standardized
from cxnb.viz import colour_segment_labels, segment_palette

SCATTER_POINTS = 4_000


def plot_k_selection(seg: Segmentation, language: str = "en"):
    """Elbow (inertia) and silhouette against k side by side, the chosen k marked."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    sns.lineplot(seg.scores, x="k", y="inertia", marker="o", ax=left)
    left.set(title=t("seg.chart.elbow_title", language), ylabel=t("seg.chart.elbow_y", language))
    sns.lineplot(seg.scores, x="k", y="silhouette", marker="o", ax=right)
    right.set(title=t("seg.chart.silhouette_title", language), ylabel=t("seg.chart.silhouette_y", language))
    for ax in (left, right):
        ax.axvline(seg.k, ls="--", color="grey")
        ax.set_xticks(seg.scores["k"])
        ax.set_xlabel(t("seg.chart.k_axis", language))
    right.annotate(t("seg.chart.chosen_k", language, k=seg.k), (seg.k, seg.silhouette), xytext=(8, -14),
                   textcoords="offset points")
    fig.tight_layout()
    return fig


def plot_centroid_heatmap(centroids: pd.DataFrame, names: pd.DataFrame, language: str = "en"):
    """Standardized centroid of each segment (features as rows): red above average, blue below."""
    table = centroids.T.rename(columns=names.set_index("segment")["label"],
                               index=lambda f: feature_label(f, language))
    fig, ax = plt.subplots(figsize=(1.6 * table.shape[1] + 4, 0.42 * table.shape[0] + 1.5))
    lim = max(1.0, float(np.nanmax(np.abs(table.to_numpy()))))
    sns.heatmap(table, cmap="RdBu_r", center=0, vmin=-lim, vmax=lim, annot=True, fmt=".1f",
                cbar_kws={"label": t("seg.chart.heatmap_bar", language)}, ax=ax)
    ax.set(xlabel="", ylabel="", title=t("seg.chart.heatmap_title", language))
    ax.tick_params(axis="x", rotation=20)
    colour_segment_labels(ax.get_xticklabels(), segment_palette(names["label"]))
    return fig


def segment_map(features: pd.DataFrame, seg: Segmentation, shown_names: pd.Series,
                random_state: int = SEED) -> pd.DataFrame:
    """2-D PCA coordinates of a seeded sample of customers with their reported segment name."""
    common = shown_names.index
    rows = _sample_rows(len(common), SCATTER_POINTS, random_state)
    z = _standardized(seg.model, features.loc[common[rows]])
    xy = PCA(2, random_state=random_state).fit_transform(z.to_numpy())
    return pd.DataFrame({"pc1": xy[:, 0], "pc2": xy[:, 1], "segment_name": shown_names.iloc[rows].to_numpy()})


def plot_segment_map(coords: pd.DataFrame, palette: dict, language: str = "en"):
    """Customers on the first two principal components, coloured by segment."""
    fig, ax = plt.subplots(figsize=(8, 6))
    order = [n for n in palette if n in set(coords["segment_name"])]
    sns.scatterplot(coords, x="pc1", y="pc2", hue="segment_name", hue_order=order, palette=palette, s=12, alpha=0.6,
                    linewidth=0, ax=ax)
    ax.set(xlabel=t("seg.chart.pc", language, n=1), ylabel=t("seg.chart.pc", language, n=2),
           title=t("seg.chart.map_title", language))
    ax.legend(title=t("seg.chart.legend", language), fontsize=9, markerscale=2)
    return fig


def plot_segment_value(summary: pd.DataFrame, language: str = "en"):
    """Share of customers against share of revenue per segment (names from ``summary['label']``)."""
    cols = [c for c in ("share_customers", "share_revenue") if c in summary.columns]
    long = summary.melt(id_vars="label", value_vars=cols, var_name="measure", value_name="share")
    long["measure"] = long["measure"].map({c: t(f"seg.chart.{c}", language) for c in cols})
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(summary) * len(cols) + 1.5))
    sns.barplot(long, y="label", x="share", hue="measure", palette=["#4d4d4d", "#b3b3b3"][:len(cols)], ax=ax)
    colour_segment_labels(ax.get_yticklabels(), segment_palette(summary["label"]))
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set(xlabel=t("seg.chart.value_x", language), ylabel="", title=t("seg.chart.value_title", language))
    ax.legend(title="")
    return fig
