"""The customer-needs charts: distributions, RFM segments (customers and revenue) and the R×F grid."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxnb.i18n import t
from cxnb.profile.tables import rfm_label


def plot_distributions(profiles: pd.DataFrame, language: str = "en"):
    """Histograms of days since last order, orders per customer and spend per customer (log scale where skewed)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    cols = [("days_since_last_order", t("ra.hist_recency", language), False),
            ("frequency", t("ra.hist_frequency", language), True), ("monetary", t("ra.hist_monetary", language), True)]
    cols = [c for c in cols if profiles[c[0]].notna().any()]
    fig, axes = plt.subplots(1, len(cols), figsize=(4.2 * len(cols), 3.8))
    for ax, (col, title, log) in zip(np.atleast_1d(axes), cols, strict=True):
        sns.histplot(profiles[col].clip(lower=1e-9) if log else profiles[col], ax=ax, log_scale=log, bins=40)
        ax.set(title=title, xlabel="", ylabel=t("ra.axis_customers", language))
    fig.tight_layout()
    return fig


def plot_rfm_segments(summary: pd.DataFrame, language: str = "en"):
    """Share of customers next to share of revenue for every RFM segment."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    cols = ["share_customers"] + (["share_revenue"] if summary["share_revenue"].notna().any() else [])
    long = summary.melt(id_vars="rfm_segment", value_vars=cols, var_name="measure", value_name="share")
    long["measure"] = long["measure"].map({c: t(f"ra.{c}", language) for c in cols})
    long["rfm_segment"] = [rfm_label(n, language) for n in long["rfm_segment"]]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    sns.barplot(long, y="rfm_segment", x="share", hue="measure", ax=ax)
    ax.set(title=t("ra.chart_segments", language), xlabel=t("ra.axis_share", language), ylabel="")
    ax.legend(title="")
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
    fig.tight_layout()
    return fig


def plot_rfm_grid(grid: pd.DataFrame, min_group_size: int = 1, language: str = "en"):
    """Heatmap of customers per R and F score; suppressed (missing) cells are blank and marked '< n'."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    values = grid.astype("float64")
    fig, ax = plt.subplots(figsize=(6, 4.5))
    sns.heatmap(values, annot=True, fmt=".0f", cmap="Blues", ax=ax, cbar=False)
    ax.grid(False)
    for i, j in zip(*np.nonzero(values.isna().to_numpy()), strict=True):
        ax.text(j + 0.5, i + 0.5, f"< {min_group_size}", ha="center", va="center", color="grey")
    ax.set(title=t("ra.chart_grid", language), xlabel=t("ra.axis_f", language), ylabel=t("ra.axis_r", language))
    fig.tight_layout()
    return fig
