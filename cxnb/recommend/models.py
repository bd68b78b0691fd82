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
    CANDIDATE_CELLS,
    EASE_ITEM_LIMIT,
    PROBE_ITEMS,
    SCORE_BATCH_CELLS,
    SIMILARITIES,
    UNKNOWN_CATEGORY,
)
from cxnb.recommend.interactions import Interactions, id_index


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


def _kth_largest(row: np.ndarray, values: np.ndarray, k: int, n_rows: int) -> np.ndarray:
    """Each row's k-th largest value (-inf for a row with fewer than k cells), from rows padded to a few widths."""
    counts = np.bincount(row, minlength=n_rows)
    out = np.full(n_rows, -np.inf)
    order = np.argsort(row, kind="stable")  # candidate cells come in a few row-sorted runs: near linear
    starts = np.cumsum(counts) - counts
    offset = np.arange(len(row)) - starts[row[order]]
    width = np.maximum(k, 2 ** np.ceil(np.log2(np.maximum(counts, 1)))).astype(np.int64)
    for w in np.unique(width[counts >= k]):
        rows_w = np.flatnonzero((width == w) & (counts >= k))
        slot = np.full(n_rows, -1)
        slot[rows_w] = np.arange(len(rows_w))
        cells = slot[row[order]] >= 0
        block = np.full((len(rows_w), w), -np.inf)
        block[slot[row[order][cells]], offset[cells]] = values[order][cells]
        out[rows_w] = -np.partition(-block, k - 1, axis=1)[:, k - 1]
    return out


def _candidate_top_k(row: np.ndarray, col: np.ndarray, rank_by: np.ndarray, k: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Positions of each row's k best candidate cells, best first (ties: lower column), and their ranks; only the
    cells at or above a row's k-th largest value are sorted."""
    n_rows = int(row.max()) + 1 if len(row) else 0
    keep = np.flatnonzero(rank_by >= _kth_largest(row, rank_by, k, n_rows)[row])
    order = keep[np.lexsort((col[keep], -rank_by[keep], row[keep]))]
    rank = np.arange(len(order)) - np.searchsorted(row[order], row[order])
    keep = rank < k
    return order[keep], rank[keep] + 1


def _prefix_cells(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For segments (start, length) of a flat array: each cell's segment and its flat index."""
    seg = np.repeat(np.arange(len(lengths)), lengths)
    offset = np.arange(len(seg)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return seg, np.repeat(starts, lengths) + offset


def _batches(counts: np.ndarray, cells: int) -> list[slice]:
    """Consecutive slices of rows whose ``counts`` add up to at most ``cells`` (at least one row each)."""
    total = np.concatenate([[0], np.cumsum(counts)])
    out, start = [], 0
    while start < len(counts):
        end = max(start + 1, int(np.searchsorted(total, total[start] + cells, side="right")) - 1)
        out.append(slice(start, end))
        start = end
    return out


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
        ids = id_index(customer_ids)
        rows = self.interactions_.rows(ids)
        known = rows >= 0 if not self.scores_unknown_users else np.ones(len(ids), dtype=bool)
        frames = [self._recommend_rows(ids[known], rows[known], k, exclude_seen)]
        if self.cold_start is not None and (~known).any():
            frames.append(self.cold_start.recommend(ids[~known], k, exclude_seen))
        return pd.concat(frames, ignore_index=True)

    def candidate_counts(self, rows: np.ndarray, depth: np.ndarray) -> np.ndarray | None:
        """Upper bound of the candidate cells :meth:`candidate_scores` returns per row; None = no candidates."""
        return None

    def candidate_scores(self, rows: np.ndarray, depth: np.ndarray) -> tuple[np.ndarray, ...]:
        """Candidate cells per row (``row`` position in ``rows``, ``col``, ``score``, ``rank_by``), at least the
        row's ``depth`` best where the model can tell, and per row a ``bound``: every other cell ranks after any
        candidate whose ranking score is at least the bound (-inf when every item is a candidate)."""
        raise NotImplementedError

    def _recommend_rows(self, ids: pd.Index, rows: np.ndarray, k: int, exclude_seen: bool) -> pd.DataFrame:
        """Top-k from the candidate cells where they settle it, else (and for models without any) from the dense
        scores; both give the same lists."""
        n_seen = np.diff(self.interactions_.seen.indptr)[np.maximum(rows, 0)] * (rows >= 0) * exclude_seen
        depth = np.minimum(k + n_seen, len(self.interactions_.items))  # enough candidates after the seen ones
        counts = self.candidate_counts(rows, depth) if len(rows) else None
        dense = np.arange(len(rows))
        frames = []
        if counts is not None:
            dense = []
            for part in _batches(counts, CANDIDATE_CELLS):
                top_rows, top_cols, rank, score, unsettled = self._candidate_batch(rows[part], depth[part], k,
                                                                                   exclude_seen)
                frames.append((part.start + top_rows, top_cols, rank, score))
                dense.append(part.start + unsettled)
            dense = np.concatenate(dense)
        batch = max(1, SCORE_BATCH_CELLS // max(len(self.interactions_.items), 1))
        probe = np.argsort(-self.interactions_.popularity().to_numpy(), kind="stable")[:PROBE_ITEMS]
        for start in range(0, len(dense), batch):
            part = dense[start:start + batch]
            top_rows, top_cols, rank, score = self._dense_batch(rows[part], k, exclude_seen, probe)
            frames.append((part[top_rows], top_cols, rank, score))
        if not frames:
            return pd.DataFrame({COL_CUSTOMER: [], "rank": [], COL_ITEM: [], "score": []})
        pos, cols, rank, score = (np.concatenate(parts) for parts in zip(*frames, strict=True))
        order = np.lexsort((rank, pos))
        return pd.DataFrame({COL_CUSTOMER: ids.take(pos[order]), "rank": rank[order],
                             COL_ITEM: self.interactions_.items.take(cols[order]), "score": score[order]})

    def _dense_batch(self, part: np.ndarray, k: int, exclude_seen: bool, probe: np.ndarray) -> tuple[np.ndarray, ...]:
        """Row position, column, rank and score of the top-k of these rows from their dense scores."""
        scores = self.score_rows(part)
        rank_by = self.ranking_scores(scores)
        rank_by = rank_by.copy() if rank_by is scores else rank_by
        if exclude_seen:
            known = np.flatnonzero(part >= 0)
            seen_rows, seen_cols = self.interactions_.seen[part[known]].nonzero()
            rank_by[known[seen_rows], seen_cols] = -np.inf
        top_rows, top_cols, rank = _top_k(rank_by, k, probe)
        return top_rows, top_cols, rank, scores[top_rows, top_cols]

    def _candidate_batch(self, part: np.ndarray, depth: np.ndarray, k: int, exclude_seen: bool
                         ) -> tuple[np.ndarray, ...]:
        """The top-k of these rows from their candidate cells (row position, column, rank, score) and the rows
        those cannot settle (fewer than k candidates or a k-th best below the bound of the other cells)."""
        row, col, score, rank_by, bound = self.candidate_scores(part, depth)
        n_items = len(self.interactions_.items)
        if exclude_seen:
            known = np.flatnonzero(part >= 0)
            seen_rows, seen_cols = self.interactions_.seen[part[known]].nonzero()
            seen_keys = np.sort(known[seen_rows].astype(np.int64) * n_items + seen_cols)
            keys = row.astype(np.int64) * n_items + col
            at = np.minimum(np.searchsorted(seen_keys, keys), max(len(seen_keys) - 1, 0))
            keep = seen_keys[at] != keys if len(seen_keys) else np.ones(len(keys), dtype=bool)
            row, col, score, rank_by = row[keep], col[keep], score[keep], rank_by[keep]
        top, rank = _candidate_top_k(row, col, rank_by, k)
        found = np.bincount(row[top], minlength=len(part))
        kth = np.full(len(part), np.inf)
        last = rank == k
        kth[row[top][last]] = rank_by[top][last]
        outside_left = bound > -np.inf
        settled = ~outside_left | ((found == k) & (kth >= bound))
        ok = settled[row[top]]
        return row[top][ok], col[top][ok], rank[ok], score[top][ok], np.flatnonzero(~settled)


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
        if self.groups is not None:
            self._fit_groups(interactions)
        self.lists_ = self._lists()

    def _fit_groups(self, interactions: Interactions) -> None:
        """Each customer's group and each group's item shares."""
        binary = interactions.binary
        labels = self.groups.reindex(interactions.users)
        codes, uniques = pd.factorize(labels, sort=True)
        self.group_of_user_ = codes
        onehot = sp.csr_matrix((np.ones((codes >= 0).sum()), (codes[codes >= 0], np.flatnonzero(codes >= 0))),
                               shape=(len(uniques), binary.shape[0]))
        sizes = np.maximum(np.asarray(onehot.sum(axis=1)).ravel(), 1)
        self.group_scores_ = (onehot @ binary).toarray() / sizes[:, None]

    def _lists(self) -> tuple[np.ndarray, np.ndarray]:
        """Per list (row 0 overall, then one per group): every column best first (ties: lower column) and its
        scores in that order."""
        tables = np.vstack([self.global_[None, :], self.group_scores_])
        order = np.argsort(-tables, axis=1, kind="stable")
        return order, np.take_along_axis(tables, order, axis=1)

    def candidate_counts(self, rows: np.ndarray, depth: np.ndarray) -> np.ndarray:
        return depth

    def candidate_scores(self, rows: np.ndarray, depth: np.ndarray) -> tuple[np.ndarray, ...]:
        """The first ``depth`` items of the row's list: every other item ranks after them."""
        order, scores = self.lists_
        group = np.where(rows >= 0, self.group_of_user_[np.maximum(rows, 0)], -1) + 1
        n_items = order.shape[1]
        row, cell = _prefix_cells(group * n_items, depth)
        value = scores.ravel()[cell]
        nxt = np.append(scores, np.full((len(scores), 1), -np.inf), axis=1)[group, depth]
        return row, order.ravel()[cell], value, value, nxt

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
        self.by_category_ = np.lexsort((rank_in_cat, codes))  # items by category, best first within each
        self.category_sizes_ = np.bincount(codes, minlength=len(self.categories_))

    def _shares(self, rows: np.ndarray) -> np.ndarray:
        """Smoothed category shares of these customers' histories (overall shares without history)."""
        known = rows >= 0
        user_counts = np.zeros((len(rows), len(self.categories_)))
        user_counts[known] = self.user_category_[rows[known]].toarray()
        totals = user_counts.sum(axis=1, keepdims=True)
        return (user_counts + self.smoothing * self.global_share_) / (totals + self.smoothing)

    def score_rows(self, rows: np.ndarray) -> np.ndarray:
        return self._shares(rows)[:, self.item_category_] * self.item_boost_

    def candidate_counts(self, rows: np.ndarray, depth: np.ndarray) -> np.ndarray:
        return np.minimum(depth[:, None], self.category_sizes_[None, :]).sum(axis=1)

    def candidate_scores(self, rows: np.ndarray, depth: np.ndarray) -> tuple[np.ndarray, ...]:
        """The first ``depth`` items of every category; an item further down its category scores at most the
        category's share / (depth + 1), and may tie with a candidate, so the bound is just above that."""
        shares = self._shares(rows)
        sizes = self.category_sizes_
        starts = np.cumsum(sizes) - sizes
        lengths = np.minimum(depth[:, None], sizes[None, :])
        pair, cell = _prefix_cells(np.tile(starts, len(rows)), lengths.ravel())
        row = pair // len(sizes)
        col = self.by_category_[cell]
        value = shares[row, self.item_category_[col]] * self.item_boost_[col]
        outside = np.where(sizes[None, :] > depth[:, None], shares / (depth[:, None] + 1.0), -np.inf).max(axis=1)
        return row, col, value, value, np.nextafter(outside, np.inf)


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
        self.popular_order_ = np.argsort(-self.popularity_, kind="stable")

    def score_rows(self, rows: np.ndarray) -> np.ndarray:
        return (self.interactions_.matrix[rows] @ self.similarity_).toarray()

    def history(self) -> sp.csr_matrix:
        return self.interactions_.matrix

    def ranking_scores(self, scores: np.ndarray) -> np.ndarray:
        return np.where(scores > 0, scores, self.popularity_ - 1.0)

    def candidate_counts(self, rows: np.ndarray, depth: np.ndarray) -> np.ndarray:
        per_item = np.diff(self.similarity_.indptr)
        reach = self.interactions_.binary[rows] @ per_item  # co-occurring cells, counted with repeats
        return np.asarray(reach).ravel() + depth

    def candidate_scores(self, rows: np.ndarray, depth: np.ndarray) -> tuple[np.ndarray, ...]:
        """Every cell with a positive score, and the row's ``depth`` most popular items (ranked by popularity - 1
        when their score is 0): every other cell ranks after those."""
        product = (self.interactions_.matrix[rows] @ self.similarity_).tocsr()
        product.sort_indices()
        order = self.popular_order_
        n_items = len(order)
        p_row, cell = _prefix_cells(np.zeros(len(rows), dtype=np.int64), depth)
        p_col = order[cell]
        keys = np.repeat(np.arange(len(rows), dtype=np.int64), np.diff(product.indptr)) * n_items + product.indices
        p_keys = p_row.astype(np.int64) * n_items + p_col
        at = np.minimum(np.searchsorted(keys, p_keys), max(len(keys) - 1, 0))
        extra = keys[at] != p_keys if len(keys) else np.ones(len(p_keys), dtype=bool)
        row = np.concatenate([keys // n_items, p_row[extra]])
        col = np.concatenate([product.indices, p_col[extra]])
        score = np.concatenate([product.data, np.zeros(int(extra.sum()))])
        rank_by = np.where(score > 0, score, self.popularity_[col] - 1.0)
        nxt = np.append(self.popularity_[order] - 1.0, -np.inf)[depth]
        return row, col, score, rank_by, nxt

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
