"""Bestseller models: popularity overall or within the customer's group, and category popularity (the fallback)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cxnb.recommend.defaults import UNKNOWN_CATEGORY
from cxnb.recommend.interactions import Interactions
from cxnb.recommend.recommender import Recommender, prefix_cells


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
        row, cell = prefix_cells(group * n_items, depth)
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
        pair, cell = prefix_cells(np.tile(starts, len(rows)), lengths.ravel())
        row = pair // len(sizes)
        col = self.by_category_[cell]
        value = shares[row, self.item_category_[col]] * self.item_boost_[col]
        outside = np.where(sizes[None, :] > depth[:, None], shares / (depth[:, None] + 1.0), -np.inf).max(axis=1)
        return row, col, value, value, np.nextafter(outside, np.inf)
