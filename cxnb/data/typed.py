"""Typing the mapped columns: timestamps (formats, unix, time zones), numbers, ids and event types, with one-line errors."""

from __future__ import annotations

import re

import duckdb
import pandas as pd

from cxnb.config import Params
from cxnb.constants import (
    COL_CUSTOMER,
    COL_EVENT,
    COL_ITEM,
    COL_TIMESTAMP,
)
from cxnb.data.base import (
    NUMERIC_COLUMNS,
    NUMERIC_TYPES,
    TIMESTAMP_FORMATS,
    TIMESTAMP_SAMPLE_LINES,
    TIMESTAMP_SAMPLE_VALUES,
    _lit,
    _q,
    _where,
)
from cxnb.data.mapping import _raw_columns
from cxnb.errors import DataError


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
    as numbers by one source and as text by another join; the pattern only runs on ids holding a dot (it needs one),
    which spares the regular expression on most ids of a large log."""
    text = f"NULLIF(trim(CAST({ref} AS VARCHAR)), '')"
    return f"CASE WHEN contains({text}, '.') THEN regexp_replace({text}, '^(-?[0-9]+)\\.0+$', '\\1') ELSE {text} END"


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
