"""Train/test splits for offline evaluation: by time (the default) or stratified per customer or item."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxnb.config import RecommendationConfig
from cxnb.constants import (
    COL_CUSTOMER,
    COL_ITEM,
    COL_ORDER,
    COL_TIMESTAMP,
    SEED,
)
from cxnb.recommend.interactions import sorted_codes


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
        pairs = pairs[~pairs_in(pairs, train)]
    return sorted_pairs(pairs).reset_index(drop=True)


def sorted_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """``pairs.sort_values([customer_id, item_id], kind="stable")``, the ids ranked once by Arrow (see
    :func:`cxnb.recommend.interactions.string_order`) instead of compared one pair at a time."""
    customer, item = (sorted_codes(pairs[col], col)[0] for col in (COL_CUSTOMER, COL_ITEM))
    return pairs.iloc[np.lexsort((item, customer))]


def pairs_in(left: pd.DataFrame, right: pd.DataFrame) -> np.ndarray:
    """Whether each (customer, item) pair of ``left`` is also a pair of ``right`` (ids matched as integer codes:
    a merge on two string columns is the slow part of scoring lists at scale)."""
    right_codes, left_codes = [], []
    for col in (COL_CUSTOMER, COL_ITEM):
        codes, uniques = pd.factorize(right[col])
        right_codes.append(codes.astype(np.int64))
        left_codes.append(pd.Index(uniques, dtype=right[col].dtype).get_indexer(left[col]).astype(np.int64))
    n_items = int(right_codes[1].max()) + 1 if len(right) else 1
    right_keys = np.sort(right_codes[0] * n_items + right_codes[1])
    known = (left_codes[0] >= 0) & (left_codes[1] >= 0)
    keys = left_codes[0][known] * n_items + left_codes[1][known]
    at = np.minimum(np.searchsorted(right_keys, keys), max(len(right_keys) - 1, 0))
    out = np.zeros(len(left), dtype=bool)
    out[known] = right_keys[at] == keys if len(right_keys) else False
    return out
