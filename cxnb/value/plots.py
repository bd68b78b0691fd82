"""Charts of the customer-value stage: holdout by calibration frequency, cumulative tracking, value concentration."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FuncFormatter, PercentFormatter

from cxnb.i18n import t
from cxnb.value.pipeline import TOP_SHARE, ValueResult
from cxnb.value.tables import predictor_name
from cxnb.viz import axes_or_new as _axes

ACTUAL, MODEL, NAIVE = "#222222", "#2171b5", "#e6550d"




def plot_frequency_backtest(result: ValueResult, language: str = "en", ax=None):
    """Mean holdout purchases by number of calibration repeat purchases: actual, the chosen model, the past rate."""
    bt = result.backtest
    by = bt.by_frequency()
    ax = _axes(ax)
    x = by["frequency"].to_numpy()
    ax.plot(x, by["actual"], color=ACTUAL, marker="o", lw=2, label=t("cv.plot.actual", language))
    ax.plot(x, by[bt.chosen], color=MODEL, marker="s", lw=2, label=predictor_name(bt.chosen, language))
    ax.plot(x, by["past_rate"], color=NAIVE, marker="^", lw=1.2, ls="--", label=predictor_name("past_rate", language))
    labels = [f"{f}+" if f == x.max() and f >= 7 else str(f) for f in x]
    ax.set_xticks(x, labels)
    ax.set_xlabel(t("cv.plot.calibration_purchases", language))
    ax.set_ylabel(t("cv.plot.holdout_mean", language, days=bt.split.holdout_days))
    ax.set_title(t("cv.plot.frequency_title", language))
    ax.legend(frameon=False)
    return ax


def plot_tracking(result: ValueResult, language: str = "en", ax=None):
    """Cumulative repeat purchases of the calibration customers week by week: actual and expected by the chosen
    model fitted on the calibration period; the holdout begins at the dashed line."""
    bt = result.backtest
    tr = bt.tracking
    ax = _axes(ax)
    ax.plot(tr["day"], tr["actual"], color=ACTUAL, lw=2, label=t("cv.plot.actual", language))
    ax.plot(tr["day"], tr["expected"], color=MODEL, lw=2, ls="--", label=predictor_name(bt.chosen, language))
    ax.axvline(bt.split.cutoff, color="#888888", ls=":", lw=1.2)
    ax.text(bt.split.cutoff, ax.get_ylim()[1] * 0.97, "  " + t("cv.plot.holdout_starts", language), va="top",
            fontsize=9, color="#555555")
    ax.set_ylabel(t("cv.plot.cumulative", language))
    ax.set_title(t("cv.plot.tracking_title", language))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.legend(frameon=False, loc="upper left")
    ax.figure.autofmt_xdate()
    return ax


def plot_concentration(result: ValueResult, language: str = "en", ax=None):
    """Share of the predicted value held by the most valuable customers (customers sorted by CLV)."""
    clv = np.sort(result.customers["clv"].to_numpy())[::-1]
    ax = _axes(ax, (6.5, 4.5))
    share_customers = np.arange(1, len(clv) + 1) / len(clv)
    share_value = np.cumsum(clv) / clv.sum()
    ax.plot(np.r_[0, share_customers], np.r_[0, share_value], color=MODEL, lw=2)
    ax.plot([0, 1], [0, 1], color="#bbbbbb", ls="--", lw=1, label=t("cv.plot.equal", language))
    ax.axvline(TOP_SHARE, color="#888888", ls=":", lw=1)
    ax.annotate(t("cv.plot.top_share", language, share=f"{result.concentration:.0%}"),
                (TOP_SHARE, result.concentration), xytext=(10, -20), textcoords="offset points", fontsize=10)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(t("cv.plot.share_customers", language))
    ax.set_ylabel(t("cv.plot.share_value", language))
    ax.set_title(t("cv.plot.concentration_title", language))
    ax.legend(frameon=False, loc="lower right")
    return ax
