"""Offline measures of a set of lists: ranking metrics (precision, recall, NDCG, MAP, hit rate at k) and beyond-accuracy
metrics (coverage, diversity, novelty)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxnb.constants import (
    COL_CUSTOMER,
    COL_ITEM,
    DEFAULT_K,
)
from cxnb.recommend.defaults import UNKNOWN_CATEGORY


def ranking_metrics(recommendations: pd.DataFrame, relevant: pd.DataFrame, k: int = DEFAULT_K) -> dict[str, float]:
    """precision@k, recall@k, ndcg@k, map@k and hit_rate@k, averaged over customers present in both tables.

    Definitions (as Microsoft Recommenders' python_evaluation): precision = hits in top k / k (also when
    fewer than k items were recommended); recall = hits / relevant items; NDCG with binary gains
    1/log2(1 + rank), ideal DCG from min(relevant, k) hits; MAP = sum over hits of precision at that rank,
    divided by the number of relevant items (their ``map``; not min(relevant, k)); hit rate = share of
    customers with at least one hit.
    """
    recs = recommendations[recommendations["rank"] <= k]
    universe, rec_user, hit, rel_user = hit_cells(recs, relevant)
    in_both = np.zeros(len(universe), dtype=bool)
    in_both[rec_user[rec_user >= 0]] = True
    users = np.flatnonzero(in_both)  # positions in the sorted ids: the customers in both tables, sorted
    n_users = len(users)
    if n_users == 0:
        return {f"{m}@{k}": float("nan") for m in ("precision", "recall", "ndcg", "map", "hit_rate")} | {
            "n_users": 0}
    hits = pd.DataFrame({COL_CUSTOMER: rec_user[hit], "rank": recs["rank"].to_numpy()[hit]})
    hits = hits.sort_values([COL_CUSTOMER, "rank"])
    hits["gain"] = 1.0 / np.log2(1.0 + hits["rank"])
    hits["precision_at_rank"] = (hits.groupby(COL_CUSTOMER).cumcount() + 1) / hits["rank"]
    per_user = hits.groupby(COL_CUSTOMER).agg(hits=("rank", "size"), dcg=("gain", "sum"),
                                              ap=("precision_at_rank", "sum")).reindex(users, fill_value=0)
    n_rel = np.bincount(rel_user, minlength=len(universe))[users].astype(float)
    ideal_gains = np.cumsum(1.0 / np.log2(2.0 + np.arange(k)))
    idcg = ideal_gains[np.minimum(n_rel, k).astype(int) - 1]
    return {
        f"precision@{k}": float((per_user["hits"] / k).mean()),
        f"recall@{k}": float((per_user["hits"] / n_rel).mean()),
        f"ndcg@{k}": float((per_user["dcg"] / idcg).mean()),
        f"map@{k}": float((per_user["ap"] / n_rel).mean()),
        f"hit_rate@{k}": float((per_user["hits"] > 0).mean()),
        "n_users": n_users,
    }


def hit_cells(recommendations: pd.DataFrame, relevant: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """The sorted distinct customers of ``relevant`` (distinct pairs), each list row's and each relevant pair's
    position among them (-1: not there), and whether the list row is a relevant pair (ids matched as integer
    codes: merging on string columns is the slow part of scoring lists at scale)."""
    universe = np.sort(pd.unique(relevant[COL_CUSTOMER].to_numpy()))
    users = pd.Index(universe, dtype=universe.dtype)  # object stays object: no Arrow strings, whose look-ups are slow
    rel_user = users.get_indexer(relevant[COL_CUSTOMER])
    rec_user = users.get_indexer(recommendations[COL_CUSTOMER])
    rel_item, item_ids = pd.factorize(relevant[COL_ITEM])
    rec_item = pd.Index(item_ids, dtype=relevant[COL_ITEM].dtype).get_indexer(recommendations[COL_ITEM])
    width = max(len(item_ids), 1)
    rel_keys = np.sort(rel_user.astype(np.int64) * width + rel_item)
    keys = rec_user.astype(np.int64) * width + rec_item
    at = np.minimum(np.searchsorted(rel_keys, keys), max(len(rel_keys) - 1, 0))
    hit = (rec_user >= 0) & (rec_item >= 0) & (rel_keys[at] == keys) if len(rel_keys) else np.zeros(len(keys), bool)
    return universe, rec_user, hit, rel_user


def catalogue_coverage(recommendations: pd.DataFrame, n_items: int) -> float:
    """Share of the catalogue's items recommended to at least one customer."""
    return recommendations[COL_ITEM].nunique() / n_items if n_items else float("nan")


def intra_list_diversity(recommendations: pd.DataFrame, item_categories: pd.Series | None) -> float:
    """Mean over customers of the share of pairs in their list whose categories differ (NaN without categories)."""
    if item_categories is None:
        return float("nan")
    cats = recommendations[COL_ITEM].map(item_categories).fillna(UNKNOWN_CATEGORY)
    counts = pd.DataFrame({"customer": recommendations[COL_CUSTOMER].to_numpy(), "category": cats.to_numpy()}
                          ).value_counts(sort=False).sort_index()
    n = counts.groupby(level=0).sum()
    pairs = n * (n - 1) / 2
    same = (counts * (counts - 1) / 2).groupby(level=0).sum()
    return float((1 - same[pairs > 0] / pairs[pairs > 0]).mean())


def novelty(recommendations: pd.DataFrame, popularity: pd.Series) -> float:
    """Mean self-information -log2 p(i) of recommended items, p(i) = share of training customers with item i."""
    floor = popularity[popularity > 0].min()
    p = recommendations[COL_ITEM].map(popularity).fillna(floor).clip(lower=floor)
    return float(-np.log2(p).mean())


def beyond_accuracy_metrics(recommendations: pd.DataFrame, popularity: pd.Series,
                            item_categories: pd.Series | None) -> dict[str, float]:
    """Catalogue coverage, intra-list diversity and novelty of a set of recommendations."""
    return {"coverage": catalogue_coverage(recommendations, len(popularity)),
            "diversity": intra_list_diversity(recommendations, item_categories),
            "novelty": novelty(recommendations, popularity)}
