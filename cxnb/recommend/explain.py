"""Why an item is recommended: the purchase (or viewed item) that contributes most to its score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cxnb.constants import (
    COL_CUSTOMER,
    COL_ITEM,
)
from cxnb.i18n import t
from cxnb.recommend.defaults import FALLBACK_REASONS
from cxnb.recommend.interactions import Interactions
from cxnb.recommend.models import Recommender


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
