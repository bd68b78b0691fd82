"""Names and small helpers shared by the data modules: prepared file names, canonical column groups, SQL quoting."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from cxnb.config import Params
from cxnb.constants import (
    COL_AMOUNT,
    COL_PRICE,
    COL_QUANTITY,
    COL_RATING,
)
from cxnb.urls import mask_url

DATA_DIR = "data"


QUALITY_FILE = "quality.json"


EVENTS_TABLE = "events"


NUMERIC_COLUMNS = (COL_QUANTITY, COL_PRICE, COL_AMOUNT, COL_RATING)




NUMERIC_TYPES = ("DOUBLE", "FLOAT", "DECIMAL", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                 "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT")  # DuckDB types a number column needs no check for


DUCKDB_ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "utf-16": "utf-16", "latin-1": "latin-1",
                    "latin1": "latin-1", "iso-8859-1": "latin-1"}


# Tried in order when no timestamp_format is given; day-first and month-first are told apart by the data.
TIMESTAMP_FORMATS = [
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y%m%d",
    "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y", "%m-%d-%Y %H:%M:%S", "%m-%d-%Y %H:%M", "%m-%d-%Y",
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y",
]


TIMESTAMP_SAMPLE_LINES, TIMESTAMP_SAMPLE_VALUES = 2_000_000, 20_000  # lines read / values tried to infer a format
EARLIEST_PLAUSIBLE = "1990-01-01"  # earlier purchase times are placeholders (1900-01-01) or typing errors


CLEANING_RULES = {
    "filtered_out": "not selected by the row filter data.transactions.where",
    "missing_customer_id": "no customer id, so the line cannot be attributed to anyone",
    "missing_timestamp": "no purchase time",
    "exact_duplicate": "the same line appears more than once (every column equal); the copies are dropped",
    "non_finite_value": "quantity, price or amount is infinite or not a number (inf, NaN): no sum can use it",
    "implausible_timestamp": "timestamp before {earliest} or after {latest} (the day after the run): a placeholder "
                             "or mistyped date, not a real purchase time",
    "cancellation_or_return": "a cancellation or return: order id starting with 'C' or a negative quantity",
    "zero_quantity": "quantity is zero",
    "non_positive_price": "unit price or line amount is zero or negative",
    "outside_window": "timestamp outside the requested window (analysis.start / analysis.end)",
}


def _q(name: str) -> str:
    """Quote an identifier for DuckDB (any Unicode column name works)."""
    return '"' + str(name).replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _where(params: Params, table: str) -> str:
    cfg = params.tables()[table]
    if cfg.kind() == "file":
        return params.source_path(table).name
    if cfg.kind() == "sql":
        return mask_url(cfg.source)
    return cfg.source


@lru_cache(maxsize=2)
def _demo_tables(seed: int = 42):
    from cxnb.demo import generate_demo

    return generate_demo(seed=seed)


def _write_parquet(con, select_sql: str, path: Path, order: str | None) -> None:
    ordered = f"{select_sql} ORDER BY {order}" if order else select_sql
    con.execute(f"COPY ({ordered}) TO {_lit(path.as_posix())} (FORMAT parquet)")
