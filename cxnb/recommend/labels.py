"""Names of the models and metrics as the report shows them."""

from __future__ import annotations

from cxnb.i18n import t


def model_label(name: str, language: str = "en") -> str:
    """The model's name for the report."""
    return t(f"rec.model.{name}", language)


def metric_label(column: str, language: str = "en") -> str:
    """Report header of a metric column: ``precision@10`` -> the catalogue's ``rec.metric.precision`` at k = 10."""
    metric, _, k = column.partition("@")
    return t(f"rec.metric.{metric}", language, k=k)
