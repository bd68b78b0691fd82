"""Recommendation: popularity, item-item collaborative filtering (SAR family), EASE and a category fallback.

All models share one interface: ``fit(interactions)`` on a sparse customers x items matrix, then
``recommend(customer_ids, k, exclude_seen)`` returning a tidy DataFrame ``customer_id, rank, item_id, score``.
Scoring runs in batches of customers, so no dense customers x items matrix is ever built.
Offline evaluation follows Microsoft Recommenders' conventions (stratified split, metric definitions).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp
import seaborn as sns

from cxnb.config import RecommendationConfig
from cxnb.constants import (
    COL_CATEGORY,
    COL_CUSTOMER,
    COL_EVENT,
    COL_ITEM,
    COL_NAME,
    COL_ORDER,
    COL_QUANTITY,
    COL_RATING,
    COL_TIMESTAMP,
    DEFAULT_K,
    PURCHASE,
    SEED,
)
from cxnb.errors import StageSkipped
from cxnb.guards import check_population
from cxnb.i18n import t

if TYPE_CHECKING:
    from cxnb.recommend_decision import Decision
    from cxnb.recommend_events import EventsComparison

EASE_ITEM_LIMIT = 10_000  # dense item x item solve: 10,000 items = two 800 MB float64 matrices
SCORE_BATCH_CELLS = 2_000_000  # dense scores held at once while scoring (16 MB of float64)
PROBE_ITEMS = 1_000  # most popular items whose k-th best score bounds the top-k search
HALF_LIFE_GRID = (None, 30.0, 90.0, 365.0)
EASE_LAMBDA_GRID = (10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0)
SIMILARITIES = ("cosine", "jaccard", "lift")
MMR_LAMBDAS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)
MIN_CUSTOMERS = 20
MIN_ITEMS = 5
UNKNOWN_CATEGORY = "(none)"
BASELINE = "popularity"  # the generic bestseller list every personalised model must beat
MODELS = ("popularity", "popularity_group", "category", "item_cf", "ease")
FALLBACK_REASONS = ("popularity", "popularity_group", "category")  # models with a reason of their own (rec.reason.*)


# ----------------------------------------------------------------------------------------------- inputs


def check_recommendation_inputs(transactions: pd.DataFrame | None, language: str = "en") -> None:
    """Raise StageSkipped (reason in ``language``) when the transactions cannot support recommendations."""
    if transactions is None:
        raise StageSkipped(t("rec.skip.no_transactions", language))
    if COL_ITEM not in transactions.columns:
        raise StageSkipped(t("rec.skip.no_item_id", language))
    n_customers = transactions[COL_CUSTOMER].nunique()
    n_items = transactions[COL_ITEM].nunique()
    if n_customers < MIN_CUSTOMERS or n_items < MIN_ITEMS:
        raise StageSkipped(t("rec.skip.too_few", language, customers=n_customers, items=n_items,
                             min_customers=MIN_CUSTOMERS, min_items=MIN_ITEMS))


@dataclass
class Interactions:
    """Customer x item interaction weights (CSR) with the customer and item ids of its rows and columns.

    Trained on purchases only, ``strength`` and ``bought`` are None: every cell is a purchase of strength 1. With
    behaviour events, ``strength`` holds each cell's strongest event weight (scaled so the largest weight is 1)
    and ``bought`` marks the cells with a purchase (the only ones ``exclude_seen`` hides).
    """

    matrix: sp.csr_matrix
    users: pd.Index
    items: pd.Index
    strength: sp.csr_matrix | None = None
    bought: sp.csr_matrix | None = None

    @property
    def binary(self) -> sp.csr_matrix:
        """1 where the customer bought the item (purchases only), else each cell's event strength in (0, 1]."""
        if self.strength is not None:
            return self.strength
        out = self.matrix.copy()
        out.data = np.ones_like(out.data)
        return out

    @property
    def seen(self) -> sp.csr_matrix:
        """1 where the customer bought the item (what ``exclude_seen`` leaves out)."""
        return self.bought if self.bought is not None else self.binary

    def rows(self, customer_ids) -> np.ndarray:
        """Row positions of these customers; -1 for customers without history."""
        return self.users.get_indexer(pd.Index(customer_ids))

    def popularity(self) -> pd.Series:
        """Share of customers who interacted with each item (events counted by their strength)."""
        counts = np.asarray(self.binary.sum(axis=0)).ravel()
        return pd.Series(counts / max(len(self.users), 1), index=self.items, name="popularity")


def interaction_weights(transactions: pd.DataFrame, value: str = "auto") -> pd.Series:
    """Weight of each line: its rating, its quantity, 1 per line (``count``) or 1 (``binary``)."""
    if value == "auto":
        value = "rating" if COL_RATING in transactions.columns else "count"
    if value in ("rating", "quantity"):
        column = COL_RATING if value == "rating" else COL_QUANTITY
        return transactions[column].astype(float).clip(lower=0)
    return pd.Series(1.0, index=transactions.index)


def behaviour_events(events: pd.DataFrame | None, weights: dict[str, float] | None) -> pd.DataFrame:
    """The events with a positive weight that are not purchases (``customer_id, item_id, timestamp, event_type,
    weight``)."""
    columns = [COL_CUSTOMER, COL_ITEM, COL_TIMESTAMP, COL_EVENT, "weight"]
    if events is None or not weights or COL_ITEM not in events.columns:
        return pd.DataFrame(columns=columns)
    weight = events[COL_EVENT].map({k: v for k, v in weights.items() if k != PURCHASE}).astype(float)
    keep = (weight > 0) & events[COL_ITEM].notna()
    out = events.loc[keep, columns[:-1]].assign(weight=weight[keep])
    return out.assign(**{COL_TIMESTAMP: pd.to_datetime(out[COL_TIMESTAMP])})


def build_interactions(transactions: pd.DataFrame, value: str = "auto", half_life_days: float | None = None,
                       now: pd.Timestamp | None = None, items: pd.Index | None = None,
                       events: pd.DataFrame | None = None, event_weights: dict[str, float] | None = None
                       ) -> Interactions:
    """Sum of line weights per customer and item, each decayed by 0.5 per ``half_life_days`` before ``now``.

    ``items`` fixes the columns (lines of other items are dropped); by default every item in the data. With
    ``events`` (see :func:`behaviour_events`) and ``event_weights`` purchase lines weigh ``purchase`` times their
    own weight and each behaviour event its type's weight.
    """
    behaviour = behaviour_events(events, event_weights)
    with_events = not behaviour.empty
    scale = event_weights.get(PURCHASE, 1.0) if with_events else 1.0
    lines = transactions[[c for c in (COL_CUSTOMER, COL_ITEM, COL_TIMESTAMP) if c in transactions.columns]]
    weights = interaction_weights(transactions, value) * scale
    if with_events:
        lines = pd.concat([lines, behaviour[lines.columns]], ignore_index=True)
        weights = pd.concat([weights, behaviour["weight"]], ignore_index=True)
    if half_life_days is not None:
        times = pd.to_datetime(lines[COL_TIMESTAMP])
        age_days = ((now or times.max()) - times).dt.total_seconds() / 86_400
        weights = weights * np.power(0.5, age_days.clip(lower=0) / half_life_days)
    # Sorted ids, so ties between items break the same way whatever order the lines come in.
    users = pd.Index(pd.unique(lines[COL_CUSTOMER]), name=COL_CUSTOMER).sort_values()
    items = pd.Index(pd.unique(lines[COL_ITEM]), name=COL_ITEM).sort_values() if items is None else items
    rows = users.get_indexer(lines[COL_CUSTOMER])
    cols = items.get_indexer(lines[COL_ITEM])
    keep = (cols >= 0) & (weights.to_numpy() > 0)
    shape = (len(users), len(items))
    matrix = sp.csr_matrix((weights.to_numpy()[keep], (rows[keep], cols[keep])), shape=shape)
    matrix.sum_duplicates()
    if not with_events:
        return Interactions(matrix, users, items)
    is_purchase = np.arange(len(lines)) < len(transactions)
    top = max(event_weights.values())
    strength = np.where(is_purchase, scale, np.concatenate([np.zeros(len(transactions)), behaviour["weight"]])) / top
    return Interactions(matrix, users, items, _cell_max(rows[keep], cols[keep], strength[keep], shape),
                        _cell_max(rows[keep & is_purchase], cols[keep & is_purchase],
                                  np.ones((keep & is_purchase).sum()), shape))


def _cell_max(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """CSR matrix holding the largest of the values given for each cell."""
    cells = pd.DataFrame({"row": rows, "col": cols, "value": values}).groupby(["row", "col"], sort=True)["value"].max()
    return sp.csr_matrix((cells.to_numpy(), (cells.index.get_level_values(0), cells.index.get_level_values(1))),
                         shape=shape)


# ----------------------------------------------------------------------------------------------- splits


def stratified_split(transactions: pd.DataFrame, test_fraction: float = 0.25, by: str = "user",
                     seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Random split within each customer (``by="user"``) or item (``by="item"``): train, test.

    Reproduces Microsoft Recommenders' ``python_stratified_split``: one uniform number per row from the
    legacy NumPy generator seeded with ``seed``, rows ranked by it within their group, and a row goes to
    train when rank / group size <= 1 - test_fraction.
    """
    column = COL_CUSTOMER if by == "user" else COL_ITEM
    draw = pd.Series(np.random.RandomState(seed).rand(len(transactions)), index=transactions.index)
    order = pd.DataFrame({"group": transactions[column], "draw": draw}).sort_values(["group", "draw"])
    groups = order.groupby("group", sort=False)
    share = (groups.cumcount() + 1) / groups["group"].transform("size")
    in_train = (share <= 1 - test_fraction).reindex(transactions.index)
    return transactions[in_train], transactions[~in_train]


def lines_in_order(transactions: pd.DataFrame) -> pd.DataFrame:
    """Lines sorted by customer, time, order, item and then every other column (a total order of distinct lines)."""
    first = [c for c in (COL_CUSTOMER, COL_TIMESTAMP, COL_ORDER, COL_ITEM) if c in transactions.columns]
    keys = first + [c for c in transactions.columns if c not in first]
    return transactions.sort_values(keys, kind="stable", ignore_index=True)


def time_split(transactions: pd.DataFrame, cutoff: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Lines before ``cutoff`` train, lines from ``cutoff`` on test."""
    before = pd.to_datetime(transactions[COL_TIMESTAMP]) < pd.Timestamp(cutoff)
    return transactions[before], transactions[~before]


def split_transactions(transactions: pd.DataFrame, config: RecommendationConfig, cutoff: pd.Timestamp | None = None,
                       horizon_days: int = 90) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train/test split named in the parameters: ``time`` (cutoff, default last date - horizon) or ``stratified``."""
    if config.split == "stratified":  # random draws follow the line order, so fix that order first
        return stratified_split(lines_in_order(transactions), config.test_fraction, config.stratify_by, config.seed)
    return time_split(transactions, time_cutoff(transactions, cutoff, horizon_days))


def time_cutoff(transactions: pd.DataFrame, cutoff: pd.Timestamp | None = None, horizon_days: int = 90) -> pd.Timestamp:
    """``cutoff``, or by default the day after the last line minus ``horizon_days``."""
    if cutoff is not None:
        return pd.Timestamp(cutoff)
    last = pd.to_datetime(transactions[COL_TIMESTAMP]).max()
    return last.normalize() + pd.Timedelta(days=1) - pd.Timedelta(days=horizon_days)


def relevant_items(train: pd.DataFrame, test: pd.DataFrame, exclude_seen: bool = True) -> pd.DataFrame:
    """Distinct test (customer, item) pairs of customers with history in train; with ``exclude_seen``
    pairs already bought in train are dropped (they are never recommended)."""
    pairs = test[[COL_CUSTOMER, COL_ITEM]].drop_duplicates()
    pairs = pairs[pairs[COL_CUSTOMER].isin(train[COL_CUSTOMER])]
    if exclude_seen:
        seen = train[[COL_CUSTOMER, COL_ITEM]].drop_duplicates()
        pairs = pairs.merge(seen, how="left", indicator=True).query("_merge == 'left_only'").drop(columns="_merge")
    return pairs.sort_values([COL_CUSTOMER, COL_ITEM], kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------------------------- models


def _top_k(scores: np.ndarray, k: int, probe: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, column and rank of the k largest finite entries of each row, best first (ties: lower column).

    A row's k-th largest value among the ``probe`` columns bounds its k-th largest overall from below, so only
    the few entries at or above it are sorted (a full partial sort of every row is the slow part on big
    catalogues).
    """
    depth = min(k, len(probe))
    floor = -np.partition(-scores[:, probe], depth - 1, axis=1)[:, depth - 1]
    rows, cols = np.nonzero((scores >= floor[:, None]) & (scores > -np.inf))
    vals = scores[rows, cols]
    order = np.lexsort((cols, -vals, rows))
    rows, cols = rows[order], cols[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
    keep = rank < k
    return rows[keep], cols[keep], rank[keep] + 1


class Recommender(ABC):
    """Shared interface: ``fit(interactions)``, ``recommend(customer_ids, k, exclude_seen)``."""

    name = "recommender"
    scores_unknown_users = False  # True when the model can score customers without history

    def __init__(self, cold_start: Recommender | None = None):
        self.cold_start = cold_start

    def fit(self, interactions: Interactions) -> Recommender:
        """Learn from the interactions; returns self."""
        self.interactions_ = interactions
        self._fit(interactions)
        if self.cold_start is not None:
            self.cold_start.fit(interactions)
        return self

    @abstractmethod
    def _fit(self, interactions: Interactions) -> None:
        """Learn the model's parameters."""

    @abstractmethod
    def score_rows(self, rows: np.ndarray) -> np.ndarray:
        """Dense scores (len(rows) x items) for interaction-matrix rows (-1 = customer without history)."""

    def item_weights(self):
        """Item x item matrix whose (i, j) entry is how much having item i raises item j; None if no such thing."""
        return None

    def history(self) -> sp.csr_matrix:
        """The customer x item weights that ``item_weights`` multiplies (binary by default)."""
        return self.interactions_.binary

    def ranking_scores(self, scores: np.ndarray) -> np.ndarray:
        """Scores used for ranking (models may break ties here); the reported score stays ``scores``."""
        return scores

    def recommend(self, customer_ids, k: int = DEFAULT_K, exclude_seen: bool = True) -> pd.DataFrame:
        """Top-k items per customer as ``customer_id, rank, item_id, score`` (customers without history go
        to the cold-start model, or are left out when there is none)."""
        ids = pd.Index(pd.unique(pd.Series(customer_ids)))
        rows = self.interactions_.rows(ids)
        known = rows >= 0 if not self.scores_unknown_users else np.ones(len(ids), dtype=bool)
        frames = [self._recommend_rows(ids[known], rows[known], k, exclude_seen)]
        if self.cold_start is not None and (~known).any():
            frames.append(self.cold_start.recommend(ids[~known], k, exclude_seen))
        return pd.concat(frames, ignore_index=True)

    def _recommend_rows(self, ids: pd.Index, rows: np.ndarray, k: int, exclude_seen: bool) -> pd.DataFrame:
        items = self.interactions_.items
        batch = max(1, SCORE_BATCH_CELLS // max(len(items), 1))
        seen = self.interactions_.seen
        probe = np.argsort(-self.interactions_.popularity().to_numpy(), kind="stable")[:PROBE_ITEMS]
        frames = []
        for start in range(0, len(rows), batch):
            part = rows[start:start + batch]
            scores = self.score_rows(part)
            rank_by = self.ranking_scores(scores)
            rank_by = rank_by.copy() if rank_by is scores else rank_by
            if exclude_seen:
                known = np.flatnonzero(part >= 0)
                seen_rows, seen_cols = seen[part[known]].nonzero()
                rank_by[known[seen_rows], seen_cols] = -np.inf
            top_rows, top_cols, rank = _top_k(rank_by, k, probe)
            frames.append(pd.DataFrame({COL_CUSTOMER: np.asarray(ids)[start + top_rows], "rank": rank,
                                        COL_ITEM: np.asarray(items)[top_cols],
                                        "score": scores[top_rows, top_cols]}))
        if not frames:
            return pd.DataFrame({COL_CUSTOMER: [], "rank": [], COL_ITEM: [], "score": []})
        return pd.concat(frames, ignore_index=True)


class Popularity(Recommender):
    """Most-bought items overall, or within the customer's group (segment, region) when ``groups`` is given."""

    name = "popularity"
    scores_unknown_users = True

    def __init__(self, groups: pd.Series | None = None):
        super().__init__(cold_start=None)
        self.groups = groups
        self.name = "popularity" if groups is None else "popularity_group"

    def _fit(self, interactions: Interactions) -> None:
        binary = interactions.binary
        self.global_ = np.asarray(binary.sum(axis=0)).ravel() / max(binary.shape[0], 1)
        self.group_of_user_ = np.full(len(interactions.users), -1)
        self.group_scores_ = np.empty((0, binary.shape[1]))
        if self.groups is None:
            return
        labels = self.groups.reindex(interactions.users)
        codes, uniques = pd.factorize(labels, sort=True)
        self.group_of_user_ = codes
        onehot = sp.csr_matrix((np.ones((codes >= 0).sum()), (codes[codes >= 0], np.flatnonzero(codes >= 0))),
                               shape=(len(uniques), binary.shape[0]))
        sizes = np.maximum(np.asarray(onehot.sum(axis=1)).ravel(), 1)
        self.group_scores_ = (onehot @ binary).toarray() / sizes[:, None]

    def score_rows(self, rows: np.ndarray) -> np.ndarray:
        scores = np.tile(self.global_, (len(rows), 1))
        group = np.where(rows >= 0, self.group_of_user_[np.maximum(rows, 0)], -1)
        has_group = group >= 0
        scores[has_group] = self.group_scores_[group[has_group]]
        return scores


class CategoryPopularity(Recommender):
    """Content fallback: each item scores its category's share in the customer's history (overall shares for
    customers without history) divided by the item's popularity rank inside its category."""

    name = "category"
    scores_unknown_users = True

    def __init__(self, item_categories: pd.Series, smoothing: float = 2.0):
        super().__init__(cold_start=None)
        self.item_categories = item_categories
        self.smoothing = smoothing

    def _fit(self, interactions: Interactions) -> None:
        cats = self.item_categories.reindex(interactions.items).fillna(UNKNOWN_CATEGORY).astype(str)
        codes, self.categories_ = pd.factorize(cats, sort=True)
        binary = interactions.binary
        self.item_category_ = codes
        item_to_cat = sp.csr_matrix((np.ones(len(codes)), (np.arange(len(codes)), codes)),
                                    shape=(len(codes), len(self.categories_)))
        self.user_category_ = (binary @ item_to_cat).tocsr()
        counts = np.asarray(binary.sum(axis=0)).ravel()
        self.global_share_ = np.bincount(codes, weights=counts, minlength=len(self.categories_)) / max(counts.sum(), 1)
        rank_in_cat = pd.Series(-counts).groupby(codes).rank(method="first").to_numpy()
        self.item_boost_ = 1.0 / rank_in_cat

    def score_rows(self, rows: np.ndarray) -> np.ndarray:
        known = rows >= 0
        user_counts = np.zeros((len(rows), len(self.categories_)))
        user_counts[known] = self.user_category_[rows[known]].toarray()
        totals = user_counts.sum(axis=1, keepdims=True)
        shares = (user_counts + self.smoothing * self.global_share_) / (totals + self.smoothing)
        return shares[:, self.item_category_] * self.item_boost_


def cooccurrence_similarity(binary: sp.csr_matrix, kind: str = "jaccard") -> sp.csr_matrix:
    """Item x item similarity from co-occurrence counts C = BᵀB: cosine c/√(cᵢcⱼ), jaccard c/(cᵢ+cⱼ-c), lift c/(cᵢcⱼ)."""
    if kind not in SIMILARITIES:
        raise ValueError(f"similarity must be one of {', '.join(SIMILARITIES)}, not {kind!r}")
    co = (binary.T @ binary).tocoo()
    diag = np.asarray(binary.sum(axis=0)).ravel()
    ci, cj = diag[co.row], diag[co.col]
    if kind == "cosine":
        values = co.data / np.sqrt(ci * cj)
    elif kind == "jaccard":
        values = co.data / (ci + cj - co.data)
    else:
        values = co.data / (ci * cj)
    return sp.csr_matrix((values, (co.row, co.col)), shape=co.shape)


class ItemItemCF(Recommender):
    """SAR-family item-item CF: score = customer affinity (decayed weights) x item co-occurrence similarity.
    Items no history item co-occurs with are ranked after all others by popularity."""

    name = "item_cf"

    def __init__(self, similarity: str = "jaccard", cold_start: Recommender | None = None):
        super().__init__(cold_start=cold_start)
        self.similarity = similarity

    def _fit(self, interactions: Interactions) -> None:
        self.similarity_ = cooccurrence_similarity(interactions.binary, self.similarity)
        self.popularity_ = interactions.popularity().to_numpy()

    def score_rows(self, rows: np.ndarray) -> np.ndarray:
        return (self.interactions_.matrix[rows] @ self.similarity_).toarray()

    def history(self) -> sp.csr_matrix:
        return self.interactions_.matrix

    def ranking_scores(self, scores: np.ndarray) -> np.ndarray:
        return np.where(scores > 0, scores, self.popularity_ - 1.0)

    def item_weights(self):
        return self.similarity_


class EASE(Recommender):
    """EASE (Steck 2019): B = argmin ‖X - XB‖² + λ‖B‖², diag(B) = 0, solved in closed form from P = (XᵀX + λI)⁻¹
    as B = -P / diag(P). Needs a dense items x items solve, so at most ``max_items`` items."""

    name = "ease"

    def __init__(self, l2: float = 250.0, max_items: int = EASE_ITEM_LIMIT, cold_start: Recommender | None = None):
        super().__init__(cold_start=cold_start)
        self.l2 = l2
        self.max_items = max_items

    def _fit(self, interactions: Interactions) -> None:
        n_items = len(interactions.items)
        if n_items > self.max_items:
            raise ValueError(f"EASE needs a dense {n_items} x {n_items} solve; the limit is {self.max_items} items")
        binary = interactions.binary
        gram = (binary.T @ binary).toarray()
        gram[np.diag_indices_from(gram)] += self.l2
        precision = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)
        weights = precision / (-np.diag(precision))
        np.fill_diagonal(weights, 0.0)
        self.weights_ = weights

    def score_rows(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.interactions_.binary[rows] @ self.weights_)

    def item_weights(self):
        return self.weights_


# ----------------------------------------------------------------------------------------------- metrics


def ranking_metrics(recommendations: pd.DataFrame, relevant: pd.DataFrame, k: int = DEFAULT_K) -> dict[str, float]:
    """precision@k, recall@k, ndcg@k, map@k and hit_rate@k, averaged over customers present in both tables.

    Definitions (as Microsoft Recommenders' python_evaluation): precision = hits in top k / k (also when
    fewer than k items were recommended); recall = hits / relevant items; NDCG with binary gains
    1/log2(1 + rank), ideal DCG from min(relevant, k) hits; MAP = sum over hits of precision at that rank,
    divided by the number of relevant items (their ``map``; not min(relevant, k)); hit rate = share of
    customers with at least one hit.
    """
    recs = recommendations[recommendations["rank"] <= k]
    users = np.intersect1d(recs[COL_CUSTOMER].unique(), relevant[COL_CUSTOMER].unique())
    n_users = len(users)
    if n_users == 0:
        return {f"{m}@{k}": float("nan") for m in ("precision", "recall", "ndcg", "map", "hit_rate")} | {
            "n_users": 0}
    n_relevant = relevant[relevant[COL_CUSTOMER].isin(users)].groupby(COL_CUSTOMER).size()
    hits = recs[recs[COL_CUSTOMER].isin(users)].merge(relevant, on=[COL_CUSTOMER, COL_ITEM])
    hits = hits.sort_values([COL_CUSTOMER, "rank"])
    hits["gain"] = 1.0 / np.log2(1.0 + hits["rank"])
    hits["precision_at_rank"] = (hits.groupby(COL_CUSTOMER).cumcount() + 1) / hits["rank"]
    per_user = hits.groupby(COL_CUSTOMER).agg(hits=("rank", "size"), dcg=("gain", "sum"),
                                              ap=("precision_at_rank", "sum")).reindex(users, fill_value=0)
    n_rel = n_relevant.reindex(users).to_numpy(dtype=float)
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


def catalogue_coverage(recommendations: pd.DataFrame, n_items: int) -> float:
    """Share of the catalogue's items recommended to at least one customer."""
    return recommendations[COL_ITEM].nunique() / n_items if n_items else float("nan")


def intra_list_diversity(recommendations: pd.DataFrame, item_categories: pd.Series | None) -> float:
    """Mean over customers of the share of pairs in their list whose categories differ (NaN without categories)."""
    if item_categories is None:
        return float("nan")
    cats = recommendations[COL_ITEM].map(item_categories).fillna(UNKNOWN_CATEGORY)
    counts = pd.crosstab(recommendations[COL_CUSTOMER], cats)
    n = counts.sum(axis=1)
    pairs = n * (n - 1) / 2
    same = (counts * (counts - 1) / 2).sum(axis=1)
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


# ----------------------------------------------------------------------------------------------- re-ranking


def mmr_rerank(candidates: pd.DataFrame, item_categories: pd.Series, lam: float, k: int = DEFAULT_K) -> pd.DataFrame:
    """Maximal marginal relevance: greedily pick argmax λ·relevance − (1−λ)·max similarity to the picks so far,
    with relevance = score min-max scaled per customer and similarity = 1 for the same category."""
    width = int(candidates["rank"].max())
    users = pd.Index(pd.unique(candidates[COL_CUSTOMER]))
    row = users.get_indexer(candidates[COL_CUSTOMER])
    col = candidates["rank"].to_numpy() - 1
    score = np.full((len(users), width), np.nan)
    score[row, col] = candidates["score"].to_numpy()
    items = np.empty((len(users), width), dtype=object)
    items[row, col] = candidates[COL_ITEM].to_numpy()
    cat_codes, cat_names = pd.factorize(candidates[COL_ITEM].map(item_categories).fillna(UNKNOWN_CATEGORY),
                                        sort=True)
    cats = np.full((len(users), width), -1)
    cats[row, col] = cat_codes
    low, high = np.nanmin(score, axis=1, keepdims=True), np.nanmax(score, axis=1, keepdims=True)
    relevance = np.where(high > low, (score - low) / np.where(high > low, high - low, 1), 1.0)
    covered = np.zeros((len(users), len(cat_names) + 1), dtype=bool)
    available = ~np.isnan(score)
    picks = []
    for _ in range(min(k, width)):
        gain = lam * relevance - (1 - lam) * np.take_along_axis(covered, cats, axis=1)
        gain[~available] = -np.inf
        best = np.argmax(gain, axis=1)
        ok = available[np.arange(len(users)), best]
        picks.append(np.where(ok, best, -1))
        available[np.arange(len(users)), best] = False
        covered[np.arange(len(users))[ok], cats[np.arange(len(users)), best][ok]] = True
    pick = np.column_stack(picks)
    user_idx, rank_idx = np.nonzero(pick >= 0)
    chosen = pick[user_idx, rank_idx]
    return pd.DataFrame({COL_CUSTOMER: np.asarray(users)[user_idx], "rank": rank_idx + 1,
                         COL_ITEM: items[user_idx, chosen], "score": score[user_idx, chosen]})


def accuracy_diversity_curve(candidates: pd.DataFrame, relevant: pd.DataFrame, item_categories: pd.Series,
                             lambdas=MMR_LAMBDAS, k: int = DEFAULT_K) -> pd.DataFrame:
    """Precision@k, NDCG@k and intra-list diversity of MMR re-ranked lists for each λ (λ = 1: no re-ranking).
    With 0/1 category similarity and relevance in [0, 1], every λ <= 0.5 gives the lists of λ = 0.5."""
    rows = []
    for lam in lambdas:
        reranked = mmr_rerank(candidates, item_categories, lam, k)
        acc = ranking_metrics(reranked, relevant, k)
        rows.append({"lambda": lam, f"precision@{k}": acc[f"precision@{k}"], f"ndcg@{k}": acc[f"ndcg@{k}"],
                     "diversity": intra_list_diversity(reranked, item_categories)})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------- explanations


def explain(model: Recommender, recommendations: pd.DataFrame, item_names: pd.Series | None = None,
            verb: str = "bought", language: str = "en") -> pd.DataFrame:
    """Add ``because_item_id`` (the customer's past item contributing most to each recommended item, by
    affinity x item weight) and a one-line ``reason`` in ``language`` (``verb``: ``bought`` or ``rated``)."""
    inter = model.interactions_
    weights = model.item_weights()
    names = item_names if item_names is not None else pd.Series(dtype=str)
    because = np.full(len(recommendations), None, dtype=object)
    if weights is not None:
        matrix = model.history()
        is_sparse = sp.issparse(weights)
        weights = weights.tocsr() if is_sparse else weights
        rows = inter.rows(recommendations[COL_CUSTOMER])
        cols = inter.items.get_indexer(recommendations[COL_ITEM])
        positions = pd.Series(np.arange(len(recommendations))).groupby(rows).indices
        for row, pos in positions.items():
            if row < 0:
                continue
            history = matrix[row]
            block = weights[history.indices][:, cols[pos]]
            block = block.toarray() if is_sparse else block
            contrib = history.data[:, None] * block
            best = contrib.argmax(axis=0)
            found = contrib[best, np.arange(len(pos))] > 0
            because[pos[found]] = np.asarray(inter.items)[history.indices[best[found]]]
    out = recommendations.assign(because_item_id=because)
    label = out["because_item_id"].map(lambda i: names.get(i, i) if i is not None else None)
    fallback = t(f"rec.reason.{model.name if model.name in FALLBACK_REASONS else 'popularity'}", language)
    verbs = np.where(_was_bought(inter, recommendations[COL_CUSTOMER], out["because_item_id"]), verb, "viewed")
    out["reason"] = [t(f"rec.reason.{how}", language, item=item) if pd.notna(item) else fallback
                     for item, how in zip(label, verbs, strict=True)]
    return out


def _was_bought(inter: Interactions, customer_ids: pd.Series, item_ids: pd.Series) -> np.ndarray:
    """Whether each customer bought the item (False for a missing item; True throughout without events)."""
    rows = inter.rows(customer_ids)
    cols = inter.items.get_indexer(pd.Index(item_ids.to_numpy()))
    ok = (rows >= 0) & (cols >= 0)
    if inter.bought is None:
        return ok
    out = np.zeros(len(rows), dtype=bool)
    out[ok] = np.asarray(inter.bought[rows[ok], cols[ok]]).ravel() > 0
    return out


# ----------------------------------------------------------------------------------------------- pipeline


def item_categories_of(items: pd.DataFrame | None) -> pd.Series | None:
    """item_id -> category, or None when the items table has no category."""
    if items is None or COL_CATEGORY not in items.columns:
        return None
    return items.drop_duplicates(COL_ITEM).set_index(COL_ITEM)[COL_CATEGORY].astype(str)


def customer_groups(customers: pd.DataFrame | None, column: str | None) -> pd.Series | None:
    """customer_id -> group for group popularity: ``column``, or with ``auto`` the first of segment/region."""
    if customers is None or column is None:
        return None
    if column == "auto":
        column = next((c for c in ("segment", "region") if c in customers.columns), None)
        if column is None:
            return None
    return customers.drop_duplicates(COL_CUSTOMER).set_index(COL_CUSTOMER)[column]


def make_model(name: str, hyper: dict, categories: pd.Series | None = None,
               groups: pd.Series | None = None) -> Recommender:
    """One of ``popularity``, ``popularity_group``, ``category``, ``item_cf``, ``ease`` with its hyperparameters;
    CF models fall back to the category model (else popularity) for customers without history."""
    fallback = CategoryPopularity(categories) if categories is not None else Popularity()
    if name == "popularity":
        return Popularity()
    if name == "popularity_group":
        return Popularity(groups)
    if name == "category":
        return CategoryPopularity(categories)
    if name == "item_cf":
        return ItemItemCF(hyper["similarity"], cold_start=fallback)
    if name == "ease":
        return EASE(hyper["ease_lambda"], cold_start=fallback)
    raise ValueError(f"unknown recommendation model {name!r}")


def fit_model(name: str, hyper: dict, train: pd.DataFrame, categories=None, groups=None,
              events: pd.DataFrame | None = None, event_weights: dict[str, float] | None = None) -> Recommender:
    """Build the interactions this model uses (decay only for item_cf; behaviour ``events`` with their
    ``event_weights`` when given) and fit it."""
    half_life = hyper.get("half_life_days") if name == "item_cf" else None
    return make_model(name, hyper, categories, groups).fit(
        build_interactions(train, half_life_days=half_life, events=events, event_weights=event_weights))


def available_models(config: RecommendationConfig, n_items: int, categories, groups,
                     language: str = "en") -> tuple[list[str], dict]:
    """Models to compare on this data, and why (in ``language``) any configured model was left out."""
    skipped = {}
    models = []
    for name in config.models:
        if name == "ease" and n_items > EASE_ITEM_LIMIT:
            skipped[name] = t("rec.skip.ease_too_big", language, n=n_items, limit=EASE_ITEM_LIMIT)
        elif name == "category" and categories is None:
            skipped[name] = t("rec.skip.no_categories", language)
        elif name == "popularity_group" and groups is None:
            skipped[name] = t("rec.skip.no_groups", language)
        else:
            models.append(name)
    return models, skipped


def hyperparameter_grid(config: RecommendationConfig) -> dict[str, list[dict]]:
    """Candidate hyperparameters per model: fixed values from the parameters, else the built-in grids."""
    sims = SIMILARITIES if config.similarity == "auto" else (config.similarity,)
    halves = HALF_LIFE_GRID if config.half_life_days == "auto" else (config.half_life_days,)
    lambdas = EASE_LAMBDA_GRID if config.ease_lambda == "auto" else (config.ease_lambda,)
    return {"item_cf": [{"similarity": s, "half_life_days": h} for s in sims for h in halves],
            "ease": [{"ease_lambda": lam} for lam in lambdas]}


def validation_split(train: pd.DataFrame, config: RecommendationConfig,
                     horizon_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A validation split carved from the training data only, by the same method as the test split."""
    if config.split == "stratified":
        return stratified_split(train, config.test_fraction, config.stratify_by, config.seed + 1)
    return split_transactions(train, config, None, horizon_days)


def tune(train: pd.DataFrame, config: RecommendationConfig, models: list[str], horizon_days: int = 90,
         categories=None, groups=None) -> tuple[dict, pd.DataFrame]:
    """Choose each model's hyperparameters by NDCG@k on a validation split of ``train``; returns
    (chosen hyperparameters per model, every candidate's validation metrics)."""
    k = config.top_n
    fit_part, val_part = validation_split(train, config, horizon_days)
    relevant = relevant_items(fit_part, val_part, config.exclude_seen)
    users = relevant[COL_CUSTOMER].unique()
    rows = []
    grid = hyperparameter_grid(config)
    for name in models:
        for hyper in grid.get(name, [{}]):
            model = fit_model(name, hyper, fit_part, categories, groups)
            recs = model.recommend(users, k, config.exclude_seen)
            rows.append({"model": name, **hyper, **ranking_metrics(recs, relevant, k)})
    table = pd.DataFrame(rows)
    chosen = {}
    for name in models:
        best = table[table["model"] == name].sort_values(f"ndcg@{k}", ascending=False, kind="stable").iloc[0]
        chosen[name] = {key: _plain(best[key]) for key in grid.get(name, [{}])[0]}
    return chosen, table


def _plain(value):
    """NaN -> None and numpy scalars -> Python scalars (for metrics.json)."""
    if isinstance(value, float | np.floating) and np.isnan(value):
        return None
    return value.item() if hasattr(value, "item") else value


@dataclass
class Evaluation:
    """Offline evaluation of every model on one train/test split."""

    k: int
    split: str
    metrics: pd.DataFrame  # one row per model
    chosen: dict  # hyperparameters per model
    validation: pd.DataFrame  # every candidate's validation metrics
    recommendations: dict  # model -> top-k DataFrame on the evaluated customers
    models: dict  # model -> fitted Recommender
    relevant: pd.DataFrame
    info: dict = field(default_factory=dict)

    @property
    def best_model(self) -> str:
        """The model with the highest validation NDCG@k (chosen without looking at the test set)."""
        col = f"ndcg@{self.k}"
        best = self.validation.sort_values(col, ascending=False, kind="stable").iloc[0]
        return str(best["model"])

    def precision_per_customer(self, recommendations: pd.DataFrame) -> np.ndarray:
        """precision@k of each evaluated customer (order of ``relevant``; 0 for a customer without a list)."""
        users = pd.unique(self.relevant[COL_CUSTOMER])
        top = recommendations[recommendations["rank"] <= self.k]
        hits = top.merge(self.relevant, on=[COL_CUSTOMER, COL_ITEM])[COL_CUSTOMER].value_counts()
        return hits.reindex(users, fill_value=0).to_numpy(dtype=float) / self.k


def evaluate_recommenders(transactions: pd.DataFrame, config: RecommendationConfig, items: pd.DataFrame | None = None,
                          customers: pd.DataFrame | None = None, cutoff: pd.Timestamp | None = None,
                          horizon_days: int = 90, language: str = "en") -> Evaluation:
    """Split, tune on a validation split of train, fit every model on train and score it on the test customers
    (skip reasons in ``language``)."""
    check_recommendation_inputs(transactions, language)
    k = config.top_n
    categories = item_categories_of(items)
    groups = customer_groups(customers, config.popularity_by)
    if config.split == "time":
        cutoff = time_cutoff(transactions, cutoff, horizon_days)
    train, test = split_transactions(transactions, config, cutoff, horizon_days)
    if train.empty or test.empty:
        raise StageSkipped(t("rec.skip.empty_split", language, split=config.split))
    models, skipped = available_models(config, train[COL_ITEM].nunique(), categories, groups, language)
    chosen, validation = tune(train, config, models, horizon_days, categories, groups)
    relevant = relevant_items(train, test, config.exclude_seen)
    users = relevant[COL_CUSTOMER].unique()
    fitted, recs, rows = {}, {}, []
    for name in models:
        start = time.perf_counter()
        fitted[name] = fit_model(name, chosen[name], train, categories, groups)
        recs[name] = fitted[name].recommend(users, k, config.exclude_seen)
        seconds = time.perf_counter() - start
        popularity = fitted[name].interactions_.popularity()
        rows.append({"model": name, **ranking_metrics(recs[name], relevant, k),
                     **beyond_accuracy_metrics(recs[name], popularity, categories), "seconds": seconds})
    metrics = pd.DataFrame(rows).set_index("model")
    train_items = set(train[COL_ITEM])
    test_pairs = test[[COL_CUSTOMER, COL_ITEM]].drop_duplicates()
    info = {"n_train_lines": len(train), "n_test_lines": len(test), "n_items": len(train_items),
            "n_users_evaluated": int(len(users)),
            "n_test_customers_without_history": int((~test[COL_CUSTOMER].drop_duplicates().isin(train[COL_CUSTOMER])).sum()),
            "n_test_items_unseen_in_train": int((~test[COL_ITEM].drop_duplicates().isin(train_items)).sum()),
            "n_test_pairs": len(test_pairs), "skipped_models": skipped,
            "exclude_seen": config.exclude_seen, "cutoff": cutoff if config.split == "time" else None}
    return Evaluation(k, config.split, metrics, chosen, validation, recs, fitted, relevant, info)


def evaluate_run(run) -> Evaluation:
    """:func:`evaluate_recommenders` on a run's prepared tables, parameters and cutoff."""
    transactions = run.transactions()
    check_recommendation_inputs(transactions, run.params.language)
    check_population(transactions[COL_CUSTOMER].nunique(), run.params)
    return evaluate_recommenders(transactions, run.params.analysis.recommendation, run.items(), run.customers(),
                                 run.cutoff, run.params.analysis.horizon_days, run.params.language)


def cold_start_metrics(transactions: pd.DataFrame, config: RecommendationConfig, items: pd.DataFrame | None,
                       cutoff: pd.Timestamp | None = None, horizon_days: int = 90) -> dict:
    """Accuracy for test customers without any training history: category fallback vs popularity."""
    k = config.top_n
    train, test = split_transactions(transactions, config, cutoff, horizon_days)
    cold = test[~test[COL_CUSTOMER].isin(train[COL_CUSTOMER])][[COL_CUSTOMER, COL_ITEM]].drop_duplicates()
    cold = cold.sort_values([COL_CUSTOMER, COL_ITEM], kind="stable")
    out = {"n_customers": int(cold[COL_CUSTOMER].nunique())}
    if cold.empty:
        return out
    inter = build_interactions(train)
    categories = item_categories_of(items)
    names = ["popularity"] + (["category"] if categories is not None else [])
    for name in names:
        model = make_model(name, {}, categories).fit(inter)
        recs = model.recommend(cold[COL_CUSTOMER].unique(), k, exclude_seen=False)
        out[name] = {key: val for key, val in ranking_metrics(recs, cold, k).items() if key != "n_users"}
    return out


def diversity_summary(evaluation: Evaluation, item_categories: pd.Series | None, lam: float,
                      model: str | None = None, language: str = "en") -> tuple[dict, pd.DataFrame]:
    """MMR re-ranking of ``model`` (default the best) at ``lam`` and the accuracy-vs-diversity curve."""
    if item_categories is None:
        return {"skipped": t("rec.skip.no_categories", language)}, pd.DataFrame()
    k = evaluation.k
    model = model or evaluation.best_model
    fitted = evaluation.models[model]
    users = evaluation.relevant[COL_CUSTOMER].unique()
    candidates = fitted.recommend(users, 5 * k, True)
    lambdas = sorted({*MMR_LAMBDAS, lam}, reverse=True)
    curve = accuracy_diversity_curve(candidates, evaluation.relevant, item_categories, lambdas, k)
    base, at = curve[curve["lambda"] == 1.0].iloc[0], curve[curve["lambda"] == lam].iloc[0]
    summary = {"model": model, "lambda": lam, f"precision@{k}": float(at[f"precision@{k}"]),
               "diversity": float(at["diversity"]), "diversity_before": float(base["diversity"]),
               "precision_cost": float(base[f"precision@{k}"] - at[f"precision@{k}"])}
    return summary, curve


def recommendation_metrics(evaluation: Evaluation, diversity: dict | None = None,
                           cold_start: dict | None = None, decision: Decision | None = None,
                           events: EventsComparison | None = None) -> dict:
    """The ``recommendation`` entry of metrics.json (no timings: those stay in the report, so the same inputs
    give a byte-identical metrics.json)."""
    k = evaluation.k
    keep = [f"{m}@{k}" for m in ("precision", "recall", "ndcg", "map", "hit_rate")] + ["coverage", "diversity",
                                                                                        "novelty"]
    out = {name: {key: _plain(row[key]) for key in keep} for name, row in evaluation.metrics.iterrows()}
    out.update({name: {"skipped": why} for name, why in evaluation.info["skipped_models"].items()})
    out.update({"k": k, "split": evaluation.split, "n_users_evaluated": evaluation.info["n_users_evaluated"],
                "n_items": evaluation.info["n_items"], "best_model": evaluation.best_model,
                "hyperparameters": evaluation.chosen,
                "n_test_items_unseen_in_train": evaluation.info["n_test_items_unseen_in_train"]})
    if diversity is not None:
        out["diversity_rerank"] = diversity
    if cold_start is not None:
        out["cold_start"] = cold_start
    if decision is not None:
        out["decision"] = decision.record()
    if events is not None:
        out["events"] = events.record()
    return out


def final_recommendations(transactions: pd.DataFrame, evaluation: Evaluation, config: RecommendationConfig,
                          items: pd.DataFrame | None = None, customers: pd.DataFrame | None = None,
                          model: str | None = None, language: str = "en",
                          events: pd.DataFrame | None = None) -> pd.DataFrame:
    """The export: ``model`` (default the best; the report passes the decision's export model) refit on all data
    (with the behaviour ``events`` weighted by ``event_weights`` when given: the report passes them only when
    they helped), top-n for every customer with reasons in ``language`` (``customer_id, rank, item_id,
    item_name, score, reason``)."""
    model = model or evaluation.best_model
    categories = item_categories_of(items)
    groups = customer_groups(customers, config.popularity_by)
    fitted = fit_model(model, evaluation.chosen.get(model, {}), transactions, categories, groups, events,
                       config.event_weights)
    ids = transactions[COL_CUSTOMER]
    if customers is not None:
        ids = pd.concat([ids, customers[COL_CUSTOMER]], ignore_index=True)
    ids = pd.Index(pd.unique(ids)).sort_values()
    rerank = config.mmr_lambda < 1 and categories is not None
    recs = fitted.recommend(ids, 5 * config.top_n if rerank else config.top_n, config.exclude_seen)
    if rerank:
        recs = mmr_rerank(recs, categories, config.mmr_lambda, config.top_n)
    names = items.drop_duplicates(COL_ITEM).set_index(COL_ITEM)[COL_NAME] if items is not None and \
        COL_NAME in items.columns else None
    verb = "rated" if COL_RATING in transactions.columns else "bought"
    recs = explain(fitted, recs, names, verb, language)
    recs["item_name"] = recs[COL_ITEM].map(names) if names is not None else recs[COL_ITEM].astype(str)
    return recs[[COL_CUSTOMER, "rank", COL_ITEM, "item_name", "score", "reason"]]


# ----------------------------------------------------------------------------------------------- report text


RANKING_METRICS = ("precision", "recall", "ndcg", "map", "hit_rate")
BEYOND_METRICS = ("coverage", "diversity", "novelty", "seconds")
HYPERPARAMETERS = ("similarity", "half_life_days", "ease_lambda")


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


def plot_model_comparison(evaluation: Evaluation, language: str = "en") -> plt.Figure:
    """Grouped bars: precision, recall, NDCG, hit rate, coverage and diversity per model."""
    k = evaluation.k
    cols = [f"precision@{k}", f"recall@{k}", f"ndcg@{k}", f"hit_rate@{k}", "coverage", "diversity"]
    long = evaluation.metrics[cols].rename(columns=lambda c: metric_label(c, language)).rename(
        index=lambda name: model_label(name, language)).rename_axis("model").reset_index().melt(
        "model", var_name="metric", value_name="value")
    fig, ax = plt.subplots(figsize=(10, 5))
    sns.barplot(long, x="metric", y="value", hue="model", ax=ax)
    ax.set(title=t("rec.chart.comparison_title", language), xlabel="", ylabel=t("rec.chart.value", language))
    ax.legend(title=t("rec.col.model", language), loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3,
              frameon=False)
    fig.tight_layout()
    return fig


def plot_accuracy_diversity(curve: pd.DataFrame, k: int, language: str = "en") -> plt.Figure:
    """precision@k against intra-list diversity for each MMR λ."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    sns.lineplot(curve, x="diversity", y=f"precision@{k}", marker="o", ax=ax)
    for _, row in curve.iterrows():
        ax.annotate(f"λ={row['lambda']:.1f}", (row["diversity"], row[f"precision@{k}"]),
                    textcoords="offset points", xytext=(4, 4), fontsize=9)
    ax.set(title=t("rec.chart.tradeoff_title", language), xlabel=t("rec.chart.tradeoff_x", language),
           ylabel=metric_label(f"precision@{k}", language))
    fig.tight_layout()
    return fig


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
