"""Load, map, type and clean a client's tables with DuckDB, then write the prepared Parquet once per run.

Everything between the raw source and the prepared Parquet runs inside DuckDB (out of core, keyed
pseudonyms included), so a transaction log larger than pandas comfortably holds still prepares. The source
is read once into a typed table; exact duplicates are found by a hash of the whole line; each line is judged
once by the first cleaning rule it meets; the clean lines are written in no particular order (no stage
depends on it).
"""

from __future__ import annotations

import difflib
import json
import re
import tempfile
from datetime import date, timedelta
from functools import lru_cache
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
    PURCHASE,
)
from cxnb.engine import database_url, duckdb_connection, spark_session
from cxnb.errors import DataError
from cxnb.guards import parameter_notes
from cxnb.privacy import ID_COPY_SHARE, PII_SAMPLE_ROWS, copies_ids, pii_finding, pseudonym_sql, secret_key
from cxnb.products import NON_PRODUCTS_FILE, candidate_non_products, excluded_items, excluded_summary
from cxnb.stage import json_ready
from cxnb.textfiles import head_bytes, inner_suffix, plain_source, whitespace_aligned
from cxnb.urls import mask_text, mask_url

DATA_DIR = "data"
QUALITY_FILE = "quality.json"
EVENTS_TABLE = "events"
NUMERIC_COLUMNS = (COL_QUANTITY, COL_PRICE, COL_AMOUNT, COL_RATING)
STRING_COLUMNS = (COL_CUSTOMER, COL_ORDER, COL_ITEM, COL_NAME, COL_CATEGORY)
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
EARLIEST_PLAUSIBLE = "1990-01-01"  # earlier purchase times are placeholders (1900-01-01) or typing errors
TIMESTAMP_SAMPLE_LINES, TIMESTAMP_SAMPLE_VALUES = 2_000_000, 20_000  # lines read / values tried to infer a format
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


# ----------------------------------------------------------------------------- reading

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
            near = [CSV_ALIASES[key]] if key in CSV_ALIASES else difflib.get_close_matches(key, CSV_OPTIONS, n=1)
            hint = f"did you mean '{near[0]}'? " if near else ""
            raise DataError(f"{key_of}.{key}' is not a CSV reader option; {hint}"
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
            near = difflib.get_close_matches(col, raw_columns, n=1, cutoff=0.5)
            hint = f"; closest match: '{near[0]}'" if near else ""
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


# ----------------------------------------------------------------------------- typing

def _bad_values(con, view: str, raw_expr: str, typed_expr: str, limit: int = 3) -> list[tuple[int, str]]:
    return con.execute(
        f"""SELECT _row, CAST({raw_expr} AS VARCHAR) FROM {view}
        WHERE {raw_expr} IS NOT NULL AND trim(CAST({raw_expr} AS VARCHAR)) <> '' AND ({typed_expr}) IS NULL
        ORDER BY _row LIMIT {limit}"""
    ).fetchall()


def _type_error(params: Params, table: str, column: str, canon: str, what: str, bad, fix: str) -> DataError:
    shown = "; ".join(f"row {r}: {v!r}" for r, v in bad)
    return DataError(
        f"{_where(params, table)}: column '{column}' ({canon}) has values that are not {what} ({shown}); {fix}."
    )


def infer_timestamp_format(values: list[str]) -> str | None:
    """The one format in TIMESTAMP_FORMATS that parses every value; None when none or several (ambiguous) do."""
    con = duckdb.connect()
    con.register("v", pd.DataFrame({"v": values}))
    fits = []
    for fmt in TIMESTAMP_FORMATS:
        ok = con.execute(f"SELECT count(*) = count(try_strptime(trim(v), {_lit(fmt)})) FROM v").fetchall()[0][0]
        if ok:
            fits.append(fmt)
    if not fits:
        return None
    day_first = [f for f in fits if f.startswith(("%d", "%m"))]
    if day_first and len({f[:2] for f in day_first}) > 1:
        return "ambiguous"
    return fits[0]


def _sample_value(con, view: str, col: str) -> str | None:
    """The first non-blank value of ``col``, as text."""
    row = con.execute(f"SELECT trim(CAST({_q(col)} AS VARCHAR)) AS v FROM {view} WHERE v <> '' LIMIT 1").fetchall()
    return row[0][0] if row else None


def _check_timestamp_format(con, view: str, col: str, fmt: str, params: Params, table: str) -> None:
    """A one-line error naming timestamp_format, with a value of the column, when ``fmt`` is not a strptime format."""
    try:
        con.execute(f"SELECT try_strptime('2000-01-01', {_lit(fmt)})").fetchall()
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0].split(f"{fmt}: ", 1)[-1]
        sample = _sample_value(con, view, col)
        guess = infer_timestamp_format([sample]) if sample else None
        hint = f"; for {sample!r} use \"{guess}\"" if guess and guess != "ambiguous" else ""
        raise DataError(f"{params.path}: key 'data.{table}.timestamp_format' ({fmt!r}) is not a date format "
                        f"({reason}); column '{col}' holds values like {sample!r}{hint} (strftime codes, or "
                        "\"unix\" for epoch seconds).") from None


def _timestamp_expr(con, view: str, col: str, dtype: str, fmt: str | None, params: Params, table: str) -> tuple[str, str]:
    """SQL expression giving a TIMESTAMP for the client column, and the format used."""
    ref = _q(col)
    zone = _lit(params.data.timezone or "UTC")
    if dtype.startswith("TIMESTAMP WITH TIME ZONE"):  # an instant: shown in the client's time zone
        return f"timezone({zone}, {ref})", dtype.lower()
    if dtype.startswith(("TIMESTAMP", "DATE")):
        return f"CAST({ref} AS TIMESTAMP)", dtype.lower()
    if fmt == "unix":  # seconds since 1970-01-01 UTC, as wall-clock time in the client's time zone
        return f"timezone({zone}, to_timestamp(TRY_CAST({ref} AS DOUBLE)))", "unix"
    if fmt:
        _check_timestamp_format(con, view, col, fmt, params, table)
        return f"try_strptime(trim(CAST({ref} AS VARCHAR)), {_lit(fmt)})", fmt
    # Distinct values of the first lines, spread by a fixed hash (not the first ones in sort order, which
    # could all be early days of the month); the full check afterwards still reads every line.
    sample = [r[0] for r in con.execute(
        f"""SELECT v FROM (SELECT DISTINCT v FROM (SELECT trim(CAST({ref} AS VARCHAR)) AS v FROM {view}
        WHERE {ref} IS NOT NULL AND trim(CAST({ref} AS VARCHAR)) <> '' LIMIT {TIMESTAMP_SAMPLE_LINES}))
        ORDER BY hash(v), v LIMIT {TIMESTAMP_SAMPLE_VALUES}"""
    ).fetchall()]
    guess = infer_timestamp_format(sample) if sample else "%Y-%m-%d"
    key = f"data.{table}.timestamp_format"
    if guess == "ambiguous":
        raise DataError(
            f"{_where(params, table)}: column '{col}' (timestamp) could be day-first or month-first "
            f"(e.g. {sample[0]!r}); set {key} (e.g. \"%d/%m/%Y\")."
        )
    if guess is None:
        examples = ", ".join(repr(s) for s in sample[:3])
        raise DataError(
            f"{_where(params, table)}: cannot tell the date format of column '{col}' (e.g. {examples}); set "
            f"{key} to a strftime format like \"%Y-%m-%d %H:%M\", or \"unix\" for epoch seconds."
        )
    return f"try_strptime(trim(CAST({ref} AS VARCHAR)), {_lit(guess)})", guess


def _attribute_expr(con, view: str, col: str, dtype: str) -> str:
    """An attribute column as a number when every non-blank value is one (and none has a leading zero, like a
    zip code), else as text with blanks turned into missing values; inf and NaN become missing values."""
    ref = _q(col)
    if dtype in ("DOUBLE", "FLOAT"):
        return f"CASE WHEN isfinite({ref}) THEN {ref} END AS {ref}"
    if dtype != "VARCHAR":
        return ref
    text = f"NULLIF(trim({ref}), '')"
    numeric = con.execute(
        f"""SELECT count({text}) > 0 AND count({text}) = count(TRY_CAST({text} AS DOUBLE))
        AND NOT bool_or(coalesce(regexp_matches({text}, '^-?0[0-9]'), false)) FROM {view}"""
    ).fetchall()[0][0]
    number = f"TRY_CAST({text} AS DOUBLE)"
    return f"CASE WHEN isfinite({number}) THEN {number} END AS {ref}" if numeric else f"{text} AS {ref}"


def _key_expr(ref: str) -> str:
    """A customer or item id as text, an integral float written as an integer ('17850.0' -> '17850'), so ids read
    as numbers by one source and as text by another join."""
    return f"regexp_replace(NULLIF(trim(CAST({ref} AS VARCHAR)), ''), '^(-?[0-9]+)\\.0+$', '\\1')"


def _event_expr(ref: str, values: dict[str, str]) -> str:
    """The client's event value mapped by ``event_values`` (others lower-cased and kept as extra types)."""
    text = f"NULLIF(trim(CAST({ref} AS VARCHAR)), '')"
    cases = " ".join(f"WHEN {_lit(raw)} THEN {_lit(canon)}" for raw, canon in values.items())
    return f"CASE {text} {cases} ELSE lower({text}) END" if cases else f"lower({text})"


def _first_bad_check(checks: list[tuple[str, str, str, str, str]]) -> str:
    """SQL giving, per line, the number of the first check its raw value fails (NULL when it passes them all)."""
    whens = " ".join(
        f"WHEN {_q(col)} IS NOT NULL AND trim(CAST({_q(col)} AS VARCHAR)) <> '' AND ({expr}) IS NULL THEN {i}"
        for i, (_, col, expr, _, _) in enumerate(checks))
    return f"CASE {whens} END AS _bad"


_THOUSANDS = re.compile(r"^[-+]?\d{1,3}([,.' ]\d{3})+([.,]\d+)?$")


def _type_hint(canon: str, bad: list[str], table: str) -> str:
    """What the failing values suggest: thousands separators in a number, or the date format they are written in."""
    if canon == COL_TIMESTAMP:
        guess = infer_timestamp_format([v.strip() for v in bad])
        return f" (these values read as \"{guess}\")" if guess and guess != "ambiguous" else ""
    marks = {m.group(1)[0] for v in bad if (m := _THOUSANDS.match(v.strip()))}
    if len(marks) == 1:
        mark = marks.pop()
        return (f"; the values use {mark!r} as a thousands separator: set data.{table}.read_options.thousands: "
                f"{mark!r}" + ("" if mark != "." else " (and decimal: ',')"))
    return ""


def typed_select(con, params: Params, table: str, view: str, mapping: dict[str, str]) -> tuple[str, dict]:
    """Create a temp table ``typed_<table>`` with canonical, typed columns; returns its name and notes."""
    raw_types = _raw_columns(con, view)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view}_n AS SELECT row_number() OVER () AS _row, * FROM {view}")
    numbered_rows = table != "transactions"  # only customers and items keep their first line per key
    numbered = f"{view}_n"
    exprs, notes, checks = [], {}, []
    for canon, col in mapping.items():
        ref = _q(col)
        if canon == COL_TIMESTAMP:
            fmt = params.data.transactions.timestamp_format if table == "transactions" else None
            expr, used = _timestamp_expr(con, view, col, raw_types[col], fmt, params, table)
            notes["timestamp_format"] = used
            if not raw_types[col].startswith(("TIMESTAMP", "DATE")):
                checks.append((canon, col, expr, "epoch seconds (unix)" if used == "unix" else f"dates in format {used}",
                               f"set data.{table}.timestamp_format to the format the column uses"))
        elif canon in NUMERIC_COLUMNS:
            text = f"trim(CAST({ref} AS VARCHAR))"
            opts = params.tables()[table].read_options
            if opts.get("thousands"):
                text = f"replace({text}, {_lit(opts['thousands'])}, '')"
            if opts.get("decimal") and opts["decimal"] != ".":
                text = f"replace({text}, {_lit(opts['decimal'])}, '.')"
            expr = f"TRY_CAST({text} AS DOUBLE)"
            if not raw_types[col].startswith(NUMERIC_TYPES):
                checks.append((canon, col, expr, "numbers",
                               "clean the column or map a different one (decimal commas: read_options.decimal)"))
        elif canon == COL_EVENT:
            expr = _event_expr(ref, params.data.transactions.event_values)
        elif canon in (COL_CUSTOMER, COL_ITEM):
            expr = _key_expr(ref)
        else:
            expr = f"NULLIF(trim(CAST({ref} AS VARCHAR)), '')"
        exprs.append(f"{expr} AS {_q(canon)}")
    if table != "transactions":
        for col in raw_types:
            if col not in mapping.values():
                exprs.append(_attribute_expr(con, numbered, col, raw_types[col]))
    if table == "customers" and COL_CUSTOMER not in mapping:
        exprs.append(f"CAST(_row AS VARCHAR) AS {COL_CUSTOMER}")
        notes["customer_id"] = "row_number"  # no id column: each row is a customer, numbered in file order
    if checks:  # checked in the same pass that builds the table (one read of the source)
        exprs.append(_first_bad_check(checks))
    name = f"typed_{table}"
    if numbered_rows:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT _row, {', '.join(exprs)} FROM {numbered}")
    else:  # with a hash of the whole typed line, for finding exact duplicates (see clean_transactions)
        line = ", ".join(_q(c) for c in mapping)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT *, hash({line}) AS _h "
                    f"FROM (SELECT {', '.join(exprs)} FROM {view})")
    if checks:
        first = con.execute(f"SELECT min(_bad) FROM {name}").fetchall()[0][0]
        if first is not None:
            canon, col, expr, what, fix = checks[first]
            bad = _bad_values(con, numbered, _q(col), expr)
            raise _type_error(params, table, col, canon, what, bad, fix + _type_hint(canon, [v for _, v in bad], table))
        con.execute(f"ALTER TABLE {name} DROP COLUMN _bad")
    return name, notes


# ----------------------------------------------------------------------------- cleaning

def _rule_conditions(params: Params, cols: list[str]) -> dict[str, str]:
    """SQL condition per cleaning rule (applied in order; a line counts under the first rule it meets)."""
    conds = {"missing_customer_id": f"{COL_CUSTOMER} IS NULL", "missing_timestamp": f"{COL_TIMESTAMP} IS NULL",
             "exact_duplicate": "_n > 1"}
    numbers = [c for c in (COL_QUANTITY, COL_PRICE, COL_AMOUNT) if c in cols]
    if {COL_QUANTITY, COL_PRICE} <= set(cols) and COL_AMOUNT not in cols:
        numbers.append(f"{COL_QUANTITY} * {COL_PRICE}")  # the line amount, which overflows to inf on huge values
    if numbers:
        conds["non_finite_value"] = " OR ".join(f"NOT isfinite({c})" for c in numbers)
    conds["implausible_timestamp"] = _implausible_timestamp(COL_TIMESTAMP)
    cancel = []
    if COL_ORDER in cols:
        cancel.append(f"left({COL_ORDER}, 1) IN ('C', 'c')")
    if COL_QUANTITY in cols:
        cancel.append(f"{COL_QUANTITY} < 0")
    if cancel:
        conds["cancellation_or_return"] = " OR ".join(cancel)
    if COL_QUANTITY in cols:
        conds["zero_quantity"] = f"{COL_QUANTITY} = 0"
    price = [f"{c} <= 0" for c in (COL_PRICE, COL_AMOUNT) if c in cols]
    if price:
        conds["non_positive_price"] = " OR ".join(price)
    window = []
    if params.analysis.start:
        window.append(f"{COL_TIMESTAMP} < TIMESTAMP {_lit(params.analysis.start)}")
    if params.analysis.end:
        window.append(f"{COL_TIMESTAMP} >= TIMESTAMP {_lit(params.analysis.end)} + INTERVAL 1 DAY")
    if window:
        conds["outside_window"] = " OR ".join(window)
    return conds


def plausible_range(today: date | None = None) -> tuple[str, str]:
    """The first and last day a purchase time may fall on: EARLIEST_PLAUSIBLE and the day after ``today``."""
    return EARLIEST_PLAUSIBLE, ((today or date.today()) + timedelta(days=1)).isoformat()


def _implausible_timestamp(col: str) -> str:
    earliest, latest = plausible_range()
    return (f"{col} < TIMESTAMP {_lit(earliest)} OR {col} >= TIMESTAMP {_lit(latest)} + INTERVAL 1 DAY")


def rule_why(rule: str) -> str:
    """Why the cleaning rule removes a line, with the bounds it uses."""
    earliest, latest = plausible_range()
    return CLEANING_RULES[rule].format(earliest=earliest, latest=latest)


def clean_transactions(con, params: Params, typed: str) -> tuple[str, list[dict], str]:
    """Apply the named cleaning rules; returns the clean view, what each rule removed and a per-customer table.

    Exact duplicates are found by a 64-bit hash of the whole line first, so only the (usually few) lines whose
    hash repeats are compared column by column; every other line streams through without a full-row GROUP BY.
    The per-customer table (``_kept`` lines, first/last time, spend) gives the id list and the summary without
    another pass over the lines.
    """
    cols = [c for c in _raw_columns(con, typed) if c != "_h"]
    listed = ", ".join(cols)
    base = f"{COL_CUSTOMER} IS NOT NULL AND {COL_TIMESTAMP} IS NOT NULL"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _dup_hashes AS SELECT _h FROM {typed} WHERE {base} "
                "GROUP BY _h HAVING count(*) > 1")
    lines = f"SELECT {listed} FROM {typed}"
    duplicates = 0
    if con.execute("SELECT count(*) FROM _dup_hashes").fetchall()[0][0]:
        candidate = f"({base}) AND _h IN (SELECT _h FROM _dup_hashes)"
        con.execute(f"CREATE OR REPLACE TEMP TABLE _dup_lines AS SELECT {listed}, count(*) AS _n FROM {typed} "
                    f"WHERE {candidate} GROUP BY ALL")
        duplicates = con.execute("SELECT sum(_n - 1) FROM _dup_lines").fetchall()[0][0]
        lines = f"{lines} WHERE NOT ({candidate}) UNION ALL SELECT {listed} FROM _dup_lines"
    conds = _rule_conditions(params, cols)
    conds.pop("exact_duplicate")
    # The first rule a line meets (0: none), so each line is judged once whatever the number of rules.
    first_rule = " ".join(f"WHEN {cond} THEN {i}" for i, cond in enumerate(conds.values(), 1))
    con.execute(f"CREATE OR REPLACE TEMP VIEW deduplicated AS SELECT *, CASE {first_rule} ELSE 0 END AS _rule "
                f"FROM ({lines})")
    amount = (COL_AMOUNT if COL_AMOUNT in cols else
              f"{COL_QUANTITY} * {COL_PRICE}" if {COL_QUANTITY, COL_PRICE} <= set(cols) else
              COL_PRICE if COL_PRICE in cols else None)
    counts = ", ".join(f"count(*) FILTER (WHERE _rule = {i}) AS {rule}" for i, rule in enumerate(conds, 1))
    kept = "FILTER (WHERE _rule = 0)"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE per_customer AS SELECT {COL_CUSTOMER}, {counts},
        count(*) {kept} AS _kept, min({COL_TIMESTAMP}) {kept} AS _first, max({COL_TIMESTAMP}) {kept} AS _last,
        {f"sum({amount}) {kept}" if amount else "NULL::DOUBLE"} AS _spend FROM deduplicated GROUP BY {COL_CUSTOMER}""")
    totals = dict(zip(conds, con.execute(
        f"SELECT {', '.join(f'sum({rule})' for rule in conds)} FROM per_customer").fetchall()[0], strict=True))
    totals["exact_duplicate"] = duplicates
    removed = [{"rule": rule, "removed": int(totals[rule] or 0), "why": rule_why(rule)}
               for rule in _rule_conditions(params, cols)]
    select = [c for c in cols if c != COL_AMOUNT] + ([f"{amount} AS {COL_AMOUNT}"] if amount else [])
    con.execute(f"CREATE OR REPLACE TEMP VIEW clean_transactions AS SELECT {', '.join(select)} FROM deduplicated "
                "WHERE _rule = 0")
    return "clean_transactions", removed, "per_customer"


def split_events(con, params: Params, typed: str) -> tuple[str, str, dict[str, int]]:
    """Purchases (what orders, revenue, RFM, labels and CLV count) and the other behaviour events of a log with an
    ``event_type`` column; returns the purchases table, the events table and the lines per event type."""
    counts = dict(con.execute(f"SELECT {COL_EVENT}, count(*) FROM {typed} GROUP BY 1 ORDER BY 2 DESC, 1").fetchall())
    if not counts.get(PURCHASE):
        found = ", ".join(f"'{k}'" for k in list(counts)[:8] if k is not None)
        raise DataError(f"{_where(params, 'transactions')}: no line has the event type '{PURCHASE}' (found {found}); "
                        "map the client's values in data.transactions.event_values, e.g. {buy: purchase, pv: view}.")
    keep = [c for c in (COL_CUSTOMER, COL_TIMESTAMP, COL_EVENT, COL_ITEM) if c in _raw_columns(con, typed)]
    con.execute(f"CREATE OR REPLACE TEMP TABLE typed_events AS SELECT DISTINCT {', '.join(keep)} FROM {typed} "
                f"WHERE {COL_EVENT} IS DISTINCT FROM {_lit(PURCHASE)} AND {COL_CUSTOMER} IS NOT NULL "
                f"AND {COL_TIMESTAMP} IS NOT NULL AND NOT ({_implausible_timestamp(COL_TIMESTAMP)})")
    con.execute(f"CREATE OR REPLACE TEMP TABLE typed_purchases AS SELECT * EXCLUDE ({COL_EVENT}) FROM {typed} "
                f"WHERE {COL_EVENT} = {_lit(PURCHASE)}")
    return "typed_purchases", "typed_events", {str(k): int(v) for k, v in counts.items()}


def implausible_events(con, typed: str) -> int:
    """Behaviour events (not purchases) whose time is implausible: left out of ``data/events.parquet``."""
    return int(con.execute(f"SELECT count(*) FROM {typed} WHERE {COL_EVENT} IS DISTINCT FROM {_lit(PURCHASE)} "
                           f"AND ({_implausible_timestamp(COL_TIMESTAMP)})").fetchall()[0][0])


def write_events(con, events: str, purchases: str, path: Path) -> None:
    """``data/events.parquet``: every clean purchase and every behaviour event, with pseudonymized ids."""
    cols = [c for c in _raw_columns(con, events) if c != COL_EVENT]
    listed = ", ".join(cols)
    union = (f"SELECT {listed}, {_lit(PURCHASE)} AS {COL_EVENT} FROM {purchases} "
             f"UNION ALL SELECT {listed}, {COL_EVENT} FROM {events}")
    others = ", ".join(c for c in (*cols, COL_EVENT) if c != COL_CUSTOMER)
    _write_parquet(con, f"SELECT m.pseudonym AS {COL_CUSTOMER}, {others} FROM ({union}) t "
                        f"JOIN id_map m ON t.{COL_CUSTOMER} = m.raw", path, None)


PII_REASONS = {
    "email": "values look like e-mail addresses ({share:.0%} of a sample of {n:,})",
    "phone": "values look like phone numbers ({share:.0%} of a sample of {n:,})",
    "contact": "values are e-mail addresses and phone numbers ({share:.0%} of a sample of {n:,})",
    "free_text": "free text holding e-mail addresses or phone numbers ({share:.1%} of a sample of {n:,})",
    "customer_id": "a copy of the raw customer id (equal on {share:.0%} of a sample of {n:,} rows)",
}


def _pii_reason(kind: str, share: float, n: int) -> str:
    return PII_REASONS[kind].format(share=share, n=n)


def _drop_pii(con, params: Params, typed: str, numbered_ids: bool = False) -> list[dict]:
    """Drop listed PII columns and, judged on a seeded sample of rows, columns holding mostly e-mails or phone
    numbers (or a mix), free text containing them, or a copy of the raw customer id (unless ids are row numbers)."""
    cfg = params.data.customers
    cols = [c for c in _raw_columns(con, typed) if c not in ("_row", COL_CUSTOMER)]
    dropped = []
    for col in cfg.pii:
        if col not in cols:
            raise DataError(f"{params.path}: key 'data.customers.pii' lists '{col}', which is not a column of "
                            f"{_where(params, 'customers')}; the columns are: {', '.join(cols)}.")
        dropped.append({"column": col, "kind": "listed", "reason": "listed in data.customers.pii"})
    sample = con.execute(f"SELECT * FROM {typed} USING SAMPLE reservoir({PII_SAMPLE_ROWS} ROWS) REPEATABLE (42)"
                         ).df()
    for col in cols:
        if col in cfg.pii or col == cfg.label:
            continue
        kind, share = pii_finding(sample[col])
        n = int(sample[col].notna().sum())
        if kind is None and not numbered_ids:
            share = copies_ids(sample[col], sample[COL_CUSTOMER])
            kind = "customer_id" if share >= ID_COPY_SHARE and n >= 2 else None
        if kind:
            dropped.append({"column": col, "kind": kind, "share": round(float(share), 4), "n": n,
                            "reason": _pii_reason(kind, share, n)})
    if dropped:
        keep = [c for c in _raw_columns(con, typed) if c not in {d["column"] for d in dropped}]
        con.execute(f"CREATE OR REPLACE TEMP TABLE {typed}_safe AS SELECT {', '.join(map(_q, keep))} FROM {typed}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {typed} AS SELECT * FROM {typed}_safe")
    return dropped


# ----------------------------------------------------------------------------- prepare

def _create_id_map(con, params: Params, tables: list[str]) -> None:
    """Temp table ``id_map`` (raw, pseudonym) of every customer id in ``tables``; the HMAC runs in DuckDB."""
    union = " UNION ".join(f"SELECT DISTINCT {COL_CUSTOMER} AS raw FROM {t}" for t in tables)
    if params.privacy.pseudonymize_ids:
        is_demo = all(t.kind() == "demo" for t in params.tables().values())
        pseudo = pseudonym_sql("raw", secret_key(is_demo))
    else:
        pseudo = "raw"
    con.execute(f"CREATE OR REPLACE TEMP TABLE id_map AS SELECT raw, {pseudo} AS pseudonym FROM ({union}) "
                "WHERE raw IS NOT NULL ORDER BY raw")


UNPAD_GAIN = 0.1  # leading zeros are dropped from ids when that makes at least this share more buyers join
_UNPAD = "regexp_replace({}, '^0+([0-9])', '\\1')"


def _unpad_ids_if_they_join(con, transactions: str, customers: str) -> dict | None:
    """Drop leading zeros from every customer id ('0001' -> '1') when one table writes them and the other does
    not, so that at least UNPAD_GAIN more of the buyers join, and no two ids of a table become one; returns
    the buyers matched before and after, or None (ids kept as given)."""
    unpad = _UNPAD.format(COL_CUSTOMER)
    purchases = f" AND {COL_EVENT} = {_lit(PURCHASE)}" if COL_EVENT in _raw_columns(con, transactions) else ""
    ids = {t: f"(SELECT DISTINCT {COL_CUSTOMER} AS raw, {unpad} AS k FROM {t} WHERE {COL_CUSTOMER} IS NOT NULL"
              f"{purchases if t == transactions else ''})" for t in (transactions, customers)}
    buyers, before, after, tx_keys, cu_rows, cu_keys = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE raw IN (SELECT raw FROM {ids[customers]})),
        count(*) FILTER (WHERE k IN (SELECT k FROM {ids[customers]})), count(DISTINCT k),
        (SELECT count(*) FROM {ids[customers]}), (SELECT count(DISTINCT k) FROM {ids[customers]})
        FROM {ids[transactions]}""").fetchall()[0]
    if not buyers or after - before < UNPAD_GAIN * buyers or tx_keys < buyers or cu_keys < cu_rows:
        return None
    for table in (transactions, customers):
        con.execute(f"UPDATE {table} SET {COL_CUSTOMER} = {unpad}")
    return {"transaction_ids": int(buyers), "matched_before": int(before), "matched_after": int(after)}


def _id_overlap(con, purchasers: str, customers: str) -> dict:
    """How many of the customers with purchases the customer table knows, and how many of its rows bought."""
    buyers, found, rows = con.execute(
        f"""SELECT (SELECT count(*) FROM {purchasers}),
        (SELECT count(*) FROM {purchasers} p SEMI JOIN {customers} c ON p.{COL_CUSTOMER} = c.{COL_CUSTOMER}),
        (SELECT count(*) FROM {customers})""").fetchall()[0]
    return {"purchasing_customers": int(buyers), "found_in_customers": int(found),
            "share_found": round(found / buyers, 4) if buyers else None, "customer_rows": int(rows),
            "customer_rows_without_purchases": int(rows - found)}


def _write_parquet(con, select_sql: str, path: Path, order: str | None) -> None:
    ordered = f"{select_sql} ORDER BY {order}" if order else select_sql
    con.execute(f"COPY ({ordered}) TO {_lit(path.as_posix())} (FORMAT parquet)")


def _distinct_count(con, table: str, col: str) -> int:
    """Distinct non-null values of ``col``, as a plain DISTINCT (spills to disk, unlike ``count(DISTINCT)``)."""
    return int(con.execute(f"SELECT count(*) FROM (SELECT DISTINCT {col} FROM {table} WHERE {col} IS NOT NULL)"
                           ).fetchall()[0][0])


def _transaction_summary(con, per_customer: str, final: str, cols: list[str]) -> dict:
    """Lines, customers, first/last time and revenue from the per-customer table; items and orders from the file."""
    rows, customers, first, last, revenue = con.execute(
        f"""SELECT sum(_kept), count(*) FILTER (WHERE _kept > 0), CAST(min(_first) AS VARCHAR),
        CAST(max(_last) AS VARCHAR), round(sum(_spend), 2) FROM {per_customer}""").fetchall()[0]
    out = {"rows": int(rows), "customers": int(customers)}
    for col, name in ((COL_ITEM, "items"), (COL_ORDER, "orders")):
        if col in cols:
            out[name] = _distinct_count(con, final, col)
    out.update({"first": first, "last": last})
    if COL_AMOUNT in cols:
        out["revenue"] = revenue
    return out


def _customer_summary(con, table: str) -> dict:
    rows, customers = con.execute(f"SELECT count(*), count(DISTINCT {COL_CUSTOMER}) FROM {table}").fetchall()[0]
    return {"rows": int(rows), "customers": int(customers)}


def _missing(con, table: str, cols: list[str]) -> dict[str, int]:
    parts = [f"count(*) - count({_q(c)}) AS {_q(c)}" for c in cols]
    row = con.execute(f"SELECT {', '.join(parts)} FROM {table}").fetchall()[0]
    return {c: int(v) for c, v in zip(cols, row, strict=True)}


def prepare(params: Params, run_dir: str | Path, id_map_path: str | Path | None = None) -> dict:
    """Load, map, type, clean and pseudonymize every table; write ``data/*.parquet`` and ``data/quality.json``."""
    with tempfile.TemporaryDirectory(prefix="cxnb-read-") as scratch:
        return _prepare(params, Path(run_dir), Path(scratch), id_map_path)


def _prepare(params: Params, run_dir: Path, scratch: Path, id_map_path: str | Path | None) -> dict:
    out = run_dir / DATA_DIR
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb_connection()
    quality: dict = {"params_hash": params.params_hash(), "tables": {}}
    if params.data.timezone:
        quality["timezone"] = params.data.timezone
    typed: dict[str, str] = {}
    for table in params.tables():
        read_notes: dict = {}
        view = read_raw(con, params, table, scratch, read_notes)
        raw_cols = list(_raw_columns(con, view))
        mapping = column_mapping(params, table, raw_cols)
        try:
            typed[table], notes = typed_select(con, params, table, view, mapping)
        except duckdb.Error as exc:  # a CSV is parsed lazily: a malformed line surfaces here
            raise _unreadable(_where(params, table), table, exc) from None
        rows_read = con.execute(f"SELECT count(*) FROM {typed[table]}").fetchall()[0][0]
        if rows_read == 0:
            raise DataError(f"{_where(params, table)}: the table is empty; check data.{table}.source.")
        removed_by_filter = read_notes.get("filter", {}).get("removed", 0)
        quality["tables"][table] = {"source": _where(params, table), "rows_read": int(rows_read + removed_by_filter),
                                    "columns": mapping, **read_notes, **notes}
    if {"transactions", "customers"} <= set(typed) and quality["tables"]["customers"].get("customer_id") != "row_number":
        unpadded = _unpad_ids_if_they_join(con, typed["transactions"], typed["customers"])
        if unpadded:
            quality["ids_unpadded"] = unpadded
    events = None
    if "transactions" in typed and COL_EVENT in _raw_columns(con, typed["transactions"]):
        quality["tables"]["transactions"]["events_implausible_timestamp"] = implausible_events(
            con, typed["transactions"])
        typed["transactions"], events, counts = split_events(con, params, typed["transactions"])
        quality["tables"]["transactions"]["event_types"] = counts
    if "transactions" in typed:
        clean, removed, per_customer = clean_transactions(con, params, typed["transactions"])
        if params.data.transactions.where:
            filtered = quality["tables"]["transactions"]["filter"]["removed"]
            removed = [{"rule": "filtered_out", "removed": filtered, "why": rule_why("filtered_out")}, *removed]
        quality["tables"]["transactions"]["cleaning"] = removed
        quality["tables"]["transactions"]["plausible_range"] = list(plausible_range())
        kept = con.execute(f"SELECT coalesce(sum(_kept), 0) FROM {per_customer}").fetchall()[0][0]
        if kept == 0:
            reasons = ", ".join(f"{r['rule']}: {r['removed']}" for r in removed if r["removed"])
            most = max(removed, key=lambda r: r["removed"])["rule"]
            fix = ("check data.transactions.timestamp_format (every time falls before {} or after {}; unix times "
                   "in milliseconds read as far-future dates)".format(*plausible_range())
                   if most == "implausible_timestamp" else "check the column mapping and analysis.start/end")
            raise DataError(f"{_where(params, 'transactions')}: no transactions are left after cleaning ({reasons}); "
                            f"{fix}.")
        typed["transactions"] = clean
    if "customers" in typed:
        numbered = quality["tables"]["customers"].get("customer_id") == "row_number"
        quality["tables"]["customers"]["pii_dropped"] = _drop_pii(con, params, typed["customers"], numbered)
        con.execute(f"CREATE OR REPLACE TEMP TABLE customers_dedup AS SELECT * EXCLUDE (_row) FROM {typed['customers']} "
                    f"WHERE {COL_CUSTOMER} IS NOT NULL QUALIFY row_number() OVER (PARTITION BY {COL_CUSTOMER} ORDER BY _row) = 1")
        typed["customers"] = "customers_dedup"
    with_ids = []
    if "transactions" in typed:
        con.execute(f"CREATE OR REPLACE TEMP VIEW tx_customers AS SELECT {COL_CUSTOMER} FROM {per_customer} "
                    "WHERE _kept > 0")
        with_ids.append("tx_customers")
    if events:
        with_ids.append(events)
    if "customers" in typed:
        with_ids.append(typed["customers"])
        if "transactions" in typed and quality["tables"]["customers"].get("customer_id") != "row_number":
            quality["id_overlap"] = _id_overlap(con, "tx_customers", typed["customers"])
    _create_id_map(con, params, with_ids)
    for table, name in typed.items():
        cols = [c for c in _raw_columns(con, name) if c != "_row"]
        if table == "items":
            con.execute(f"CREATE OR REPLACE TEMP TABLE items_dedup AS SELECT * EXCLUDE (_row) FROM {name} "
                        f"WHERE {COL_ITEM} IS NOT NULL QUALIFY row_number() OVER (PARTITION BY {COL_ITEM} ORDER BY _row) = 1")
            select, order = "SELECT * FROM items_dedup", COL_ITEM
        else:
            others = ", ".join(_q(c) for c in cols if c != COL_CUSTOMER)
            select = (f"SELECT m.pseudonym AS {COL_CUSTOMER}{', ' + others if others else ''} FROM {name} t "
                      f"JOIN id_map m ON t.{COL_CUSTOMER} = m.raw")
            # Transaction lines keep no particular order (a global sort is the costliest step on large logs and
            # no stage depends on it: tests/test_report.py runs the stages on shuffled lines); the small
            # customer and item tables are sorted by their key.
            order = None if table == "transactions" else COL_CUSTOMER
        _write_parquet(con, select, out / f"{table}.parquet", order)  # then counted from the file (columnar)
        con.execute(f"CREATE OR REPLACE TEMP VIEW final_{table} AS SELECT * FROM "
                    f"read_parquet({_lit((out / f'{table}.parquet').as_posix())})")
        final_cols = [c for c in _raw_columns(con, f"final_{table}")]
        info = quality["tables"][table]
        info["rows_kept"] = int(con.execute(f"SELECT count(*) FROM final_{table}").fetchall()[0][0])
        info["missing_values"] = _missing(con, f"final_{table}", final_cols)
        if table == "transactions":
            info["summary"] = _transaction_summary(con, per_customer, f"final_{table}", final_cols)
        elif table == "customers":
            info["summary"] = _customer_summary(con, f"final_{table}")
    if events:
        write_events(con, events, clean, out / f"{EVENTS_TABLE}.parquet")
    if "transactions" in typed and COL_ITEM in _raw_columns(con, clean):
        quality["tables"]["transactions"].update(_non_products(con, params, clean, typed.get("items"), out))
    if id_map_path:
        write_id_map(con.execute("SELECT raw, pseudonym FROM id_map ORDER BY raw").df(), Path(id_map_path),
                     Path(run_dir))
    quality["parameter_notes"] = parameter_notes(params, quality)
    text = json.dumps(json_ready(quality), indent=2, ensure_ascii=False, default=str, allow_nan=False)
    (out / QUALITY_FILE).write_text(text + "\n", encoding="utf-8")
    return quality


def _non_products(con, params: Params, lines: str, items: str | None, out: Path) -> dict:
    """Write ``data/non_products.parquet`` (the items ``data.items.exclude`` names) and say what it holds, with
    the candidate codes the consultant may want to add."""
    exclude = params.data.items.exclude if params.data.items else []
    found = excluded_items(con, lines, items, exclude)
    _write_parquet(con, f"SELECT * FROM {found}", out / NON_PRODUCTS_FILE, None)
    return {"non_products": excluded_summary(con, lines, found) | {"exclude": list(exclude)},
            "non_product_candidates": candidate_non_products(con, lines, found)}


def write_id_map(ids: pd.DataFrame, path: Path, run_dir: Path) -> None:
    """Write raw id -> pseudonym as CSV, refusing any place inside the report folder."""
    target = path.resolve()
    if target.is_relative_to(run_dir.resolve()):
        raise DataError(f"{path}: the id map must be written outside the report folder {run_dir}.")
    target.parent.mkdir(parents=True, exist_ok=True)
    ids.rename(columns={"raw": COL_CUSTOMER}).to_csv(target, index=False, lineterminator="\n")


def is_prepared(run_dir: str | Path, params: Params) -> bool:
    """Whether ``run_dir`` holds data prepared from these same parameters."""
    path = Path(run_dir) / DATA_DIR / QUALITY_FILE
    if not path.exists():
        return False
    return json.loads(path.read_text(encoding="utf-8")).get("params_hash") == params.params_hash()
