"""Reading a source into DuckDB (files, SQL servers, Spark, the demo), then row limits and the ``where`` filter."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb

from cxnb.config import Params
from cxnb.data.base import _demo_tables, _q, _where
from cxnb.data.files import _read_file
from cxnb.data.mapping import _raw_columns
from cxnb.data.servers import _read_spark, _read_sql
from cxnb.errors import DataError


def read_raw(con: duckdb.DuckDBPyConnection, params: Params, table: str, scratch: Path | None = None,
             notes: dict | None = None) -> str:
    """Expose the raw source of ``table`` to ``con`` as a view or table, with ``where`` applied; returns its name.
    ``notes`` receives how it was read (reader, options, rows the filter removed)."""
    cfg = params.tables()[table]
    notes = {} if notes is None else notes
    view = f"raw_{table}"
    kind = cfg.kind()
    notes["reader"] = kind
    if kind == "demo":
        demo = _demo_tables()
        con.register(view, demo.event_log() if table == "transactions" else getattr(demo, table))
    elif kind == "sql":
        _read_sql(con, params, table, cfg, view, notes)
    elif kind == "spark":
        _read_spark(con, params, table, cfg, view, notes)
    else:
        _read_file(con, params, table, cfg, view, scratch or Path(tempfile.mkdtemp(prefix="cxnb-read-")), notes)
    if cfg.read_options:
        notes["read_options"] = dict(cfg.read_options)
    view = _row_limits(con, params, table, view)
    if cfg.where and kind in ("demo", "file"):
        view = _filtered(con, params, table, view, notes)
    return view


def _row_limits(con, params: Params, table: str, view: str) -> str:
    """``usecols`` and ``nrows`` of the read options, applied to the raw view."""
    opts = params.tables()[table].read_options
    cols, nrows = opts.get("usecols"), opts.get("nrows")
    if not cols and not nrows:
        return view
    if cols:
        have = _raw_columns(con, view)
        missing = [c for c in cols if c not in have]
        if missing:
            raise DataError(f"{_where(params, table)}: read_options.usecols names '{missing[0]}', which is not a "
                            f"column; the columns are: {', '.join(list(have)[:30])}.")
    select = ", ".join(_q(c) for c in cols) if cols else "*"
    limit = f" LIMIT {int(nrows)}" if nrows else ""
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view}_limited AS SELECT {select} FROM {view}{limit}")
    return f"{view}_limited"


def _filtered(con, params: Params, table: str, view: str, notes: dict) -> str:
    """The rows of ``view`` meeting ``data.<table>.where`` (DuckDB SQL on the client's column names); the rows
    it removed are counted like a cleaning rule."""
    cond = params.tables()[table].where
    before = con.execute(f"SELECT count(*) FROM {view}").fetchall()[0][0]
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {view}_where AS SELECT * FROM {view} WHERE {cond}")
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        hint = ("the columns of a file are text when the filter runs: compare numbers after a cast, e.g. "
                "\"CAST(amount AS DOUBLE) > 0\"" if "VARCHAR" in first and "cast" in first.lower()
                else "write a SQL condition on the file's column names, e.g. \"Country = 'United Kingdom'\"")
        raise DataError(f"{params.path}: key 'data.{table}.where' ({cond!r}) cannot be applied ({first}); "
                        f"{hint}.") from None
    after = con.execute(f"SELECT count(*) FROM {view}_where").fetchall()[0][0]
    notes["filter"] = {"where": cond, "rows_before": int(before), "removed": int(before - after)}
    return f"{view}_where"
