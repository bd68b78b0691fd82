"""The page itself: the data in a paragraph, the headline charts, what to do next, one card per stage."""

from __future__ import annotations

import html
from pathlib import Path

from cxnb.config import Params
from cxnb.constants import STAGES
from cxnb.i18n import t
from cxnb.summary.actions import actions
from cxnb.summary.charts import headline_charts
from cxnb.summary.entries import skipped_reason, too_few_customers
from cxnb.summary.figures import headline_figures
from cxnb.summary.findings import findings
from cxnb.summary.text import format_value


def write_index(run_dir: Path, params: Params, metrics: dict) -> Path:
    """Write ``index.html``: the data in a paragraph, the headline charts, what to do next, then one card per stage
    with findings, figures and a link."""
    lang, min_size = params.language, params.privacy.min_group_size
    currency = params.report.currency
    said = findings(metrics, lang, min_size, currency)
    cards = []
    for stage, rows in headline_figures(metrics, lang, min_size).items():
        stem = STAGES[stage]
        title = t(f"stage.{stage}", lang)
        body = ""
        reason = skipped_reason(metrics, stage)
        if reason is not None:
            body = f"<p class='skipped'>{html.escape(t('common.skipped', lang, reason=reason))}</p>"
        else:
            if stage != "data_quality":
                body += "".join(f"<p class='finding'>{html.escape(s)}</p>" for s in said.get(stage, []))
            if rows:
                body += "<table>" + "".join(
                    f"<tr><th>{html.escape(label)}</th><td data-metric='{stage}.{html.escape(key)}'>"
                    f"{html.escape(format_value(value, key, lang, currency))}</td></tr>" for key, label, value in rows) + "</table>"
        link = (f"<a href='{stem}.html'>{html.escape(t('common.open_report', lang))}</a>"
                if (run_dir / f"{stem}.html").exists() else "")
        cards.append(f"<section class='card'><h2>{html.escape(title)}</h2>{body}{link}</section>")
    charts = [] if too_few_customers(metrics, min_size) else headline_charts(metrics, lang, min_size)
    charts_html = (f"<section class='charts'><h2>{html.escape(t('summary.charts_heading', lang))}</h2>"
                   f"<div class='grid'>{''.join(c.html() for c in charts)}</div></section>" if charts else "")
    todo = actions(metrics, lang, min_size)
    actions_html = (f"<section class='actions'><h2>{html.escape(t('summary.actions_heading', lang))}</h2><ul>"
                    + "".join(f"<li>{html.escape(a)}</li>" for a in todo) + "</ul></section>" if todo else "")
    heading = t("summary.title", lang, title=params.title or params.client)
    intro = " ".join(said.get("data_quality", []))
    page = f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8"><title>{html.escape(heading)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; max-width: 60em;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.5; }}
.intro {{ font-size: 1.15em; }}
.card {{ border: 1px solid #ddd; border-radius: 6px; padding: 0.5em 1.5em 1em; margin: 1em 0; }}
.finding {{ font-size: 1.08em; margin: 0.4em 0; }}
table {{ margin: 0.8em 0; border-collapse: collapse; }}
th {{ text-align: left; font-weight: normal; color: #555; padding: 0.1em 2em 0.1em 0; }}
td {{ font-weight: bold; }} .skipped {{ color: #a60; }}
.actions {{ background: #f4f8fc; border-left: 4px solid #08519c; padding: 0.3em 1.5em 0.6em; margin: 1em 0; }}
.actions li {{ margin: 0.35em 0; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(26em, 1fr)); gap: 1em; }}
.chart {{ margin: 0; border: 1px solid #ddd; border-radius: 6px; padding: 0.6em; }}
.chart figcaption {{ font-weight: bold; margin-bottom: 0.3em; }}
.chart img {{ width: 100%; height: auto; display: block; }}
@media print {{ body {{ max-width: none; }} .card, .chart {{ break-inside: avoid; border-color: #999; }} a {{ color: #000; }} }}
</style></head>
<body><h1>{html.escape(heading)}</h1>
<p class="intro">{html.escape(intro)}</p>
{charts_html}
{actions_html}
{''.join(cards)}
</body></html>
"""
    path = run_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
