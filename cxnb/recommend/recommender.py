"""The shared recommender interface (``fit``, ``recommend``) and the top-k search every model's lists come from."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cxnb.constants import (
    COL_CUSTOMER,
    COL_ITEM,
    DEFAULT_K,
)
from cxnb.recommend.defaults import CANDIDATE_CELLS, PROBE_ITEMS, SCORE_BATCH_CELLS
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
    sorted_rows = row[order]
    offset = np.arange(len(row)) - (np.cumsum(counts) - counts)[sorted_rows]
    width = np.maximum(k, 2 ** np.ceil(np.log2(np.maximum(counts, 1)))).astype(np.int64)
    width[counts < k] = 0  # rows with fewer than k cells keep -inf
    cell_width = width[sorted_rows]
    slot = np.empty(n_rows, dtype=np.int64)
    for w in np.unique(width[width > 0]):
        rows_w = np.flatnonzero(width == w)
        slot[rows_w] = np.arange(len(rows_w))
        cells = np.flatnonzero(cell_width == w)
        block = np.full((len(rows_w), w), -np.inf)
        block[slot[sorted_rows[cells]], offset[cells]] = values[order[cells]]
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


def prefix_cells(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
