"""Why an item is recommended: the purchase (or viewed item) that contributes most to its score.

The lists carry the item (``because``: its name, else its id) and the kind of reason (``reason_kind``: ``bought``,
``rated``, ``viewed`` or the fallback model's own); the sentence is written in the report language at the edge
(:func:`cxnb.recommend.tables.reason_texts`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cxnb.constants import (
    COL_CUSTOMER,
    COL_ITEM,
)
from cxnb.recommend.defaults import FALLBACK_REASONS
from cxnb.recommend.interactions import Interactions
from cxnb.recommend.recommender import Recommender

EXPLAIN_PAIRS = 4_000_000  # (recommendation, history item) pairs weighed at once


def explain(model: Recommender, recommendations: pd.DataFrame, item_names: pd.Series | None = None,
            verb: str = "bought") -> pd.DataFrame:
    """Add ``because_item_id`` (the customer's past item contributing most to each recommended item, by
    affinity x item weight; ties: the first in item order), its name ``because`` (the id without a name) and the
    ``reason_kind`` (``verb``: ``bought`` or ``rated``; ``viewed`` for an item only viewed)."""
    inter = model.interactions_
    because = np.full(len(recommendations), None, dtype=object)
    if model.item_weights() is not None:
        best = because_columns(model, inter.rows(recommendations[COL_CUSTOMER]),
                               inter.items.get_indexer(recommendations[COL_ITEM]))
        found = best >= 0
        because[found] = np.asarray(inter.items)[best[found]]
    out = recommendations.assign(because_item_id=because)
    return _with_reason_kinds(model, out, item_names, verb)


def because_columns(model: Recommender, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Per recommendation (history row, item column) the column of the history item with the largest positive
    affinity x weight towards it (-1 for none), in batches of ``EXPLAIN_PAIRS`` pairs."""
    matrix = model.history().tocsr()
    matrix.sort_indices()
    weights = model.item_weights()
    lengths = np.where(rows >= 0, np.diff(matrix.indptr)[np.maximum(rows, 0)], 0)
    out = np.full(len(rows), -1)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    start = 0
    while start < len(rows):
        end = max(start + 1, int(np.searchsorted(bounds, bounds[start] + EXPLAIN_PAIRS, side="right")) - 1)
        out[start:end] = _best_history_items(matrix, weights, rows[start:end], cols[start:end],
                                             lengths[start:end])
        start = end
    return out


def _best_history_items(matrix: sp.csr_matrix, weights, rows: np.ndarray, cols: np.ndarray,
                        lengths: np.ndarray) -> np.ndarray:
    """:func:`because_columns` for one batch: every (recommendation, history item) pair weighed at once."""
    rec = np.repeat(np.arange(len(rows)), lengths)
    offsets = np.arange(len(rec)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    cells = np.repeat(matrix.indptr[np.maximum(rows, 0)], lengths) + offsets
    history, affinity = matrix.indices[cells], matrix.data[cells]
    target = cols[rec]
    contrib = affinity * _weights_at(weights, history, target)
    out = np.full(len(rows), -1)
    if not len(rec):
        return out
    order = np.lexsort((history, -contrib, rec))
    first = order[np.r_[True, rec[order][1:] != rec[order][:-1]]]
    positive = contrib[first] > 0
    out[rec[first][positive]] = history[first][positive]
    return out


def _weights_at(weights, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Entries (rows[i], cols[i]) of a dense or sparse item x item matrix (0 where a sparse one has none)."""
    if not sp.issparse(weights):
        return np.asarray(weights)[rows, cols]
    csr = weights.tocsr()
    csr.sort_indices()
    n = csr.shape[1]
    keys = np.repeat(np.arange(csr.shape[0], dtype=np.int64), np.diff(csr.indptr)) * n + csr.indices
    wanted = rows.astype(np.int64) * n + cols
    at = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
    hit = keys[at] == wanted if len(keys) else np.zeros(len(wanted), dtype=bool)
    return np.where(hit, csr.data[at] if len(keys) else 0.0, 0.0)


def _with_reason_kinds(model: Recommender, out: pd.DataFrame, item_names: pd.Series | None,
                       verb: str) -> pd.DataFrame:
    """``out`` with the name of each recommendation's ``because`` item and the kind of its reason (the model's
    fallback reason where there is no such item)."""
    names = item_names if item_names is not None else pd.Series(dtype=str)
    because = out["because_item_id"]
    label = because.copy()
    named = because.notna().to_numpy()  # names looked up only where there is an item
    found = because[named]
    label[named] = found.map(names).where(found.isin(names.index), found)
    fallback = model.name if model.name in FALLBACK_REASONS else "popularity"
    has_item = label.notna().to_numpy()
    bought = np.ones(len(out), dtype=bool)  # looked up only where there is an item to name
    bought[has_item] = _was_bought(model.interactions_, out[COL_CUSTOMER][has_item], because[has_item])
    verbs = np.where(bought, verb, "viewed")
    return out.assign(because=label, reason_kind=np.where(has_item, verbs, fallback))


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
