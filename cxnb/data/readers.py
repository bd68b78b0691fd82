"""Reading a source into DuckDB: files (CSV/text, compressed, Excel, Parquet), SQL servers and Spark; row filters and column mapping."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

from cxnb.config import Params, TableConfig
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
from cxnb.data.base import DUCKDB_ENCODINGS, _demo_tables, _lit, _q, _where
from cxnb.engine import database_url, spark_session
from cxnb.errors import DataError, did_you_mean
from cxnb.textfiles import head_bytes, inner_suffix, plain_source, whitespace_aligned
from cxnb.urls import mask_text, mask_url

SQL_CSV_NAMES = {"sep": "delim", "delimiter": "delim", "quotechar": "quote", "escapechar": "escape",
                 "skiprows": "skip", "na_values": "nullstr", "comment": "comment", "names": "names",
                 "lineterminator": "new_line"}


CSV_ALIASES = {"separator": "sep", "seperator": "sep", "delim": "sep", "quote": "quotechar",
               "escape": "escapechar", "skip": "skiprows", "nullstr": "na_values", "column_names": "names"}


# pandas read_csv options the kit honours (README, "Reader options"); the rest are refused with the equivalent.
CSV_OPTIONS = ("sep", "delimiter", "delim_whitespace", "quotechar", "escapechar", "skiprows", "decimal",
               "thousands", "na_values", "comment", "names", "header", "encoding", "sheet_name", "member",
               "lineterminator", "on_bad_lines", "dtype", "usecols", "nrows", "skipinitialspace", "keep_default_na",
               "low_memory", "engine", "memory_map")


NO_EFFECT = ("skipinitialspace", "keep_default_na", "low_memory", "engine", "memory_map")  # values are trimmed,


# blanks are missing, and DuckDB reads out of core whatever these say
CSV_EQUIVALENTS = {
    "parse_dates": "timestamps are parsed from the column mapped to timestamp; set timestamp_format if needed",
    "date_format": "use data.transactions.timestamp_format",
    "date_parser": "use data.transactions.timestamp_format",
    "dayfirst": "set data.transactions.timestamp_format, e.g. \"%d/%m/%Y\"",
    "index_col": "no index is needed: drop the option",
    "skipfooter": "keep only the rows you need with data.<table>.where",
    "true_values": "map yes/no columns with data.customers.positive (labels) or leave them as text",
    "false_values": "map yes/no columns with data.customers.positive (labels) or leave them as text",
    "converters": "columns are typed by their canonical role; clean the column or map another one",
    "quoting": "set quotechar (and escapechar) instead",
    "chunksize": "not needed: DuckDB reads large files out of core",
    "iterator": "not needed: DuckDB reads large files out of core",
    "compression": "not needed: .gz .bz2 .xz .zst and .zip are recognised by the file name",
}


def _csv_options(params: Params, table: str, cfg: TableConfig) -> dict:
    """Check pandas-style read_options and turn them into DuckDB read_csv arguments (all columns as text)."""
    out: dict = {"all_varchar": True, "header": True}
    key_of = f"{params.path}: key 'data.{table}.read_options"
    for key, value in cfg.read_options.items():
        if key in CSV_EQUIVALENTS:
            raise DataError(f"{key_of}.{key}' is not supported: {CSV_EQUIVALENTS[key]}.")
        if key not in CSV_OPTIONS or key == "sheet_name":
            hint = f" (did you mean '{CSV_ALIASES[key]}'?)" if key in CSV_ALIASES else did_you_mean(key, CSV_OPTIONS)
            raise DataError(f"{key_of}.{key}' is not a CSV reader option{hint}; "
                            f"use one of: {', '.join(o for o in CSV_OPTIONS if o != 'sheet_name')}.")
        if key == "header":
            if value not in (None, False, 0, True, "infer"):
                raise DataError(f"{key_of}.header' must be 0 (the first line names the columns) or null (no "
                                f"header line; give names:); got {value!r}.")
            out["header"] = value is not None and value is not False
        elif key == "dtype":
            _check_dtype(value, key_of)
        elif key == "on_bad_lines":
            if value not in ("error", "skip", "warn"):
                raise DataError(f"{key_of}.on_bad_lines' must be 'error' or 'skip'; got {value!r}.")
            out["ignore_errors"] = value != "error"
        elif key in ("decimal", "thousands", "encoding", "member", "usecols", "nrows", "delim_whitespace",
                     *NO_EFFECT):
            continue  # applied when typing numbers / checked before reading / applied after reading
        elif key in ("sep", "delimiter") and whitespace_aligned({"sep": value}):
            continue  # re-delimited before reading (cxnb.textfiles)
        else:
            out[SQL_CSV_NAMES[key]] = list(value) if key in ("names", "na_values") and not isinstance(value, str) else value
    return out


def _check_dtype(value, key_of: str) -> None:
    """``dtype`` as text is what the kit does anyway (every column is read as text, then typed by its role)."""
    kinds = value.values() if isinstance(value, dict) else [value]
    for kind in kinds:
        if str(kind).lower() not in ("str", "string", "object", "<class 'str'>"):
            raise DataError(f"{key_of}.dtype' can only ask for text (str): canonical columns are typed by their "
                            "role (quantity, price, amount as numbers) and other columns become numbers when every "
                            f"value is one; drop dtype {kind!r}.")


def _sql_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_lit(v) for v in value) + "]"
    return _lit(value)


def _guess_encoding(head: bytes) -> str:
    """A likely encoding for non-UTF-8 bytes: GB18030 for Chinese text, Windows-1252 for Western text."""
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    guess = best.encoding.replace("_", "-") if best else "cp1252"
    if guess.startswith(("gb", "big5")):
        return "gb18030" if guess.startswith("gb") else guess
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return guess


def _check_encoding(path: Path, encoding: str | None, params: Params, table: str) -> str:
    """The encoding to read with; a one-line error suggesting one when the (decompressed) text is not UTF-8."""
    if encoding:
        return encoding.lower()
    head = head_bytes(path, params.tables()[table].read_options.get("member"), where=f"data.{table}.")
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a multi-byte character cut at the end of the sample
            return "utf-8"
        guess = _guess_encoding(head)
        raise DataError(
            f"{path}: not UTF-8 text (byte {exc.start}); set data.{table}.read_options.encoding "
            f"in {params.path.name} (it looks like '{guess}')."
        ) from None


_LINE_TOO_LONG = re.compile(r"CSV Error on Line: (\d+).*?Maximum line size of (\d+) bytes exceeded\. "
                            r"Actual Size:\s*(\d+)", re.S)


def _unreadable(where: Path | str, table: str, exc: Exception) -> DataError:
    """The reader's error in one line, with the read option most likely to fix it."""
    text = str(exc)
    opts = f"data.{table}.read_options"
    long_line = _LINE_TOO_LONG.search(text)
    if long_line:
        line, limit, size = (int(g) for g in long_line.groups())
        return DataError(f"{where}: line {line:,} holds a field too long to read ({size:,} bytes; at most "
                         f"{limit:,} per line): a quote character opened and never closed usually makes the rest of "
                         f"the file one field; check {opts}.quotechar (and escapechar) and sep.")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    detail = f": {lines[1][:160]}" if len(lines) > 1 and lines[0].startswith("Invalid Input Error: CSV Error") else ""
    return DataError(f"{where}: cannot be read ({lines[0] if lines else type(exc).__name__}{detail}); "
                     f"check data.{table}.source and its read_options (sep, header, encoding).")


def _read_csv(con, path: Path, params: Params, table: str, cfg: TableConfig, view: str, scratch: Path) -> str | None:
    """Expose a delimited text file (compressed, zipped or whitespace-aligned too) as ``view``; returns how it
    was read when that is worth stating."""
    opts = _csv_options(params, table, cfg)
    encoding = _check_encoding(path, cfg.read_options.get("encoding"), params, table)
    plain = plain_source(path, cfg.read_options, encoding, scratch / table, where=f"data.{table}.")
    if plain.path != path:
        encoding = "utf-8" if whitespace_aligned(cfg.read_options) else encoding
        if whitespace_aligned(cfg.read_options):
            opts["delim"] = "\t"
    if plain.compression:
        opts["compression"] = plain.compression
    if encoding in DUCKDB_ENCODINGS:
        opts["encoding"] = DUCKDB_ENCODINGS[encoding]
        args = ", ".join(f"{k}={_sql_value(v)}" for k, v in opts.items())
        try:  # a view: the file is parsed when the typed table is built (once, unless values need checking)
            con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM read_csv({_lit(plain.path.as_posix())}, "
                        f"{args})")
        except duckdb.Error as exc:
            raise _unreadable(path, table, exc) from None
        return plain.note
    try:
        pandas_opts = {k: v for k, v in cfg.read_options.items()
                       if k not in ("member", "dtype", "nrows", "usecols", "encoding")}  # applied elsewhere
        df = pd.read_csv(plain.path, dtype=str, keep_default_na=False, encoding=encoding, **pandas_opts)
    except (UnicodeDecodeError, LookupError, ValueError) as exc:
        raise DataError(f"{path}: cannot be read with encoding '{encoding}' ({exc}); fix "
                        f"data.{table}.read_options.encoding.") from None
    con.register(view, df)
    return plain.note


def _read_excel(path: Path, params: Params, table: str, cfg: TableConfig) -> pd.DataFrame:
    opts = dict(cfg.read_options)
    sheets = pd.ExcelFile(path).sheet_names
    if "sheet_name" not in opts:
        if len(sheets) > 1:
            raise DataError(
                f"{path}: has {len(sheets)} sheets ({', '.join(sheets)}) and none is named; set "
                f"data.{table}.read_options.sheet_name in {params.path.name}."
            )
        opts["sheet_name"] = sheets[0]
    elif opts["sheet_name"] not in sheets:
        raise DataError(f"{path}: no sheet '{opts['sheet_name']}'; the sheets are {', '.join(sheets)}.")
    df = pd.read_excel(path, dtype=str, **opts)
    blanks = [c for c in _wanted_columns(params, table, [str(c) for c in df.columns]) if df[c].isna().any()]
    if blanks and path.suffix.lower() in (".xlsx", ".xlsm"):
        _refuse_uncached_formulas(path, opts["sheet_name"], blanks, int(opts.get("skiprows") or 0) + 1)
    return df


def _refuse_uncached_formulas(path: Path, sheet: str, columns: list[str], header_row: int) -> None:
    """A one-line error when one of ``columns`` holds formulas whose result was never saved (a file written by a
    program, not by Excel): they read as empty cells."""
    from openpyxl import load_workbook

    books = [load_workbook(path, read_only=True, data_only=flag) for flag in (False, True)]
    try:
        formulas, cached = (book[sheet].iter_rows(min_row=header_row, values_only=True) for book in books)
        header = [str(v) for v in next(formulas)]
        next(cached)
        wanted = {i: name for i, name in enumerate(header) if name in columns}
        found: dict[str, list] = {}
        for row, (cells, values) in enumerate(zip(formulas, cached, strict=False), header_row + 1):
            for i, name in wanted.items():
                cell = cells[i] if i < len(cells) else None
                if isinstance(cell, str) and cell.startswith("=") and (i >= len(values) or values[i] is None):
                    found.setdefault(name, []).append((row, cell))
    finally:
        for book in books:
            book.close()
    if found:
        name, cells = next(iter(found.items()))
        raise DataError(
            f"{path}: column '{name}' has {len(cells):,} cells holding a formula with no saved result (e.g. row "
            f"{cells[0][0]}: {cells[0][1]!r}), which read as empty; open the file in Excel and save it (Excel then "
            "stores the results), or export the sheet as CSV.")


SQL_CHUNK_ROWS = 100_000


def _wanted_columns(params: Params, table: str, names: list[str]) -> list[str]:
    """The source columns to fetch: for transactions only the mapped ones (others keep every column)."""
    if table != "transactions":
        return names
    used = set(column_mapping(params, table, names).values())
    return [c for c in names if c in used]


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


def _read_file(con, params: Params, table: str, cfg: TableConfig, view: str, scratch: Path, notes: dict) -> None:
    """A Parquet file or folder, an Excel workbook, or delimited text as clients send it."""
    path = params.source_path(table)
    suffix = inner_suffix(path)
    if path.is_dir() or suffix in (".parquet", ".pq"):
        pattern = (path / "**" / "*.parquet") if path.is_dir() else path
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM read_parquet({_lit(pattern.as_posix())})")
        notes["reader"] = "parquet"
    elif suffix in (".xlsx", ".xls", ".xlsm"):
        con.register(view, _read_excel(path, params, table, cfg))
        notes["reader"] = "excel"
    else:
        how = _read_csv(con, path, params, table, cfg, view, scratch)
        notes["reader"] = "csv" + (f" ({how})" if how else "")


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
