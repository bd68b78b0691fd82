"""Tables on a server: SQL databases streamed in chunks, Spark projected before it leaves the cluster."""

from __future__ import annotations

import pandas as pd

from cxnb.config import Params, TableConfig
from cxnb.data.mapping import _wanted_columns
from cxnb.engine import database_url, spark_session
from cxnb.errors import DataError
from cxnb.urls import mask_text, mask_url

SQL_CHUNK_ROWS = 100_000



def _append_chunk(con, view: str, chunk: pd.DataFrame, first: bool) -> None:
    """Add one chunk of rows to the DuckDB table ``view`` (created from the first chunk; all-null columns as text)."""
    if first:
        for col in chunk.columns[chunk.isna().all().to_numpy()]:
            chunk[col] = chunk[col].astype("str")
    con.register("_chunk", chunk)
    con.execute(f"CREATE TEMP TABLE {view} AS SELECT * FROM _chunk" if first else
                f"INSERT INTO {view} BY NAME SELECT * FROM _chunk")
    con.unregister("_chunk")


def _read_sql(con, params: Params, table: str, cfg: TableConfig, view: str, notes: dict) -> None:
    """Stream a SQL table or query into the DuckDB table ``view`` in chunks, fetching only the columns used;
    ``where`` runs on the server."""
    import sqlalchemy as sa

    inner = cfg.query or f"SELECT * FROM {cfg.table}"
    try:
        engine = sa.create_engine(database_url(cfg.source))
        with engine.connect() as conn:
            if cfg.where:
                before = conn.exec_driver_sql(f"SELECT count(*) FROM ({inner}) AS _a").scalar()
                inner = f"SELECT * FROM ({inner}) AS _w WHERE {cfg.where}"
                after = conn.exec_driver_sql(f"SELECT count(*) FROM ({inner}) AS _b").scalar()
                notes["filter"] = {"where": cfg.where, "rows_before": int(before), "removed": int(before - after)}
            quote = conn.dialect.identifier_preparer.quote
            names = list(conn.exec_driver_sql(f"SELECT * FROM ({inner}) AS _q LIMIT 0").keys())
            cols = ", ".join(quote(c) for c in _wanted_columns(params, table, names))
            result = conn.execution_options(stream_results=True, max_row_buffer=SQL_CHUNK_ROWS).exec_driver_sql(
                f"SELECT {cols} FROM ({inner}) AS _q")
            keys, first = list(result.keys()), True
            con.execute(f"DROP TABLE IF EXISTS {view}")
            while rows := result.fetchmany(SQL_CHUNK_ROWS):
                _append_chunk(con, view, pd.DataFrame.from_records(rows, columns=keys, coerce_float=True), first)
                first = False
            if first:
                _append_chunk(con, view, pd.DataFrame(columns=keys), first)
    except sa.exc.SQLAlchemyError as exc:
        reason = mask_text(str(getattr(exc, "orig", exc)).splitlines()[0])
        raise DataError(f"{mask_url(cfg.source)}: cannot read data.{table} ({reason}); check the URL, "
                        "the table/query and CXNB_DB_PASSWORD.") from None


def _spark_frame(params: Params, table: str, cfg: TableConfig):
    """The Spark DataFrame of a ``spark`` source: Spark SQL ``query:``, or ``table:`` as a Parquet path or table name."""
    session = spark_session()
    if cfg.query:
        return session.sql(cfg.query)
    if not cfg.table:
        raise DataError(f"{params.path}: key 'data.{table}': a spark source needs 'table:' (a table name or a "
                        "Parquet path) or 'query:' (Spark SQL).")
    name = cfg.table
    if "://" not in name and ("/" in name or name.endswith((".parquet", ".pq"))):
        name = (params.base_dir / name).resolve().as_posix()
    return session.read.parquet(name) if "/" in name else session.table(name)


def _read_spark(con, params: Params, table: str, cfg: TableConfig, view: str, notes: dict) -> None:
    """Run a ``spark`` source's projection (and ``where``) in Spark and bring the columns used into DuckDB as
    Arrow (UTC times)."""
    import pyarrow as pa

    try:
        frame = _spark_frame(params, table, cfg)
        if cfg.where:
            before = frame.count()
            frame = frame.filter(cfg.where)
            notes["filter"] = {"where": cfg.where, "rows_before": int(before), "removed": int(before - frame.count())}
        used = _wanted_columns(params, table, frame.columns)
        data = frame.select(*["`" + c.replace("`", "``") + "`" for c in used]).toArrow()
    except DataError:
        raise
    except Exception as exc:  # Spark raises Py4J, analysis and connection errors of many classes
        reason = mask_text(str(exc).strip().splitlines()[0])
        raise DataError(f"{params.path}: cannot read data.{table} from Spark ({reason}); check "
                        f"data.{table}.table/query and the Spark session (SPARK_REMOTE).") from None
    for i, field in enumerate(data.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            data = data.set_column(i, field.name, data.column(i).cast(pa.timestamp(field.type.unit)))
    con.register("_spark", data)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {view} AS SELECT * FROM _spark")
    con.unregister("_spark")
