"""The customer-needs charts: distributions, RFM segments (customers and revenue) and the R×F grid."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxnb.i18n import t
from cxnb.profile.tables import rfm_label
from cxnb.viz import axes_or_new


def plot_distributions(profiles: pd.DataFrame, language: str = "en"):
    """Histograms of days since last order, orders per customer and spend per customer (log scale where skewed)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    cols = [("days_since_last_order", "ra.hist_recency", False), ("frequency", "ra.hist_frequency", True),
            ("monetary", "ra.hist_monetary", True)]
    cols = [c for c in cols if profiles[c[0]].notna().any()]
    fig, axes = plt.subplots(1, len(cols), figsize=(4.2 * len(cols), 3.8))
    for ax, (col, key, log) in zip(np.atleast_1d(axes), cols, strict=True):
        sns.histplot(profiles[col].clip(lower=1e-9) if log else profiles[col], ax=ax, log_scale=log, bins=40)
        ax.set(title=t(key, language), xlabel=t(f"{key}_x", language), ylabel=t("ra.axis_customers", language))
        if log:  # 1, 10, 100, 1,000 rather than 10⁰, 10¹, ...
            ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    fig.tight_layout()
    return fig


def plot_rfm_segments(summary: pd.DataFrame, language: str = "en", ax=None):
    """Share of customers next to share of revenue for every RFM segment."""
    import seaborn as sns

    cols = ["share_customers"] + (["share_revenue"] if summary["share_revenue"].notna().any() else [])
    long = summary.melt(id_vars="rfm_segment", value_vars=cols, var_name="measure", value_name="share")
    long["measure"] = long["measure"].map({c: t(f"ra.{c}", language) for c in cols})
    long["rfm_segment"] = [rfm_label(n, language) for n in long["rfm_segment"]]
    ax = axes_or_new(ax, (9, 4.5))
    sns.barplot(long, y="rfm_segment", x="share", hue="measure", ax=ax)
    ax.set(title=t("ra.chart_segments", language), xlabel=t("ra.axis_share", language), ylabel="")
    ax.legend(title="")
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
    ax.figure.tight_layout()
    return ax


def plot_rfm_grid(grid: pd.DataFrame, min_group_size: int = 1, language: str = "en", ax=None):
    """Heatmap of customers per R and F score; suppressed (missing) cells are blank and marked '< n'."""
    import seaborn as sns

    values = grid.astype("float64")
    ax = axes_or_new(ax, (6, 4.5))
    sns.heatmap(values, annot=True, fmt=".0f", cmap="Blues", ax=ax, cbar=False)
    ax.grid(False)
    for i, j in zip(*np.nonzero(values.isna().to_numpy()), strict=True):
        ax.text(j + 0.5, i + 0.5, f"< {min_group_size}", ha="center", va="center", color="grey")
    ax.set(title=t("ra.chart_grid", language), xlabel=t("ra.axis_f", language), ylabel=t("ra.axis_r", language))
    ax.figure.tight_layout()
    return ax
