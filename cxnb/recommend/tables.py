"""Tables of the recommendation report, functions of the result with headers and text in the report language."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cxnb.constants import COL_CUSTOMER, COL_ITEM
from cxnb.i18n import t
from cxnb.recommend.defaults import HYPERPARAMETERS, RANKING_METRICS
from cxnb.recommend.evaluation import Evaluation
from cxnb.recommend.labels import metric_label, model_label
from cxnb.recommend.sentences import events_values

if TYPE_CHECKING:
    from cxnb.recommend.events import EventsComparison
    from cxnb.recommend.pipeline import RecommendationResult

EXPORT_COLUMNS = [COL_CUSTOMER, "rank", COL_ITEM, "item_name", "score", "reason"]


def split_table(evaluation: Evaluation, language: str = "en") -> pd.DataFrame:
    """What the train/test split holds, one row per figure."""
    keys = ("n_train_lines", "n_test_lines", "n_items", "n_users_evaluated", "n_test_customers_without_history",
            "n_test_items_unseen_in_train", "n_test_pairs")
    return pd.DataFrame({t("rec.col.figure", language): [t(f"rec.split_info.{key}", language) for key in keys],
                         t("rec.col.value", language): [evaluation.info[key] for key in keys]})


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


def events_table(comparison: EventsComparison, language: str = "en") -> pd.DataFrame:
    """precision@k of both trainings and their difference with its interval (empty when nothing was compared)."""
    d = comparison.decision
    if d is None or d.difference is None:
        return pd.DataFrame()
    values = events_values(comparison, language)
    rows = {t("rec.events.row.purchases", language): values["purchases"],
            t("rec.events.row.events", language, weights=values["weights"]): values["events"],
            t("rec.events.row.difference", language): t("rec.events.points", language, **values),
            t("rec.events.row.customers", language): values["n"]}
    return pd.DataFrame({t("rec.events.col.training", language): list(rows),
                         metric_label(f"precision@{d.k}", language): list(rows.values())})


def cold_start_table(result: RecommendationResult, language: str = "en") -> pd.DataFrame:
    """Accuracy of each fallback on test customers without history (empty when there were none)."""
    cold = result.cold_start
    rows = {model_label(name, language): getattr(cold, name).model_dump()
            for name in ("popularity", "category") if getattr(cold, name) is not None}
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis(t("rec.col.model", language))
    return table.rename(columns=lambda c: metric_label(c, language)).reset_index()


def reason_texts(lists: pd.DataFrame, language: str = "en") -> np.ndarray:
    """The one-line reason of each recommendation (``because``, ``reason_kind``), each distinct pair written once."""
    pairs = lists[["because", "reason_kind"]]
    group = pairs.groupby(["because", "reason_kind"], sort=False, dropna=False).ngroup().to_numpy()
    texts = [t(f"rec.reason.{kind}", language, item=item)
             for item, kind in pairs.drop_duplicates().itertuples(index=False)]
    return np.asarray(texts, dtype=object)[group] if len(texts) else np.empty(0, dtype=object)


def export_table(result: RecommendationResult, language: str = "en") -> pd.DataFrame:
    """The client's export: top-n for every customer with the reason as a sentence (``customer_id, rank,
    item_id, item_name, score, reason``)."""
    return lists_with_reasons(result.lists, language)


def lists_with_reasons(lists: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """Lists of :func:`cxnb.recommend.export.final_recommendations` with their reasons written in ``language``."""
    return lists.assign(reason=reason_texts(lists, language))[EXPORT_COLUMNS]


def examples_table(result: RecommendationResult, language: str = "en", n_customers: int = 3) -> pd.DataFrame:
    """The export's lists for the first ``n_customers`` customers, with report headers."""
    lists = result.lists
    first = lists[COL_CUSTOMER].drop_duplicates().iloc[:n_customers]
    shown = lists_with_reasons(lists[lists[COL_CUSTOMER].isin(first)], language)
    return shown.rename(columns={c: t(f"rec.col.{c}", language) for c in shown.columns})
