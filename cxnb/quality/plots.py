"""The data-quality chart: monthly volume and active customers, the last partial month marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from cxnb.i18n import t

if TYPE_CHECKING:
    import matplotlib.pyplot as plt


def plot_activity(activity: pd.DataFrame, language: str = "en") -> plt.Figure:
    """Monthly orders (or lines) and active customers, one panel each (matplotlib is imported here, so that
    ``cxnb validate`` does not load it)."""
    import matplotlib.pyplot as plt

    volume = "orders" if "orders" in activity.columns else "lines"
    what = t(f"dq.{volume}", language)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    full = activity[~activity["partial"]] if "partial" in activity else activity
    partial = activity[activity["partial"]] if "partial" in activity else activity.iloc[:0]
    for ax, column, colour in ((axes[0], volume, "C0"), (axes[1], "customers", "C1")):
        ax.plot(full["period"], full[column], marker="o", color=colour)
        if not partial.empty:  # the last, incomplete period: hollow and dashed, labelled
            ax.plot(activity["period"].iloc[-2:], activity[column].iloc[-2:], linestyle=":", color=colour)
            ax.plot(partial["period"], partial[column], marker="o", mfc="white", color=colour, linestyle="none",
                    label=t("dq.partial_period", language))
            ax.legend(loc="lower left", frameon=False)
    axes[0].set(title=t("dq.chart_volume", language, what=what), xlabel=t("dq.axis_month", language), ylabel=what)
    axes[1].set(title=t("dq.chart_customers", language), xlabel=t("dq.axis_month", language),
                ylabel=t("dq.axis_customers", language))
    for ax in axes:
        ax.tick_params(axis="x", rotation=45)
        ax.set_ylim(bottom=0)
    fig.tight_layout()
    return fig
