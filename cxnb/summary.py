"""The client's landing page (``index.html``): headline figures of every stage, read from metrics.json."""

from __future__ import annotations

import html
from pathlib import Path

from cxnb.config import Params
from cxnb.constants import STAGES

# Headline figures per stage: (dotted key in metrics.json, label).
HEADLINES: dict[str, list[tuple[str, str]]] = {
    "data_quality": [("customers", "customers"), ("orders", "orders"), ("rows_kept", "transaction lines kept"),
                     ("rows_removed", "lines removed by cleaning"), ("revenue", "revenue"),
                     ("first_date", "first date"), ("last_date", "last date")],
    "requirement_analysis": [("customers", "customers profiled"), ("median_orders", "median orders per customer"),
                             ("median_days_since_last_order", "median days since last order"),
                             ("top_segment", "largest RFM segment"), ("champions_share_revenue",
                                                                    "revenue share of Champions")],
    "behavior_prediction": [("logit.auc", "logistic regression AUC"), ("decision_tree.auc", "decision tree AUC"),
                            ("random_forest.auc", "random forest AUC"), ("logit.top_decile_lift", "top-decile lift"),
                            ("base_rate", "base rate")],
    "segmentation": [("k", "segments"), ("silhouette", "silhouette"), ("stability_ari", "stability (ARI)")],
    "recommendation": [("item_cf.precision@10", "item-item CF precision@10"),
                       ("popularity.precision@10", "bestsellers precision@10"), ("ease.precision@10",
                                                                               "EASE precision@10"),
                       ("n_users_evaluated", "customers evaluated")],
}


def metric_value(metrics: dict, stage: str, dotted: str):
    """The value at ``stage`` / dotted key in metrics, or None."""
    node = metrics.get(stage, {})
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def format_value(value) -> str:
    """How a headline figure is printed (tests parse index.html back with ``parse_value``)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def headline_figures(metrics: dict) -> dict[str, list[tuple[str, str, object]]]:
    """Per stage the (key, label, value) headline figures present in metrics."""
    out = {}
    for stage in STAGES:
        rows = []
        for key, label in HEADLINES.get(stage, []):
            value = metric_value(metrics, stage, key)
            if value is not None and not isinstance(value, (dict, list)):
                rows.append((key, label, value))
        out[stage] = rows
    return out


def write_index(run_dir: Path, params: Params, metrics: dict) -> Path:
    """Write ``index.html`` with each stage's headline figures and a link to its report."""
    cards = []
    for stage, rows in headline_figures(metrics).items():
        stem = STAGES[stage]
        title = stage.replace("_", " ").capitalize()
        body = ""
        if "skipped" in metrics.get(stage, {}):
            body = f"<p class='skipped'>Skipped: {html.escape(str(metrics[stage]['skipped']))}</p>"
        elif rows:
            body = "<table>" + "".join(
                f"<tr><th>{html.escape(label)}</th><td data-metric='{stage}.{html.escape(key)}'>"
                f"{html.escape(format_value(value))}</td></tr>" for key, label, value in rows) + "</table>"
        link = f"<a href='{stem}.html'>Open the full report</a>" if (run_dir / f"{stem}.html").exists() else ""
        cards.append(f"<section class='card'><h2>{html.escape(title)}</h2>{body}{link}</section>")
    page = f"""<!DOCTYPE html>
<html lang="{params.language}"><head><meta charset="utf-8"><title>{html.escape(params.title or params.client)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60em; margin: 2em auto; color: #222; }}
.card {{ border: 1px solid #ddd; border-radius: 6px; padding: 1em 1.5em; margin: 1em 0; }}
th {{ text-align: left; font-weight: normal; color: #555; padding-right: 2em; }}
td {{ font-weight: bold; }} .skipped {{ color: #a60; }}
@media print {{ .card {{ break-inside: avoid; }} a {{ color: #000; }} }}
</style></head>
<body><h1>{html.escape(params.title or params.client)}</h1>
{''.join(cards)}
</body></html>
"""
    path = run_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
