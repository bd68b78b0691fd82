"""Lines that are not products: postage, carriage, bank charges, discounts, manual adjustments, gift vouchers.

``data.items.exclude`` lists codes (exact item ids) and ``re:`` patterns (matched on the item id or name); their
lines still count for revenue, but they are never recommended nor treated as a category taste. The data-quality
report also lists candidate codes it sees, for the consultant to confirm.
"""

from __future__ import annotations

import re

import duckdb

from cxnb.constants import COL_AMOUNT, COL_ITEM, COL_NAME, COL_ORDER, COL_PRICE
from cxnb.errors import ConfigError

NON_PRODUCTS_FILE = "non_products.parquet"
MAX_CANDIDATES = 20
ORDER_SHARE = 0.05    # an item in more than 5% of all orders is unusual for a product
MIN_ORDERS = 20
PRICE_CV = 0.5        # a unit price varying by half its mean or more (postage by weight, manual adjustments)
MIN_LINES = 10


def _lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def exclusion_condition(exclude: list[str], has_name: bool, where: str = "data.items.exclude") -> str | None:
    """SQL condition on ``item_id`` (and ``name``) true for excluded items; None when nothing is excluded."""
    codes = [c for c in exclude if not c.startswith("re:")]
    parts = [f"CAST({COL_ITEM} AS VARCHAR) IN ({', '.join(_lit(c) for c in codes)})"] if codes else []
    for pattern in (c[3:] for c in exclude if c.startswith("re:")):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"{where}: 're:{pattern}' is not a valid regular expression ({exc}).") from None
        fields = [COL_ITEM, COL_NAME] if has_name else [COL_ITEM]
        parts += [f"coalesce(regexp_matches(CAST({f} AS VARCHAR), {_lit(pattern)}), false)" for f in fields]
    return " OR ".join(parts) or None


def excluded_items(con: duckdb.DuckDBPyConnection, lines: str, items: str | None, exclude: list[str]) -> str:
    """A temp table ``non_products`` (item_id) of the items of ``lines`` (and ``items``) that ``exclude`` names."""
    names = f"(SELECT {COL_ITEM}, {COL_NAME} FROM {items})" if items and _has(con, items, COL_NAME) else None
    source = (f"(SELECT DISTINCT l.{COL_ITEM}, n.{COL_NAME} FROM {lines} l LEFT JOIN {names} n USING ({COL_ITEM}))"
              if names else f"(SELECT DISTINCT {COL_ITEM} FROM {lines})")
    cond = exclusion_condition(exclude, names is not None) or "false"
    con.execute(f"CREATE OR REPLACE TEMP TABLE non_products AS SELECT DISTINCT CAST({COL_ITEM} AS VARCHAR) AS "
                f"{COL_ITEM} FROM {source} WHERE {COL_ITEM} IS NOT NULL AND ({cond}) ORDER BY 1")
    return "non_products"


def _has(con, table: str, col: str) -> bool:
    return col in {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}


def excluded_summary(con, lines: str, non_products: str) -> dict:
    """Items excluded, their lines and the revenue they still carry."""
    amount = f"sum({COL_AMOUNT})" if _has(con, lines, COL_AMOUNT) else "NULL"
    items, n_lines, revenue = con.execute(
        f"""SELECT (SELECT count(*) FROM {non_products}), count(*), round({amount}, 2) FROM {lines}
        WHERE CAST({COL_ITEM} AS VARCHAR) IN (SELECT {COL_ITEM} FROM {non_products})""").fetchall()[0]
    return {"items": int(items), "lines": int(n_lines), "revenue": revenue}


def candidate_non_products(con, lines: str, non_products: str | None = None) -> list[dict]:
    """Item codes that look like charges rather than products: in an unusually large share of orders, with a
    unit price far from its usual value, or an id without digits where most ids have them."""
    if not _has(con, lines, COL_ITEM):
        return []
    has_order, has_price = _has(con, lines, COL_ORDER), _has(con, lines, COL_PRICE)
    orders = f"count(DISTINCT {COL_ORDER})" if has_order else "count(*)"
    cv = f"stddev_pop({COL_PRICE}) / nullif(avg({COL_PRICE}), 0)" if has_price else "NULL::DOUBLE"
    total = con.execute(f"SELECT {orders} FROM {lines}").fetchall()[0][0] or 1
    digits = con.execute(f"SELECT avg(CASE WHEN regexp_matches(CAST({COL_ITEM} AS VARCHAR), '[0-9]') THEN 1 ELSE 0 "
                         f"END) FROM (SELECT DISTINCT {COL_ITEM} FROM {lines})").fetchall()[0][0] or 0
    skip = f"AND CAST({COL_ITEM} AS VARCHAR) NOT IN (SELECT {COL_ITEM} FROM {non_products})" if non_products else ""
    rows = con.execute(f"""
        SELECT CAST({COL_ITEM} AS VARCHAR) AS item, {orders} AS orders, count(*) AS lines, {cv} AS price_cv,
               NOT regexp_matches(CAST({COL_ITEM} AS VARCHAR), '[0-9]') AS no_digits
        FROM {lines} WHERE {COL_ITEM} IS NOT NULL {skip} GROUP BY 1""").df()
    rows["order_share"] = rows["orders"] / total
    reasons = {
        "in_many_orders": (rows["order_share"] > ORDER_SHARE) & (rows["orders"] >= MIN_ORDERS),
        "price_varies": (rows["price_cv"] > PRICE_CV) & (rows["lines"] >= MIN_LINES),
        "code_unlike_products": rows["no_digits"] & (digits >= 0.9),
    }
    flagged = rows[sum(r.astype(int) for r in reasons.values()) > 0].copy()
    flagged["reasons"] = [[k for k, r in reasons.items() if r[i]] for i in flagged.index]
    flagged = flagged.sort_values(["lines", "item"], ascending=[False, True]).head(MAX_CANDIDATES)
    return [{"item_id": r.item, "lines": int(r.lines), "order_share": round(float(r.order_share), 4),
             "price_cv": None if r.price_cv != r.price_cv else round(float(r.price_cv), 3), "reasons": r.reasons}
            for r in flagged.itertuples()]
