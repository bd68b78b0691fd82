"""Client column names to canonical ones: what is mapped, what is found verbatim, what is missing."""

from __future__ import annotations

from cxnb.config import Params
from cxnb.constants import (
    COL_AMOUNT,
    COL_CATEGORY,
    COL_CUSTOMER,
    COL_EVENT,
    COL_ITEM,
    COL_NAME,
    COL_ORDER,
    COL_PRICE,
    COL_QUANTITY,
    COL_RATING,
    COL_TIMESTAMP,
)
from cxnb.data.base import _where
from cxnb.errors import DataError, did_you_mean


def _raw_columns(con, view: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE {view}").fetchall()}


def column_mapping(params: Params, table: str, raw_columns: list[str]) -> dict[str, str]:
    """Canonical name -> client column; unmapped canonical names found verbatim are mapped to themselves."""
    cfg = params.tables()[table]
    canonical = {"transactions": (COL_CUSTOMER, COL_TIMESTAMP, COL_ORDER, COL_ITEM, COL_QUANTITY, COL_PRICE,
                                  COL_AMOUNT, COL_RATING, COL_EVENT),
                 "customers": (COL_CUSTOMER,), "items": (COL_ITEM, COL_NAME, COL_CATEGORY)}[table]
    mapping = dict(cfg.columns)
    for canon, col in mapping.items():
        if col not in raw_columns:
            hint = did_you_mean(col, raw_columns, cutoff=0.5)
            shown = ", ".join(raw_columns[:30]) + (" ..." if len(raw_columns) > 30 else "")
            raise DataError(
                f"{_where(params, table)}: column '{col}' (mapped to {canon} in data.{table}.columns) does not "
                f"exist{hint}; the columns are: {shown}."
            )
    for canon in canonical:
        if canon not in mapping and canon in raw_columns:
            mapping[canon] = canon
    required = {"transactions": (COL_CUSTOMER, COL_TIMESTAMP), "customers": (COL_CUSTOMER,),
                "items": (COL_ITEM,)}[table]
    for canon in required:
        if canon == COL_CUSTOMER and table == "customers" and params.data.transactions is None:
            continue  # a customers-only table without ids: rows are numbered in file order (typed_select)
        if canon not in mapping:
            shown = ", ".join(raw_columns[:30])
            raise DataError(
                f"{_where(params, table)}: no column for '{canon}'; map it in data.{table}.columns "
                f"(e.g. {canon}: <column>); the columns are: {shown}."
            )
    return mapping

def _wanted_columns(params: Params, table: str, names: list[str]) -> list[str]:
    """The source columns to fetch: for transactions only the mapped ones (others keep every column)."""
    if table != "transactions":
        return names
    used = set(column_mapping(params, table, names).values())
    return [c for c in names if c in used]
