"""Files as clients send them: delimited text (any encoding, compressed, padded), Excel workbooks, Parquet."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

from cxnb.config import Params, TableConfig
from cxnb.data.base import DUCKDB_ENCODINGS, _lit
from cxnb.data.mapping import _wanted_columns
from cxnb.errors import DataError, did_you_mean
from cxnb.textfiles import head_bytes, inner_suffix, plain_source, whitespace_aligned

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
