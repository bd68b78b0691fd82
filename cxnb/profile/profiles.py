"""One profile row per customer: days since the last order, orders, spend, tenure, order value, time between
orders, favourite category and the share of spend per category; the names every report gives these columns."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from cxnb import engine
from cxnb.constants import COL_AMOUNT, COL_CATEGORY, COL_CUSTOMER, COL_ITEM
from cxnb.data.aggregates import AGGREGATES_DIR
from cxnb.i18n import Message, text_of

MAX_CATEGORY_SHARES = 10


def customer_profiles(transactions, items=None, as_of=None, con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """One row per customer from cleaned canonical transactions, up to ``as_of``.

    ``transactions`` is a DataFrame, a Parquet path (both aggregated by DuckDB, on ``con`` when given) or a
    :class:`cxnb.engine.Engine` (a SQL server or Spark). Only lines strictly before ``as_of`` are used;
    ``as_of`` defaults to the day after the last line. The aggregation runs where the data is, so only the
    customer-level table comes back into pandas; on a file prepare wrote, with ``as_of`` after its last line, the
    ``customers_end`` aggregate beside it is read instead.
    """
    eng = transactions if isinstance(transactions, engine.Engine) else engine.from_duckdb(transactions, con)
    stored = _stored_totals(transactions)
    if as_of is None:
        last = stored["last_order"].max() if stored is not None else engine.last_timestamp(eng)
        as_of = pd.Timestamp(last).normalize() + pd.Timedelta(days=1)
    as_of = pd.Timestamp(as_of)
    expr = engine.customer_aggregates(eng.table, as_of)
    if stored is not None and not (stored["last_order"] >= as_of).any():  # every line is before as_of
        base = engine.uniform_frame(stored, expr.schema()).sort_values(COL_CUSTOMER, kind="mergesort")
        base = base.reset_index(drop=True)
    else:
        base = eng.frame(expr, keys=[COL_CUSTOMER])
    day = pd.Timedelta(days=1)
    base["days_since_last_order"] = (as_of - base["last_order"]) / day
    base["tenure_days"] = (as_of - base["first_order"]) / day
    base["avg_order_value"] = base["monetary"] / base["frequency"]
    span = (base["last_order"] - base["first_order"]) / day
    base["mean_interpurchase_days"] = (span / (base["frequency"] - 1)).where(base["frequency"] > 1)
    if items is not None and COL_ITEM in eng.table.columns:
        shares = _category_shares(eng, items, as_of)
        base = base.merge(shares, on=COL_CUSTOMER, how="left")
    return base


def _stored_totals(transactions) -> pd.DataFrame | None:
    """The ``customers_end`` aggregate prepare wrote beside a prepared transactions file (the same figures as
    ``customer_aggregates`` of all its lines), or None."""
    if not isinstance(transactions, (str, Path)) or Path(transactions).name != "transactions.parquet":
        return None
    path = Path(transactions).parent / AGGREGATES_DIR / "customers_end.parquet"
    return pd.read_parquet(path) if path.exists() else None


def _category_shares(eng: engine.Engine, items, as_of: pd.Timestamp) -> pd.DataFrame:
    """Favourite category and the share of spend (or of lines, without prices) per top category."""
    it = eng.attach(items)
    if COL_CATEGORY not in it.columns:
        return pd.DataFrame(columns=[COL_CUSTOMER])
    by_spend = COL_AMOUNT in eng.table.columns
    long = eng.frame(engine.category_weights(eng.table, it, as_of, by_spend), keys=[COL_CUSTOMER, COL_CATEGORY])
    totals = long.groupby(COL_CATEGORY)["w"].sum().sort_values(ascending=False, kind="mergesort")
    top = list(totals.index[:MAX_CATEGORY_SHARES])
    long[COL_CATEGORY] = long[COL_CATEGORY].where(long[COL_CATEGORY].isin(top), "other")
    wide = long.pivot_table(index=COL_CUSTOMER, columns=COL_CATEGORY, values="w", aggfunc="sum", fill_value=0.0)
    order = [c for c in top if c in wide.columns] + (["other"] if "other" in wide.columns else [])
    wide = wide[order]
    fav = wide.idxmax(axis=1)
    share = wide.div(wide.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
    share.columns = [f"share_{c}" for c in share.columns]
    out = share.reset_index()
    out.insert(1, "favourite_category", fav.to_numpy())
    return out


LABELLED_FEATURES = ("days_since_last_order", "frequency", "monetary", "tenure_days", "avg_order_value",
                     "mean_interpurchase_days", "n_items", "units", "n_lines")


def feature_name(column: str) -> Message | str:
    """A profile column as every report names it: its catalogue label, 'share of spend on X', or the column."""
    if column in LABELLED_FEATURES:
        return Message(f"feature.{column}")
    if column.startswith("share_"):
        return Message("feature.share", category=column.removeprefix("share_"))
    return column.replace("_", " ")


def feature_label(column: str, language: str = "en") -> str:
    """The name of a profile column (``feature_name``) in ``language``."""
    return text_of(feature_name(column), language)


def share_columns(profiles: pd.DataFrame) -> list[str]:
    """The category-share columns of a profile table."""
    return [c for c in profiles.columns if c.startswith("share_")]
