"""The client's landing page (``index.html``), read from metrics.json through each stage's metrics model.

``entries`` (metrics.json → typed entries), ``figures`` (headline figures per card), ``findings`` (two or three
sentences per stage), ``actions`` ("What to do next"), ``charts`` (headline charts), ``text`` (number formats),
``page`` (``write_index``). Every sentence is generated from figures in the same metrics.json.
"""

from cxnb.summary.actions import actions
from cxnb.summary.charts import Chart, headline_charts, segment_label
from cxnb.summary.entries import MODELS, skipped_reason, too_few_customers, typed_entries
from cxnb.summary.figures import figure_label, headline_figures
from cxnb.summary.findings import data_sentences, findings
from cxnb.summary.page import write_index
from cxnb.summary.text import format_value

__all__ = [
    "MODELS", "Chart", "actions", "data_sentences", "figure_label", "findings", "format_value", "headline_charts",
    "headline_figures", "segment_label", "skipped_reason", "too_few_customers", "typed_entries", "write_index",
]
