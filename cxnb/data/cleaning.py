"""The cleaning rules, in order, each counted; behaviour events split from purchases; PII columns dropped."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from cxnb.config import Params
from cxnb.constants import (
    COL_AMOUNT,
    COL_CUSTOMER,
    COL_EVENT,
    COL_ITEM,
    COL_ORDER,
    COL_PRICE,
    COL_QUANTITY,
    COL_TIMESTAMP,
    PURCHASE,
)
from cxnb.data.base import CLEANING_RULES, EARLIEST_PLAUSIBLE, _lit, _q, _where, _write_parquet
from cxnb.data.mapping import _raw_columns
from cxnb.errors import DataError
from cxnb.privacy import ID_COPY_SHARE, PII_SAMPLE_ROWS, copies_ids, pii_finding


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
