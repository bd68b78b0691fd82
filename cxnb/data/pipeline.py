"""prepare(): read, type, clean, pseudonymize and write the prepared Parquet, its aggregate tables
(``cxnb.data.aggregates``) and quality.json once per run."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

from cxnb.config import Params, resolve_cutoff
from cxnb.constants import (
    COL_AMOUNT,
    COL_CUSTOMER,
    COL_EVENT,
    COL_ITEM,
    COL_ORDER,
    PURCHASE,
)
from cxnb.data.aggregates import AGGREGATES_DIR, write_aggregates
from cxnb.data.base import DATA_DIR, EVENTS_TABLE, QUALITY_FILE, _lit, _q, _where, _write_parquet
from cxnb.data.cleaning import (
    _drop_pii,
    clean_transactions,
    implausible_events,
    plausible_range,
    rule_why,
    split_events,
    write_events,
)
from cxnb.data.files import _unreadable
from cxnb.data.mapping import _raw_columns, column_mapping
from cxnb.data.readers import read_raw
from cxnb.data.typed import typed_select
from cxnb.engine import duckdb_connection
from cxnb.errors import DataError
from cxnb.guards import parameter_notes
from cxnb.privacy import pseudonym_sql, secret_key
from cxnb.products import NON_PRODUCTS_FILE, candidate_non_products, excluded_items, excluded_summary
from cxnb.stage import json_ready


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


def _distinct_count(con, table: str, col: str) -> int:
    """Distinct non-null values of ``col``, as a plain DISTINCT (spills to disk, unlike ``count(DISTINCT)``)."""
    return int(con.execute(f"SELECT count(*) FROM (SELECT DISTINCT {col} FROM {table} WHERE {col} IS NOT NULL)"
                           ).fetchall()[0][0])


def _transaction_summary(con, per_customer: str, final: str, cols: list[str], items: Path) -> dict:
    """Lines, customers, first/last time and revenue from the per-customer table; items from the ``items``
    aggregate (one row per distinct item); orders from the file."""
    rows, customers, first, last, revenue = con.execute(
        f"""SELECT sum(_kept), count(*) FILTER (WHERE _kept > 0), CAST(min(_first) AS VARCHAR),
        CAST(max(_last) AS VARCHAR), round(sum(_spend), 2) FROM {per_customer}""").fetchall()[0]
    out = {"rows": int(rows), "customers": int(customers)}
    if COL_ITEM in cols:
        out["items"] = int(con.execute(f"SELECT count(*) FROM read_parquet({_lit(items.as_posix())})").fetchall()[0][0])
    if COL_ORDER in cols:
        out["orders"] = _distinct_count(con, final, COL_ORDER)
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
        if table == "transactions":
            write_aggregates(out / "transactions.parquet", out, lambda last: resolve_cutoff(params, last))
        con.execute(f"CREATE OR REPLACE TEMP VIEW final_{table} AS SELECT * FROM "
                    f"read_parquet({_lit((out / f'{table}.parquet').as_posix())})")
        final_cols = [c for c in _raw_columns(con, f"final_{table}")]
        info = quality["tables"][table]
        info["rows_kept"] = int(con.execute(f"SELECT count(*) FROM final_{table}").fetchall()[0][0])
        info["missing_values"] = _missing(con, f"final_{table}", final_cols)
        if table == "transactions":
            info["summary"] = _transaction_summary(con, per_customer, f"final_{table}", final_cols,
                                                   out / AGGREGATES_DIR / "items.parquet")
        elif table == "customers":
            info["summary"] = _customer_summary(con, f"final_{table}")
    if events:
        write_events(con, events, clean, out / f"{EVENTS_TABLE}.parquet")
    if "transactions" in typed and COL_ITEM in _raw_columns(con, clean):  # read from the written lines
        quality["tables"]["transactions"].update(_non_products(con, params, "final_transactions",
                                                               typed.get("items"), out))
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
