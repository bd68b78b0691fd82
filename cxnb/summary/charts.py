"""The headline charts of ``index.html``: small PNGs drawn from metrics.json alone, embedded as data URIs (the page
opens offline, without JavaScript); no chart shows a group smaller than ``privacy.min_group_size``."""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass

from cxnb.i18n import t
from cxnb.journey.metrics import JourneyMetrics
from cxnb.predict.metrics import PredictionMetrics
from cxnb.profile.metrics import NeedsMetrics
from cxnb.summary.entries import typed_entries
from cxnb.value.metrics import ValueMetrics

FIGSIZE = (5.6, 3.5)
DPI = 130
MAX_SEGMENTS = 10


@dataclass(frozen=True)
class Chart:
    """One headline chart: its name, title, alt text and PNG bytes."""

    key: str
    title: str
    alt: str
    png: bytes

    def html(self) -> str:
        """The chart as an HTML figure with the PNG inline; title and alt text escaped."""
        uri = "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")
        return (f"<figure class='chart' data-chart='{self.key}'><figcaption>{html.escape(self.title)}</figcaption>"
                f"<img src=\"{uri}\" alt=\"{html.escape(self.alt, quote=True)}\"></figure>")


def _pct(x: float) -> str:
    return f"{x:.0%}" if x >= 0.1 or x == 0 else f"{x:.1%}"


def segment_label(name: str, language: str = "en") -> str:
    """An RFM segment's name in the report language; a name outside the catalogue is shown as it is."""
    from cxnb.privacy import OTHER
    from cxnb.profile import RFM_SEGMENT_RULES, rfm_label

    known = {n for n, _, _ in RFM_SEGMENT_RULES} | {OTHER}
    return rfm_label(name, language) if name in known else str(name)


def rfm_rows(m: NeedsMetrics, min_group_size: int = 1) -> list[tuple[str, int, float, float | None]]:
    """(segment, customers, share of customers, share of revenue) of the RFM segments with at least
    ``min_group_size`` customers, largest first (at most ``MAX_SEGMENTS``)."""
    total = m.customers
    revenue = m.rfm_segment_share_revenue or {}
    sizes = {k: v for k, v in m.rfm_segments.items() if v >= min_group_size}
    if not total or not sizes:
        return []
    ordered = sorted(sizes, key=lambda k: -sizes[k])[:MAX_SEGMENTS]
    return [(k, sizes[k], sizes[k] / total, revenue.get(k)) for k in ordered]


TOP = 0.2  # a curve is drawn only when its point at the top 20% may be shown


def _shows_the_top(points: list[tuple[float, float]]) -> bool:
    """Whether a curve kept enough points to tell its story: its first one at most ``TOP``, and another."""
    return len(points) >= 2 and points[0][0] <= TOP


def gains_points(m: PredictionMetrics, min_group_size: int = 1) -> tuple[str, list[float], list[float]] | None:
    """(best model, shares targeted, gains) of the best model's cumulative gains curve, from (0, 0); points
    that target fewer than ``min_group_size`` held-out customers are left out (no curve without the top 20%)."""
    best = m.best_model()
    gains = getattr(m, best).gains
    kept = [(s, g) for s, g in zip(gains.share_targeted, gains.gain, strict=True) if s * m.n_test >= min_group_size]
    if not _shows_the_top(kept):
        return None
    return best, [0.0] + [s for s, _ in kept], [0.0] + [g for _, g in kept]


def funnel_steps(j: JourneyMetrics, min_group_size: int = 1) -> list[tuple[str, int]]:
    """(step, customers) of the funnel steps reached by at least ``min_group_size`` customers."""
    steps = [(s.name, s.customers) for s in (j.funnel or []) if s.customers >= min_group_size]
    return steps if len(steps) >= 2 else []


def value_points(v: ValueMetrics, min_group_size: int = 1) -> tuple[list[float], list[float]] | None:
    """(shares of customers, shares of predicted value) of the concentration curve, from (0, 0); points that
    describe fewer than ``min_group_size`` customers are left out."""
    curve = v.concentration_curve
    if curve is None:
        return None
    kept = [(s, x) for s, x in zip(curve.share_customers, curve.share_value, strict=True)
            if s * v.customers >= min_group_size]
    if not _shows_the_top(kept):
        return None
    return [0.0] + [s for s, _ in kept], [0.0] + [x for _, x in kept]


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _axes():
    """A figure and its axes outside pyplot (no backend, nothing left open)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE)
    return fig, fig.subplots()


def _percent_axis(axis) -> None:
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def _note(ax, x: float, y: float, text: str) -> None:
    """Point out one figure of a curve (the one the alt text and the actions quote)."""
    ax.annotate(text, (x, y), xytext=(14, -4), textcoords="offset points", fontsize=10, va="top",
                arrowprops={"arrowstyle": "-", "color": "#555", "lw": 0.8})


def rfm_chart(m: NeedsMetrics, language: str, min_group_size: int = 1) -> Chart | None:
    """Share of customers next to share of revenue per RFM segment."""
    import numpy as np

    rows = rfm_rows(m, min_group_size)
    if not rows:
        return None
    labels = [segment_label(r[0], language) for r in rows][::-1]
    customers = [r[2] for r in rows][::-1]
    revenue = [r[3] for r in rows][::-1]
    has_revenue = any(x is not None for x in revenue)
    fig, ax = _axes()
    y = np.arange(len(rows))
    height = 0.4 if has_revenue else 0.7
    ax.barh(y + (height / 2 if has_revenue else 0), customers, height, label=t("summary.chart.rfm_customers", language))
    if has_revenue:
        ax.barh(y - height / 2, [x or 0 for x in revenue], height, label=t("summary.chart.rfm_revenue", language))
        ax.legend(loc="lower right", fontsize=10)
    ax.set_yticks(y, labels, fontsize=10)
    _percent_axis(ax.xaxis)
    ax.set_xlabel(t("summary.chart.rfm_axis", language))
    items = [t("summary.chart.rfm_alt_item" if r[3] is not None else "summary.chart.rfm_alt_item_no_revenue",
               language, segment=segment_label(r[0], language), customers=_pct(r[2]),
               revenue=_pct(r[3] or 0)) for r in rows]
    alt = t("summary.chart.rfm_alt", language, items=t("summary.chart.list_sep", language).join(items))
    return Chart("rfm", t("summary.chart.rfm_title", language), alt, _png(fig))


def gains_chart(m: PredictionMetrics, language: str, min_group_size: int = 1) -> Chart | None:
    """The cumulative gains curve of the best model against random targeting."""
    points = gains_points(m, min_group_size)
    if points is None:
        return None
    best, shares, gains = points
    model, grade = t(f"summary.model.{best}", language), getattr(m, best).grade
    who = t("summary.chart.who_given" if m.label_source == "given" else "summary.chart.who_buyers", language)
    fig, ax = _axes()
    ax.plot(shares, gains, marker="o", ms=4, lw=2, label=t("summary.chart.gains_model", language, model=model,
                                                            grade=grade))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label=t("summary.chart.gains_random", language))
    _percent_axis(ax.xaxis)
    _percent_axis(ax.yaxis)
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel=t("summary.chart.gains_x", language),
           ylabel=t("summary.chart.gains_y", language, who=who))
    ax.legend(loc="lower right", fontsize=10)
    at = min(range(1, len(shares)), key=lambda i: abs(shares[i] - 0.1))
    _note(ax, shares[at], gains[at], t("summary.chart.note", language, top=_pct(shares[at]), share=_pct(gains[at])))
    alt = t("summary.chart.gains_alt", language, model=model, grade=grade, top=_pct(shares[at]), gain=_pct(gains[at]),
            who=who)
    return Chart("gains", t("summary.chart.gains_title", language), alt, _png(fig))


def funnel_chart(j: JourneyMetrics, language: str, min_group_size: int = 1) -> Chart | None:
    """Customers reaching each funnel step, with the share of the first step."""
    steps = funnel_steps(j, min_group_size)
    if not steps:
        return None
    from matplotlib.ticker import FuncFormatter

    from cxnb import formats

    names = [s for s, _ in steps]
    counts = [c for _, c in steps]
    fig, ax = _axes()
    bars = ax.barh(range(len(steps))[::-1], counts, 0.65)
    ax.set_yticks(range(len(steps))[::-1], names, fontsize=10)
    ax.bar_label(bars, [f"{formats.number(c, language)} ({_pct(c / counts[0])})" for c in counts], padding=3,
                 fontsize=10)
    ax.set_xlim(0, max(counts) * 1.3)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: formats.number(x, language)))
    ax.set_xlabel(t("summary.chart.funnel_x", language))
    items = [t("summary.chart.funnel_alt_item", language, step=s, customers=formats.number(c, language),
               share=_pct(c / counts[0])) for s, c in steps]
    alt = t("summary.chart.funnel_alt", language, items=t("summary.chart.list_sep", language).join(items))
    return Chart("funnel", t("summary.chart.funnel_title", language), alt, _png(fig))


def retention_chart(j: JourneyMetrics, language: str, min_group_size: int = 1) -> Chart | None:
    """The average retention curve, 1 to 12 periods after the first purchase (cohorts are already at least
    ``min_group_size`` customers)."""
    curve = [x for x in (j.retention_curve or []) if x is not None]
    if len(curve) < 2:
        return None
    unit = t(f"cj.period.{j.period}", language)
    offsets = list(range(1, len(curve) + 1))
    fig, ax = _axes()
    ax.plot(offsets, curve, marker="o", ms=4, lw=2)
    _percent_axis(ax.yaxis)
    ax.set(ylim=(0, max(curve) * 1.15), xticks=offsets, xlabel=t("summary.chart.retention_x", language, unit=unit),
           ylabel=t("summary.chart.retention_y", language))
    alt = t("summary.chart.retention_alt", language, n=len(curve), unit=unit, first=_pct(curve[0]),
            last=_pct(curve[-1]))
    return Chart("retention", t("summary.chart.retention_title", language), alt, _png(fig))


def value_chart(v: ValueMetrics, language: str, min_group_size: int = 1) -> Chart | None:
    """Share of the predicted value held by the top x% of customers, against an even spread."""
    points = value_points(v, min_group_size)
    if points is None:
        return None
    shares, values = points
    fig, ax = _axes()
    ax.plot(shares, values, marker="o", ms=4, lw=2, label=t("summary.chart.value_curve", language))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label=t("summary.chart.value_equal", language))
    _percent_axis(ax.xaxis)
    _percent_axis(ax.yaxis)
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel=t("summary.chart.value_x", language),
           ylabel=t("summary.chart.value_y", language))
    ax.legend(loc="lower right", fontsize=10)
    at = min(range(1, len(shares)), key=lambda i: abs(shares[i] - 0.2))
    _note(ax, shares[at], values[at], t("summary.chart.note", language, top=_pct(shares[at]), share=_pct(values[at])))
    alt = t("summary.chart.value_alt", language, top=_pct(shares[at]), share=_pct(values[at]))
    return Chart("value", t("summary.chart.value_title", language), alt, _png(fig))


def headline_charts(metrics: dict, language: str = "en", min_group_size: int = 1) -> list[Chart]:
    """The charts whose data is in metrics.json: RFM segments, gains of the best model, the funnel (or the
    retention curve without one) and the value concentration, without groups under ``min_group_size``."""
    from cxnb.viz import set_theme

    entries = typed_entries(metrics)
    journey = entries.get("customer_journey")
    makers = [(rfm_chart, entries.get("requirement_analysis")), (gains_chart, entries.get("behavior_prediction")),
              (funnel_chart if journey is not None and funnel_steps(journey, min_group_size) else retention_chart,
               journey), (value_chart, entries.get("customer_value"))]
    if all(m is None for _, m in makers):
        return []
    set_theme()
    charts = (make(m, language, min_group_size) for make, m in makers if m is not None)
    return [c for c in charts if c is not None]
