"""Tables and sentences of the recommendation report (text in the report language, at the edge)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxnb.constants import (
    COL_CUSTOMER,
)
from cxnb.i18n import t
from cxnb.recommend.defaults import HYPERPARAMETERS, RANKING_METRICS
from cxnb.recommend.pipeline import Evaluation


def model_label(name: str, language: str = "en") -> str:
    """The model's name for the report."""
    return t(f"rec.model.{name}", language)


def metric_label(column: str, language: str = "en") -> str:
    """Report header of a metric column: ``precision@10`` -> the catalogue's ``rec.metric.precision`` at k = 10."""
    metric, _, k = column.partition("@")
    return t(f"rec.metric.{metric}", language, k=k)


def split_table(evaluation: Evaluation, language: str = "en") -> pd.DataFrame:
    """What the train/test split holds, one row per figure."""
    keys = ("n_train_lines", "n_test_lines", "n_items", "n_users_evaluated", "n_test_customers_without_history",
            "n_test_items_unseen_in_train", "n_test_pairs")
    return pd.DataFrame({t("rec.col.figure", language): [t(f"rec.split_info.{key}", language) for key in keys],
                         t("rec.col.value", language): [evaluation.info[key] for key in keys]})


def sample_text(evaluation: Evaluation, language: str = "en") -> str:
    """The sentence saying the metrics were computed on a sample of customers ('' when every customer was)."""
    n = evaluation.info.get("n_users_sampled")
    if n is None:
        return ""
    return t("rec.sampled", language, n=f"{n:,}", eligible=f"{evaluation.info['n_users_eligible']:,}")


def skipped_models_text(evaluation: Evaluation, language: str = "en") -> str:
    """One line per model left out and why, or the catalogue's 'none'."""
    skipped = evaluation.info["skipped_models"]
    if not skipped:
        return t("rec.none", language)
    return "; ".join(f"{model_label(name, language)}: {why}" for name, why in skipped.items())


def chosen_hyperparameters(evaluation: Evaluation, language: str = "en") -> pd.DataFrame:
    """Each model's best validation candidate: its hyperparameters and validation metrics, report headers."""
    k = evaluation.k
    val = evaluation.validation
    best = val.loc[val.groupby("model", sort=False)[f"ndcg@{k}"].idxmax()]
    params = [c for c in HYPERPARAMETERS if c in val.columns and val[c].notna().any()]
    shown = best[["model", *params, *[f"{m}@{k}" for m in RANKING_METRICS]]].copy()
    for col in params:
        shown[col] = [_hyperparameter_text(name, col, value, language) for name, value in zip(
            shown["model"], shown[col], strict=True)]
    shown["model"] = shown["model"].map(lambda name: model_label(name, language))
    names = {"model": t("rec.col.model", language)} | {c: t(f"rec.col.{c}", language) for c in params}
    return shown.rename(columns=names | {c: metric_label(c, language) for c in shown.columns[1 + len(params):]})


def _hyperparameter_text(model: str, name: str, value, language: str) -> str:
    """A chosen hyperparameter as shown: ``–`` when the model has none, "no decay" for item_cf without one."""
    if model == "item_cf" and name == "half_life_days" and pd.isna(value):
        return t("rec.no_decay", language)
    if pd.isna(value):
        return "–"
    return f"{value:g}" if isinstance(value, float | np.floating) else str(value)


def metrics_table(evaluation: Evaluation, language: str = "en") -> pd.DataFrame:
    """Every model's test metrics with report headers and model names."""
    m = evaluation.metrics.reset_index()
    m["model"] = m["model"].map(lambda name: model_label(name, language))
    return m.rename(columns={"model": t("rec.col.model", language)} | {
        c: metric_label(c, language) for c in m.columns if c != "model"})


def diversity_values(diversity: dict, curve: pd.DataFrame, k: int, language: str = "en") -> dict:
    """Placeholders of ``rec.diversity_result``."""
    return {"model": model_label(diversity["model"], language), "lam": diversity["lambda"],
            "before": diversity["diversity_before"], "after": diversity["diversity"],
            "cost": diversity["precision_cost"],
            "cost_share": diversity["precision_cost"] / curve[f"precision@{k}"].iloc[0]}


def cold_start_table(cold: dict, language: str = "en") -> pd.DataFrame:
    """Accuracy of each fallback on test customers without history (empty when there were none)."""
    rows = {model_label(name, language): cold[name] for name in ("popularity", "category") if name in cold}
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis(t("rec.col.model", language))
    return table.rename(columns=lambda c: metric_label(c, language)).reset_index()


def examples_table(export: pd.DataFrame, language: str = "en", n_customers: int = 3) -> pd.DataFrame:
    """The export's lists for the first ``n_customers`` customers, with report headers."""
    first = export[COL_CUSTOMER].drop_duplicates().iloc[:n_customers]
    shown = export[export[COL_CUSTOMER].isin(first)]
    return shown.rename(columns={c: t(f"rec.col.{c}", language) for c in shown.columns})
