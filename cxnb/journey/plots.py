"""Charts of the journey stage: funnel, cohort triangle, retention curves, lifecycle bars (``ax=None``)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.ticker import FuncFormatter, PercentFormatter

from cxnb.i18n import t
from cxnb.journey.periods import period_label
from cxnb.journey.pipeline import JourneyResult
from cxnb.journey.tables import step_name

STATUS_COLOURS = {"new": "#1b9e77", "returning": "#7570b3", "resurrected": "#e6ab02", "dormant": "#bdbdbd"}


def _axes(ax, size=(8, 4.5)):
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def plot_funnel(result: JourneyResult, language: str = "en", ax=None):
    """Customers per step in order within the window (dark) and who ever took the step (light)."""
    s = result.steps
    ax = _axes(ax)
    names = [step_name(types, language) for types in s["event_types"]]
    y = np.arange(len(s))[::-1]
    ax.barh(y, s["ever_customers"], color="#c6dbef", label=t("cj.plot.ever", language))
    ax.barh(y, s["customers"], color="#2171b5", label=t("cj.plot.ordered", language, window=f"{result.funnel.window_days:g}"))
    for yi, n, ever, rate in zip(y, s["customers"], s["ever_customers"], s["overall_conversion"], strict=True):
        ax.text(max(n, ever), yi, f"  {n:,} ({rate:.1%})", va="center", fontsize=10)
    ax.set_yticks(y, names)
    ax.set_xlabel(t("cj.plot.customers", language))
    ax.set_title(t("cj.plot.funnel_title", language))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, frameon=False)
    ax.set_xlim(0, max(s["ever_customers"].max(), 1) * 1.3)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    return ax


def _triangle(result: JourneyResult, value: str):
    grid = result.retention.pivot_table(index="cohort", columns="offset", values=value, aggfunc="first")
    grid.index = [period_label(c, result.period) for c in grid.index]
    return grid


def plot_retention_heatmap(result: JourneyResult, language: str = "en", ax=None):
    """The cohort triangle: share of each cohort buying again in each later period; the partial period hatched."""
    grid = _triangle(result, "retention")
    ax = _axes(ax, (9, max(3.0, 0.32 * len(grid) + 1.5)))
    shown = grid.drop(columns=0, errors="ignore")
    sns.heatmap(shown, ax=ax, cmap="Blues", vmin=0, vmax=max(float(np.nanmax(shown.to_numpy())), 0.01) if shown.size else 1,
                annot=len(shown.columns) <= 13, fmt=".0%", cbar_kws={"format": PercentFormatter(1.0)},
                linewidths=0.3, linecolor="white")
    ax.grid(False)
    if result.last_partial:
        cohorts = result.retention.drop_duplicates("cohort")["cohort"].to_list()
        for row, cohort in enumerate(cohorts):
            col = result.last_period - cohort
            if col >= 1 and col in shown.columns:
                ax.add_patch(plt.Rectangle((list(shown.columns).index(col), row), 1, 1, fill=False, hatch="///",
                                           edgecolor="#888888", lw=0))
    unit = t(f"cj.period.{result.period}", language)
    ax.set_xlabel(t("cj.plot.offset", language, unit=unit))
    ax.set_ylabel(t("cj.plot.cohort", language, unit=unit))
    ax.set_title(t("cj.plot.retention_title", language))
    return ax


def plot_retention_curves(result: JourneyResult, language: str = "en", ax=None):
    """One thin line per cohort and the size-weighted average curve over complete periods."""
    ax = _axes(ax)
    done = result.retention[(result.retention["period"] <= result.complete_until) & (result.retention["offset"] > 0)]
    for _, cohort in done.groupby("cohort"):
        ax.plot(cohort["offset"], cohort["retention"], color="#9ecae1", lw=0.8, alpha=0.7)
    avg = result.average[result.average["offset"] > 0]
    ax.plot(avg["offset"], avg["retention"], color="#08519c", lw=2.5, marker="o", label=t("cj.plot.average", language))
    unit = t(f"cj.period.{result.period}", language)
    ax.set_xlabel(t("cj.plot.offset", language, unit=unit))
    ax.set_ylabel(t("cj.plot.returning_share", language))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, None)
    ax.set_title(t("cj.plot.curves_title", language))
    ax.legend(frameon=False)
    return ax


def plot_lifecycle(result: JourneyResult, language: str = "en", ax=None, last: int = 24):
    """Stacked bars per period: new, returning and resurrected customers up, dormant ones down."""
    lc = result.lifecycle.tail(last)
    ax = _axes(ax, (10, 4.5))
    x = np.arange(len(lc))
    bottom = np.zeros(len(lc))
    for status in ("new", "returning", "resurrected"):
        ax.bar(x, lc[status], bottom=bottom, color=STATUS_COLOURS[status], label=t(f"cj.status.{status}", language))
        bottom += lc[status].to_numpy()
    ax.bar(x, -lc["dormant"], color=STATUS_COLOURS["dormant"], label=t("cj.status.dormant", language))
    labels = [period_label(p, result.period) for p in lc["period"]]
    if result.last_partial and len(lc) and lc["period"].iloc[-1] == result.last_period:
        labels[-1] += f"\n({t('cj.partial_short', language)})"
        for patch in ax.patches:
            if abs(patch.get_x() + patch.get_width() / 2 - x[-1]) < 1e-6:
                patch.set_hatch("///")
    step = max(1, len(x) // 12)
    ax.set_xticks(x[::step], labels[::step], rotation=45, ha="right")
    ax.axhline(0, color="#444444", lw=0.8)
    ax.set_ylabel(t("cj.plot.customers", language))
    ax.set_title(t("cj.plot.lifecycle_title", language))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):,.0f}"))
    ax.legend(ncol=4, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.25), fontsize=9)
    return ax
