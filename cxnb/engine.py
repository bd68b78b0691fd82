"""Customer- and item-level aggregates written once as Ibis expressions, run by the engine that holds the data.

The transaction lines stay where they are (DuckDB over files, a PostgreSQL or MySQL/MariaDB server, a
Spark cluster); only the aggregated tables come back into pandas. Every expression works on a canonical
transactions table: ``customer_id`` and ``timestamp``, and optionally ``order_id``, ``item_id``,
``quantity`` and ``amount`` (line total).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import ibis
import ibis.expr.operations as ops
import pandas as pd

from cxnb.constants import (
    COL_AMOUNT,
    COL_CATEGORY,
    COL_CUSTOMER,
    COL_ITEM,
    COL_ORDER,
    COL_QUANTITY,
    COL_TIMESTAMP,
)
from cxnb.urls import database_url, mask_url

MEMORY_LIMIT_ENV = "CXNB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "1GB"
SOURCE_ALIAS = "_cxnb_source"


@dataclass(frozen=True)
class Engine:
    """A canonical transactions table on some backend, and how to bring an expression's result into pandas."""

    table: ibis.Table
    backend: str
    fetch: Callable[[ibis.Table], pd.DataFrame]

    def frame(self, expr: ibis.Table, keys: list[str] | None = None) -> pd.DataFrame:
        """Run ``expr`` where the data is; a DataFrame with uniform dtypes, sorted by ``keys``."""
        df = uniform_frame(self.fetch(expr), expr.schema())
        return df.sort_values(keys, kind="mergesort").reset_index(drop=True) if keys else df

    def attach(self, table) -> ibis.Table:
        """A small pandas table (or an Ibis table already on this backend) usable in joins with ``self.table``."""
        if isinstance(table, ibis.Table):
            return table
        if isinstance(table, (str, Path)):
            table = pd.read_parquet(table)
        with _quiet():
            return ibis.memtable(table)


def uniform_frame(df: pd.DataFrame, schema: ibis.Schema) -> pd.DataFrame:
    """Same dtypes whatever the backend returned (Decimal sums, nanosecond or microsecond timestamps)."""
    out = {}
    for name, dtype in schema.items():
        col = df[name]
        if dtype.is_timestamp():
            col = pd.to_datetime(col).astype("datetime64[us]")
        elif dtype.is_integer():
            col = col.astype("int64")
        elif dtype.is_floating() or dtype.is_decimal():
            # Parallel sums differ in their last bits from run to run; rounding keeps results identical.
            col = col.astype("float64").round(9)
        elif dtype.is_string():
            col = col.astype("str")
        out[name] = col
    return pd.DataFrame(out, index=df.index)


@contextmanager
def _quiet():
    """Silence the deprecations Ibis 12 triggers in DuckDB 2 and pandas 3 (not ours to fix)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*fetch_arrow_table.*")
        warnings.filterwarnings("ignore", message=".*future.infer_string.*")
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        warnings.filterwarnings("ignore", message="The copy keyword is deprecated")
        yield


def _run_bound(expr: ibis.Table) -> pd.DataFrame:
    with _quiet():
        return expr.to_pandas()


# ----------------------------------------------------------------------------- backends

def duckdb_connection() -> duckdb.DuckDBPyConnection:
    """DuckDB kept to CXNB_MEMORY_LIMIT (default 1GB), spilling to a per-process temporary folder beyond it, with
    no progress bar."""
    spill = Path(tempfile.gettempdir()) / f"cxnb-duckdb-{os.getpid()}"
    con = duckdb.connect(config={"memory_limit": os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT),
                                 "temp_directory": spill.as_posix(), "preserve_insertion_order": True})
    with contextlib.suppress(duckdb.Error):  # in Jupyter without ipywidgets DuckDB refuses the setting (and draws none)
        con.execute("SET enable_progress_bar = false")  # a long COPY would draw a bar on the terminal
    return con


def from_duckdb(transactions, con: duckdb.DuckDBPyConnection | None = None) -> Engine:
    """DuckDB (the embedded default) over a DataFrame or a Parquet file or folder."""
    bk = ibis.duckdb.from_connection(con or duckdb_connection())
    with _quiet():
        if isinstance(transactions, (str, Path)):
            path = Path(transactions)
            pattern = path / "**" / "*.parquet" if path.is_dir() else path
            table = bk.read_parquet(pattern.as_posix(), table_name="_cxnb_tx")
        else:
            bk.con.register("_cxnb_tx", transactions)
            table = bk.table("_cxnb_tx")
    return Engine(table, "duckdb", _run_bound)


def _renamed(table: ibis.Table, columns: dict[str, str] | None) -> ibis.Table:
    """Canonical names for the client's columns (``columns`` maps canonical -> client name)."""
    mapping = {canon: col for canon, col in (columns or {}).items() if canon != col}
    return table.rename(mapping) if mapping else table


def from_sql(source: str, table: str | None = None, query: str | None = None,
             columns: dict[str, str] | None = None) -> Engine:
    """A PostgreSQL (Ibis backend) or MySQL/MariaDB (Ibis-compiled SQL over SQLAlchemy) table or query."""
    url = database_url(source)
    if url.get_backend_name() == "postgresql":
        bk = ibis.postgres.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                                   database=url.database)
        raw = bk.sql(query) if query else bk.table(table)
        return Engine(_renamed(raw, columns), "postgres", _run_bound)
    if url.get_backend_name() == "mysql":
        return _mysql_engine(url, table, query, columns)
    raise ValueError(f"{mask_url(source)}: only PostgreSQL and MySQL/MariaDB URLs are supported")


def _mysql_engine(url, table: str | None, query: str | None, columns: dict[str, str] | None) -> Engine:
    """MySQL through compiled SQL: the source becomes a CTE, its schema is read from a sample of rows."""
    import sqlalchemy as sa

    sa_engine = sa.create_engine(url, poolclass=sa.pool.NullPool)  # temporary tables die with the connection
    inner = query or f"SELECT * FROM {table}"
    with sa_engine.connect() as conn:
        result = conn.exec_driver_sql(f"SELECT * FROM ({inner}) AS _s LIMIT 1000")
        sample = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    with _quiet():
        schema = ibis.memtable(sample.infer_objects()).schema()
    raw = ibis.table(schema, name=SOURCE_ALIAS)

    def fetch(expr: ibis.Table) -> pd.DataFrame:
        compiled = ibis.to_sql(expr, dialect="mysql").strip()
        source = f"{SOURCE_ALIAS} AS ({inner})"
        sql = (f"WITH {source}, {compiled[len('WITH '):]}" if compiled.upper().startswith("WITH ")
               else f"WITH {source} {compiled}")
        with sa_engine.connect() as conn:
            _upload_memtables(conn, expr)
            result = conn.exec_driver_sql(sql)
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

    return Engine(_renamed(raw, columns), "mysql", fetch)


def _upload_memtables(conn, expr: ibis.Table) -> None:
    """Create the small pandas tables ``expr`` joins with as MySQL temporary tables on ``conn``."""
    from ibis.backends.sql.datatypes import MySQLType

    for op in expr.op().find(ops.InMemoryTable):
        df = op.data.to_frame()
        cols = ", ".join(f"`{name}` {MySQLType.from_ibis(dtype).sql('mysql')}" for name, dtype in op.schema.items())
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE `{op.name}` ({cols})")
        rows = list(df.astype(object).where(df.notna(), None).itertuples(index=False, name=None))
        if rows:
            conn.exec_driver_sql(f"INSERT INTO `{op.name}` VALUES ({', '.join(['%s'] * df.shape[1])})", rows)


def spark_session():
    """The active Spark session, or a new one (local unless SPARK_REMOTE or spark-submit says otherwise)."""
    with _quiet():
        from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.appName("cxnb").config("spark.sql.session.timeZone", "UTC")
    if os.environ.get("SPARK_REMOTE"):
        return builder.getOrCreate()
    session = builder.config("spark.ui.enabled", "false").getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def from_spark(table: str | Path, session=None, columns: dict[str, str] | None = None) -> Engine:
    """Spark over a Parquet path or a table name of the session's catalog."""
    with _quiet():
        bk = ibis.pyspark.connect(session or spark_session())
    is_path = isinstance(table, Path) or "/" in str(table) or str(table).endswith((".parquet", ".pq"))
    raw = bk.read_parquet(str(table)) if is_path else bk.table(str(table))
    return Engine(_renamed(raw, columns), "pyspark", _run_bound)


# ----------------------------------------------------------------------------- aggregates

def _history(tx: ibis.Table, as_of=None) -> ibis.Table:
    """Lines before ``as_of`` with uniform helper columns: order key, amount, item, units."""
    cols = tx.columns
    if as_of is not None:
        tx = tx.filter(tx[COL_TIMESTAMP] < ibis.timestamp(pd.Timestamp(as_of).isoformat(sep=" ")))
    return tx.select(
        tx[COL_CUSTOMER], tx[COL_TIMESTAMP],
        _order=tx[COL_ORDER] if COL_ORDER in cols else tx[COL_TIMESTAMP].date(),
        _amount=tx[COL_AMOUNT].cast("float64") if COL_AMOUNT in cols else ibis.null("float64"),
        _item=tx[COL_ITEM].cast("string") if COL_ITEM in cols else ibis.null("string"),
        _units=tx[COL_QUANTITY] if COL_QUANTITY in cols else ibis.literal(1, "int64"),
    )


def last_timestamp(engine: Engine) -> pd.Timestamp:
    """Time of the last transaction line."""
    return pd.Timestamp(engine.frame(engine.table.aggregate(last=engine.table[COL_TIMESTAMP].max()))["last"].iloc[0])


def _distinct_counts(h: ibis.Table, keys: list[str], col: str, name: str) -> ibis.Table:
    """Distinct non-null ``col`` values per ``keys``, as two plain aggregations (which spill to disk in DuckDB,
    where a ``count(DISTINCT ...)`` over a large table runs out of memory)."""
    pairs = h.filter(h[col].notnull()).select(*keys, col).distinct()
    return pairs.group_by(keys).aggregate(**{name: pairs.count()})


def _with_counts(main: ibis.Table, keys: list[str], *counts: ibis.Table) -> ibis.Table:
    """``main`` with each table of distinct counts joined on ``keys`` (0 where a key has no values)."""
    for table in counts:
        name = next(c for c in table.columns if c not in keys)
        main = main.left_join(table, keys).select(main, **{name: table[name].fill_null(0)})
    return main


def customer_aggregates(tx: ibis.Table, as_of=None) -> ibis.Table:
    """Per customer: first/last line, distinct orders, spend, distinct items, units and lines before ``as_of``."""
    h = _history(tx, as_of)
    key = [COL_CUSTOMER]
    main = h.group_by(key).aggregate(
        first_order=h[COL_TIMESTAMP].min(), last_order=h[COL_TIMESTAMP].max(), monetary=h._amount.sum(),
        units=h._units.sum(), n_lines=h.count())
    out = _with_counts(main, key, _distinct_counts(h, key, "_order", "frequency"),
                       _distinct_counts(h, key, "_item", "n_items"))
    return out.select(COL_CUSTOMER, "first_order", "last_order", "frequency", "monetary", "n_items", "units",
                      "n_lines")


def item_aggregates(tx: ibis.Table, as_of=None) -> ibis.Table:
    """Per item: distinct customers, lines, units and revenue before ``as_of``."""
    h = _history(tx, as_of)
    h = h.filter(h._item.notnull())
    main = h.group_by("_item").aggregate(lines=h.count(), units=h._units.sum(), revenue=h._amount.sum())
    out = _with_counts(main, ["_item"], _distinct_counts(h, ["_item"], COL_CUSTOMER, "customers"))
    return out.select("_item", "customers", "lines", "units", "revenue").rename({COL_ITEM: "_item"})


def interaction_counts(tx: ibis.Table, as_of=None) -> ibis.Table:
    """Per customer and item: lines, distinct orders, units and the last time, before ``as_of``."""
    h = _history(tx, as_of)
    h = h.filter(h._item.notnull())
    keys = [COL_CUSTOMER, "_item"]
    main = h.group_by(keys).aggregate(lines=h.count(), units=h._units.sum(), last=h[COL_TIMESTAMP].max())
    out = _with_counts(main, keys, _distinct_counts(h, keys, "_order", "orders"))
    return out.select(COL_CUSTOMER, "_item", "lines", "orders", "units", "last").rename({COL_ITEM: "_item"})


def category_weights(tx: ibis.Table, items: ibis.Table, as_of=None, by_spend: bool = True) -> ibis.Table:
    """Per customer and item category: spend (or lines, when ``by_spend`` is false); unknown items -> 'unknown'."""
    h = _history(tx, as_of)
    cats = items.select(_cat_item=items[COL_ITEM].cast("string"), _category=items[COL_CATEGORY].cast("string"))
    joined = h.left_join(cats, h._item == cats._cat_item)
    weight = joined._amount.fill_null(0.0) if by_spend else ibis.literal(1.0)
    return joined.group_by([COL_CUSTOMER, joined._category.fill_null("unknown").name(COL_CATEGORY)]).aggregate(
        w=weight.sum())
