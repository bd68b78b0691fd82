"""What the recommenders learn from: the customers x items matrix of purchases (and weighted behaviour events)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from cxnb.constants import (
    COL_CUSTOMER,
    COL_EVENT,
    COL_ITEM,
    COL_QUANTITY,
    COL_RATING,
    COL_TIMESTAMP,
    PURCHASE,
)


def with_object_ids(table: pd.DataFrame | None) -> pd.DataFrame | None:
    """``table`` with its customer and item ids as Python strings: membership tests and index look-ups on
    Arrow-backed strings go one value at a time, on objects through a hash table (same values, same order)."""
    if table is None:
        return None
    ids = [c for c in (COL_CUSTOMER, COL_ITEM) if c in table.columns and pd.api.types.is_string_dtype(table[c])
           and table[c].dtype != object]
    return table.astype(dict.fromkeys(ids, object)) if ids else table


def id_index(values) -> pd.Index:
    """The distinct ids in order of appearance, in the dtype of a Series, Index or array (pandas would turn an
    object array of strings into Arrow strings, whose look-ups go one value at a time)."""
    dtype = getattr(values, "dtype", None)
    return pd.Index(values, dtype=dtype).unique() if dtype is not None else pd.Index(pd.unique(pd.Series(values)))


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

    @cached_property
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

    @cached_property
    def cooccurrence(self) -> sp.csr_matrix:
        """Item x item co-occurrence counts BᵀB of :attr:`binary` (CSR, sorted indices)."""
        binary = self.binary
        return (binary.T @ binary).tocsr().sorted_indices()

    @cached_property
    def similarities(self) -> dict[str, sp.csr_matrix]:
        """Item x item similarities of :attr:`cooccurrence` by kind, filled by the models that compute them."""
        return {}

    def same_cells(self, other: Interactions) -> bool:
        """Whether both matrices hold the same cells of the same customers and items (weights aside)."""
        a, b = self.matrix, other.matrix
        return (self.strength is None and other.strength is None and a.shape == b.shape
                and self.users.equals(other.users) and self.items.equals(other.items)
                and np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices))

    def sharing_counts_of(self, other: Interactions) -> Interactions:
        """This, reusing ``other``'s binary matrix, co-occurrence counts and similarities when both hold the same
        cells (purchases only): decayed weights change none of them."""
        if self.same_cells(other):
            for name in ("binary", "cooccurrence", "similarities"):
                self.__dict__[name] = getattr(other, name)
        return self

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


@dataclass
class LineCodes:
    """Each line's row and column in the interactions matrix, and the sorted customer and item ids behind them."""

    rows: np.ndarray
    users: pd.Index
    cols: np.ndarray
    items: pd.Index


def line_codes(lines: pd.DataFrame, items: pd.Index | None = None) -> LineCodes:
    """Row (sorted customer ids, missing last) and column (``items``, default the sorted item ids) of each line;
    -1 for an item not in ``items``."""
    # Sorted ids, so ties between items break the same way whatever order the lines come in.
    rows, users = sorted_codes(lines[COL_CUSTOMER], COL_CUSTOMER)
    if items is None:
        cols, items = sorted_codes(lines[COL_ITEM], COL_ITEM)
    else:
        cols = items.get_indexer(lines[COL_ITEM])
    return LineCodes(rows, users, cols, items)


def build_interactions(transactions: pd.DataFrame, value: str = "auto", half_life_days: float | None = None,
                       now: pd.Timestamp | None = None, items: pd.Index | None = None,
                       events: pd.DataFrame | None = None, event_weights: dict[str, float] | None = None,
                       codes: LineCodes | None = None) -> Interactions:
    """Sum of line weights per customer and item, each decayed by 0.5 per ``half_life_days`` before ``now``.

    ``items`` fixes the columns (lines of other items are dropped); by default every item in the data. With
    ``events`` (see :func:`behaviour_events`) and ``event_weights`` purchase lines weigh ``purchase`` times their
    own weight and each behaviour event its type's weight. ``codes``: :func:`line_codes` of ``transactions``
    computed before (with the same ``items``; ignored with events), to skip the id look-ups.
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
    if codes is None or with_events:
        codes = line_codes(lines, items)
    rows, users, cols, items = codes.rows, codes.users, codes.cols, codes.items
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


def sorted_codes(values: pd.Series, name: str) -> tuple[np.ndarray, pd.Index]:
    """Position of each value among the sorted distinct values (missing ones last), and those values."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    order = string_order(uniques)
    if order is None:
        codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=False)
    else:
        position = np.empty(len(order), dtype=np.intp)
        position[order] = np.arange(len(order))
        codes, uniques = position[codes], uniques[order]
    return codes, pd.Index(uniques, dtype=values.dtype, name=name)


def sorted_ids(ids: pd.Index) -> pd.Index:
    """``ids.sort_values()``, sorted by Arrow when they are Python strings (see :func:`string_order`)."""
    order = string_order(ids.to_numpy())
    return ids.sort_values() if order is None else ids.take(order)


def string_order(values: np.ndarray) -> np.ndarray | None:
    """The sorting permutation of an object array of Python strings, sorted by Arrow (UTF-8 byte order is code
    point order, that of Python; ``sorted`` compares one pair at a time); None for anything else."""
    if values.dtype != object or pd.api.types.infer_dtype(values, skipna=False) != "string":
        return None
    return pc.sort_indices(pa.array(values, type=pa.string())).to_numpy()


def _cell_max(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """CSR matrix holding the largest of the values given for each cell."""
    cells = pd.DataFrame({"row": rows, "col": cols, "value": values}).groupby(["row", "col"], sort=True)["value"].max()
    return sp.csr_matrix((cells.to_numpy(), (cells.index.get_level_values(0), cells.index.get_level_values(1))),
                         shape=shape)
