"""Item-to-item models: co-occurrence collaborative filtering (SAR family) and EASE."""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from cxnb.recommend import defaults
from cxnb.recommend.defaults import EASE_ITEM_LIMIT, SIMILARITIES
from cxnb.recommend.interactions import Interactions
from cxnb.recommend.recommender import Recommender, prefix_cells


def cooccurrence_similarity(binary: sp.csr_matrix, kind: str = "jaccard") -> sp.csr_matrix:
    """Item x item similarity from co-occurrence counts C = BᵀB: cosine c/√(cᵢcⱼ), jaccard c/(cᵢ+cⱼ-c), lift c/(cᵢcⱼ)."""
    if kind not in SIMILARITIES:
        raise ValueError(f"similarity must be one of {', '.join(SIMILARITIES)}, not {kind!r}")
    return similarity_from_counts((binary.T @ binary).tocsr(), np.asarray(binary.sum(axis=0)).ravel(), kind)


def similarity_from_counts(co: sp.csr_matrix, diag: np.ndarray, kind: str = "jaccard",
                           row_totals: np.ndarray | None = None) -> sp.csr_matrix:
    """:func:`cooccurrence_similarity` from the co-occurrence counts ``co`` (CSR) and the items' totals ``diag``
    (``row_totals``: the totals of the rows' items when ``co`` holds a block of rows)."""
    co = co if co.has_sorted_indices else co.sorted_indices()
    rows = np.repeat(np.arange(co.shape[0]), np.diff(co.indptr))
    ci, cj = (diag if row_totals is None else row_totals)[rows], diag[co.indices]
    if kind == "cosine":
        values = co.data / np.sqrt(ci * cj)
    elif kind == "jaccard":
        values = co.data / (ci + cj - co.data)
    else:
        values = co.data / (ci * cj)
    return sp.csr_matrix((values, co.indices, co.indptr), shape=co.shape)


def item_pairs(binary: sp.csr_matrix) -> int:
    """A bound of the item pairs the customers' histories make (cells of the co-occurrence matrix): the pairs
    within each customer's items, at most items²."""
    per_customer = np.diff(binary.indptr).astype(np.int64)
    return min(int((per_customer ** 2).sum()), binary.shape[1] ** 2)


def neighbours_kept(binary: sp.csr_matrix) -> int | None:
    """How many most similar items item CF keeps per item: None (all of them) unless :func:`item_pairs`
    exceeds ``EXACT_SIMILARITY_CELLS``."""
    return defaults.NEIGHBOURS if item_pairs(binary) > defaults.EXACT_SIMILARITY_CELLS else None


def top_neighbours(sim: sp.csr_matrix, n: int) -> sp.csr_matrix:
    """Each row's ``n`` largest entries (ties: the lower column first); the others dropped."""
    sim = sim if sim.has_sorted_indices else sim.sorted_indices()
    lengths = np.diff(sim.indptr)
    keep = np.ones(sim.nnz, dtype=bool)
    for i in np.flatnonzero(lengths > n):
        start, end = sim.indptr[i], sim.indptr[i + 1]
        values = sim.data[start:end]
        kth = np.partition(values, len(values) - n)[len(values) - n]
        row_keep = values > kth
        ties = np.flatnonzero(values == kth)[:n - int(row_keep.sum())]
        row_keep[ties] = True
        keep[start:end] = row_keep
    rows = np.repeat(np.arange(sim.shape[0]), lengths)[keep]
    return sp.csr_matrix((sim.data[keep], (rows, sim.indices[keep])), shape=sim.shape)


def neighbour_similarities(binary: sp.csr_matrix, kinds, n: int,
                           block: int = defaults.NEIGHBOUR_BLOCK_ITEMS) -> dict[str, sp.csr_matrix]:
    """Each kind's item x item similarity keeping every item's ``n`` most similar items, computed a block of
    items at a time: the whole co-occurrence matrix is never held."""
    totals = np.asarray(binary.sum(axis=0)).ravel()
    by_item = binary.tocsc()
    parts: dict[str, list] = {kind: [] for kind in kinds}
    for start in range(0, binary.shape[1], block):
        end = min(start + block, binary.shape[1])
        co = (by_item[:, start:end].T @ binary).tocsr()
        for kind in kinds:
            parts[kind].append(top_neighbours(similarity_from_counts(co, totals, kind, totals[start:end]), n))
    return {kind: sp.vstack(blocks, format="csr") for kind, blocks in parts.items()}


class ItemItemCF(Recommender):
    """SAR-family item-item CF: score = customer affinity (decayed weights) x item co-occurrence similarity.
    Items no history item co-occurs with are ranked after all others by popularity. On a catalogue whose item
    pairs are too many, each item keeps its ``neighbours_`` most similar items (None: all of them)."""

    name = "item_cf"

    def __init__(self, similarity: str = "jaccard", cold_start: Recommender | None = None):
        super().__init__(cold_start=cold_start)
        self.similarity = similarity

    def _fit(self, interactions: Interactions) -> None:
        if self.similarity not in SIMILARITIES:
            raise ValueError(f"similarity must be one of {', '.join(SIMILARITIES)}, not {self.similarity!r}")
        known = interactions.similarities  # shared by every half-life of the same purchases
        self.neighbours_ = neighbours_kept(interactions.binary)
        if self.similarity not in known and self.neighbours_ is not None:  # every kind in one pass of blocks
            known.update(neighbour_similarities(interactions.binary, SIMILARITIES, self.neighbours_))
        if self.similarity not in known:
            totals = np.asarray(interactions.binary.sum(axis=0)).ravel()
            known[self.similarity] = similarity_from_counts(interactions.cooccurrence, totals, self.similarity)
        self.similarity_ = known[self.similarity]
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
        p_row, cell = prefix_cells(np.zeros(len(rows), dtype=np.int64), depth)
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
        with threadpool_limits(1, user_api="blas"):  # on shared cores BLAS threads spin-wait: 10-30x slower
            precision = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)
        weights = precision / (-np.diag(precision))
        np.fill_diagonal(weights, 0.0)
        self.weights_ = weights

    def score_rows(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.interactions_.binary[rows] @ self.weights_)

    def item_weights(self):
        return self.weights_
