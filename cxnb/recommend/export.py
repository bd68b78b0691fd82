"""The export's lists: the chosen model refit on all data, top-n for every customer with the item behind each pick."""

from __future__ import annotations

import pandas as pd

from cxnb.config import RecommendationConfig
from cxnb.constants import COL_CUSTOMER, COL_ITEM, COL_NAME, COL_RATING
from cxnb.recommend import defaults
from cxnb.recommend.evaluation import Evaluation, customer_groups, item_categories_of
from cxnb.recommend.explain import explain
from cxnb.recommend.interactions import id_index, sorted_ids, with_object_ids
from cxnb.recommend.models import fit_model
from cxnb.recommend.recommender import Recommender
from cxnb.recommend.rerank import mmr_rerank

LIST_COLUMNS = [COL_CUSTOMER, "rank", COL_ITEM, "item_name", "score", "because", "reason_kind"]


def final_recommendations(transactions: pd.DataFrame, evaluation: Evaluation, config: RecommendationConfig,
                          items: pd.DataFrame | None = None, customers: pd.DataFrame | None = None,
                          model: str | None = None, events: pd.DataFrame | None = None) -> pd.DataFrame:
    """``model`` (default the best; the stage passes the decision's export model) refit on all data (with the
    behaviour ``events`` weighted by ``event_weights`` when given: the stage passes them only when they helped),
    top-n for every customer (``customer_id, rank, item_id, item_name, score, because, reason_kind``; the reason's
    sentence is written at the edge, :func:`cxnb.recommend.tables.export_table`)."""
    model = model or evaluation.best_model
    transactions, items, customers, events = (with_object_ids(table) for table in (transactions, items, customers, events))
    categories = item_categories_of(items)
    groups = customer_groups(customers, config.popularity_by)
    fitted = fit_model(model, evaluation.chosen.get(model, {}), transactions, categories, groups, events,
                       config.event_weights)
    ids = transactions[COL_CUSTOMER]
    if customers is not None:
        ids = pd.concat([ids, customers[COL_CUSTOMER]], ignore_index=True)
    ids = sorted_ids(id_index(ids))
    names = items.drop_duplicates(COL_ITEM).set_index(COL_ITEM)[COL_NAME] if items is not None and \
        COL_NAME in items.columns else None
    verb = "rated" if COL_RATING in transactions.columns else "bought"
    batch = defaults.EXPORT_BATCH_CUSTOMERS
    parts = [_final_lists(fitted, ids[start:start + batch], config, categories, names, verb)
             for start in range(0, len(ids), batch)]
    return pd.concat(parts, ignore_index=True)


def _final_lists(fitted: Recommender, ids: pd.Index, config: RecommendationConfig, categories: pd.Series | None,
                 names: pd.Series | None, verb: str) -> pd.DataFrame:
    """The export's rows for these customers: top-n (MMR re-ranked when ``mmr_lambda`` < 1) with their reasons."""
    rerank = config.mmr_lambda < 1 and categories is not None
    recs = fitted.recommend(ids, 5 * config.top_n if rerank else config.top_n, config.exclude_seen)
    if rerank:
        recs = mmr_rerank(recs, categories, config.mmr_lambda, config.top_n)
    recs = explain(fitted, recs, names, verb)
    recs["item_name"] = recs[COL_ITEM].map(names) if names is not None else recs[COL_ITEM].astype(str)
    return recs[LIST_COLUMNS]
