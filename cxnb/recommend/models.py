"""The recommenders: popularity, group and category popularity, item-item CF (SAR family), EASE; fit/recommend."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp

from cxnb.constants import (
    COL_CUSTOMER,
    COL_ITEM,
    DEFAULT_K,
)
from cxnb.recommend.defaults import (
    EASE_ITEM_LIMIT,
    PROBE_ITEMS,
    SCORE_BATCH_CELLS,
    SIMILARITIES,
    UNKNOWN_CATEGORY,
)
from cxnb.recommend.interactions import Interactions


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
