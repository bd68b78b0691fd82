"""Charts of the behaviour prediction report (seaborn/matplotlib), functions of the fitted result, titled and
labelled in the report language."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from cxnb.i18n import t
from cxnb.predict.tables import effects_frame, importance_frame, named_models
from cxnb.viz import axes_or_new, percent_axes


def plot_gains_lift(result, language: str = "en"):
    """Cumulative gains (left) and lift (right) against the share of customers targeted."""
    gains, base_rate = named_models(result.gains(), language), result.base_rate
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    sns.lineplot(gains, x="share_targeted", y="gain", hue="model", ax=left)
    left.plot([0, 1], [0, 1], ls="--", color="grey", label=t("bp.chart.random_targeting", language))
    left.set(xlabel=t("bp.chart.share_targeted_first", language), ylabel=t("bp.chart.share_reached", language),
             title=t("bp.chart.gains_title", language))
    left.legend(fontsize=9, title=t("bp.chart.legend_model", language), title_fontsize=9)
    sns.lineplot(gains[gains["share_targeted"] >= 0.05], x="share_targeted", y="lift", hue="model", ax=right,
                 legend=False)
    right.axhline(1, ls="--", color="grey")
    right.set(xlabel=t("bp.chart.share_targeted", language), ylabel=t("bp.chart.lift", language),
              title=t("bp.chart.lift_title", language, base_rate=f"{base_rate:.1%}"))
    percent_axes(left.xaxis, left.yaxis, right.xaxis)
    fig.tight_layout()
    return fig


def plot_calibration(result, language: str = "en", ax=None):
    """Observed rate against predicted probability; the diagonal is perfect calibration."""
    calibration = named_models(result.calibration(), language)
    ax = axes_or_new(ax, (5.5, 5))
    sns.lineplot(calibration, x="predicted", y="observed", hue="model", marker="o", ax=ax)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label=t("bp.chart.perfect", language))
    ax.set(xlabel=t("bp.chart.predicted", language), ylabel=t("bp.chart.observed", language),
           title=t("bp.chart.calibration_title", language), xlim=(0, 1), ylim=(0, 1))
    percent_axes(ax.xaxis, ax.yaxis)
    ax.legend(fontsize=9, title=t("bp.chart.legend_model", language), title_fontsize=9)
    return ax


def plot_odds_ratios(result, top: int = 15, language: str = "en", ax=None):
    """Odds ratios with 95% CI of the strongest effects, on a log scale."""
    shown = effects_frame(result, language).head(top).iloc[::-1]
    ax = axes_or_new(ax, (8, 0.35 * len(shown) + 1.2))
    has_ci = shown["or_ci_low"].notna()
    ax.errorbar(shown["odds_ratio"], range(len(shown)), fmt="o",
                xerr=[(shown["odds_ratio"] - shown["or_ci_low"]).where(has_ci, 0),
                      (shown["or_ci_high"] - shown["odds_ratio"]).where(has_ci, 0)])
    ax.axvline(1, ls="--", color="grey")
    ax.set_xscale("log")
    low = np.nanmin(shown[["odds_ratio", "or_ci_low"]].to_numpy())
    high = np.nanmax(shown[["odds_ratio", "or_ci_high"]].to_numpy())
    ticks = [x for x in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if low / 2 <= x <= high * 2]
    ax.set_xticks(ticks, [f"{x:g}" for x in ticks])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_yticks(range(len(shown)), shown["feature"])
    ax.set(xlabel=t("bp.chart.odds_axis", language), title=t("bp.chart.odds_title", language))
    return ax


QUESTION_WIDTH = 30  # characters per line of a node's question
NEGATIVE_RGB, POSITIVE_RGB = (0.90, 0.51, 0.24), (0.22, 0.62, 0.90)  # orange: mostly no, blue: mostly yes


def _text_inches(fig, text: str, fontsize: float) -> float:
    """Width in inches of the widest line of ``text`` as ``fig`` draws it."""
    from matplotlib.font_manager import FontProperties

    renderer, font = fig.canvas.get_renderer(), FontProperties(size=fontsize)
    return max(renderer.get_text_width_height_descent(line, font, ismath=False)[0]
               for line in text.split("\n")) / fig.dpi


def _threshold(value: float) -> str:
    """A split threshold as a client reads it: counts split at 7.5 read "≤ 7", others with 3 significant digits."""
    if float(value * 2).is_integer() and not float(value).is_integer():
        return f"{int(np.floor(value)):,}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _question(column: str, threshold: float, labels: dict[str, str], language: str) -> str:
    """The split of a node as a yes/no question; "yes" goes left."""
    if "=" in column:  # a one-hot level: left (≤ 0.5) holds the customers without it
        variable, level = column.split("=", 1)
        return t("bp.rule.is_not", language, variable=variable, level=level)
    return f"{labels.get(column, column)} ≤ {_threshold(threshold)}"


def _node_colour(positive: float) -> tuple[float, float, float]:
    """Orange for mostly negative, blue for mostly positive, paler the closer to half and half."""
    strength = min(abs(2 * positive - 1), 1.0) * 0.85
    base = POSITIVE_RGB if positive >= 0.5 else NEGATIVE_RGB
    return tuple(1 - strength * (1 - c) for c in base)


def _drawn_nodes(tree, max_depth: int) -> tuple[dict[int, tuple[float, int]], list[tuple[int, int, bool]]]:
    """Position (x in bottom-row slots, depth) of every node down to ``max_depth``, and the edges (parent,
    child, is_left); a parent sits above the middle of its children."""
    nodes, places, edges, slot = tree.tree_, {}, [], [0]

    def place(node: int, depth: int) -> float:
        left, right = nodes.children_left[node], nodes.children_right[node]
        if left == -1 or depth == max_depth:
            x, slot[0] = float(slot[0]), slot[0] + 1
        else:
            x = (place(left, depth + 1) + place(right, depth + 1)) / 2
            edges.extend([(node, left, True), (node, right, False)])
        places[node] = (x, depth)
        return x

    place(0, 0)
    return places, edges


def plot_decision_tree(result, max_depth: int = 2, language: str = "en"):
    """The first levels (root + ``max_depth``) of the prediction's decision tree, with readable feature names."""
    return plot_tree_levels(result.tree.model, result.encoder.labels(language), max_depth, language)


def plot_tree_levels(tree, labels: dict[str, str], max_depth: int = 2, language: str = "en"):
    """The first levels (root + ``max_depth``) of a fitted decision tree: each box asks its split as a question
    and gives its share of the training customers and of positives; boxes are sized to their text and spaced
    so that none overlaps."""
    nodes = tree.tree_
    places, edges = _drawn_nodes(tree, max_depth)
    names = list(tree.feature_names_in_)
    texts = {}
    for node in places:
        counts = nodes.value[node][0]
        positive = float(counts[1] / counts.sum())
        share = nodes.n_node_samples[node] / nodes.n_node_samples[0]
        lines = [t("bp.chart.tree_customers", language, share=f"{share:.0%}"),
                 t("bp.chart.tree_positive", language, share=f"{positive:.0%}")]
        if nodes.children_left[node] != -1:
            question = _question(names[nodes.feature[node]], nodes.threshold[node], labels, language)
            lines.insert(0, textwrap.fill(question, QUESTION_WIDTH, break_long_words=False))
        texts[node] = ("\n".join(lines), positive)
    slots = max(x for x, _ in places.values()) + 1
    depth = max(d for _, d in places.values())
    fontsize = 10
    lines = max(text.count("\n") + 1 for text, _ in texts.values())
    fig, ax = plt.subplots(figsize=(4, (0.25 * lines + 0.95) * depth + 1.3))
    widest = max(_text_inches(fig, text, fontsize) for text, _ in texts.values())
    fig.set_size_inches(max(slots * (widest + 0.45) / 0.98, 4), fig.get_size_inches()[1])  # padding and a gap
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.9)  # the axes span the figure's width
    ax.set(xlim=(-0.5, slots - 0.5), ylim=(depth + 0.45, -0.45))
    ax.axis("off")
    for parent, child, left in edges:
        (x0, y0), (x1, y1) = places[parent], places[child]
        ax.annotate("", (x1, y1 - 0.28), (x0, y0 + 0.28), arrowprops={"arrowstyle": "->", "color": "#666"})
        label = t("bp.chart.tree_true" if left else "bp.chart.tree_false", language)
        ax.text((x0 + x1) / 2, (y0 + y1) / 2, label, ha="center", va="center", fontsize=fontsize - 1,
                color="#444", bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})
    for node, (x, y) in places.items():
        text, positive = texts[node]
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, linespacing=1.35,
                bbox={"boxstyle": "round,pad=0.4", "fc": _node_colour(positive), "ec": "#888"})
        if nodes.children_left[node] != -1 and node not in {p for p, _, _ in edges}:
            ax.text(x, y + 0.36, "⋮", ha="center", va="top", fontsize=fontsize, color="#888")
    ax.set_title(t("bp.chart.tree_title", language, levels=depth + 1), fontsize=fontsize + 1)
    return fig


def plot_importance(result, top: int = 15, language: str = "en", ax=None):
    """Permutation importance of the random forest (AUC lost when a feature is shuffled)."""
    shown = importance_frame(result, language).head(top)
    ax = axes_or_new(ax, (8, 0.35 * len(shown) + 1.2))
    sns.barplot(shown, x="auc_drop", y="feature", color=sns.color_palette()[0], ax=ax)
    ax.errorbar(shown["auc_drop"], range(len(shown)), xerr=shown["auc_drop_sd"], fmt="none", color="black")
    ax.set(xlabel=t("bp.chart.importance_axis", language), ylabel="", title=t("bp.chart.importance_title", language))
    return ax
