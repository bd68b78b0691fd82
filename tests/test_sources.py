"""Client data where it lives: PostgreSQL and MariaDB sources, Spark sources, the same results as from CSV.

The database tests load a small demo subset into the servers on 127.0.0.1 (database ``test``) under table
names unique to this run, and drop them afterwards. Without a server they skip, unless CXNB_REQUIRE_DB=1.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cxnb import engine
from cxnb.config import load_params
from cxnb.constants import STAGES
from cxnb.data import read_raw
from cxnb.demo import generate_demo
from cxnb.errors import DataError
from cxnb.profile import customer_profiles
from cxnb.urls import mask_url
from tests.conftest import ROOT, write_params

SERVERS = {
    "postgresql": os.environ.get("CXNB_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test"),
    "mariadb": os.environ.get("CXNB_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
}
TABLES = ("transactions", "customers", "items")
STAGES_PRESENT = [s for s, stem in STAGES.items() if (ROOT / "notebooks" / f"{stem}.ipynb").exists()]


@pytest.fixture(scope="module")
def demo():
    """A small demo subset (raw, with its dirt), as the client would hold it."""
    return generate_demo(n_customers=600, n_items=100)


def _server(url: str):
    """A SQLAlchemy engine on a server that answers; skip (or fail under CXNB_REQUIRE_DB=1) otherwise."""
    import sqlalchemy as sa

    sa_engine = sa.create_engine(engine.database_url(url))
    try:
        with sa_engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        reason = f"no database server answers at {mask_url(url)}: {str(getattr(exc, 'orig', exc)).splitlines()[0]}"
        if os.environ.get("CXNB_REQUIRE_DB") == "1":
            pytest.fail(f"{reason} (CXNB_REQUIRE_DB=1)")
        pytest.skip(reason)
    return sa_engine


@pytest.fixture(scope="module", params=list(SERVERS))
def database(request, demo):
    """(url, {table: name}) with the demo subset loaded under names unique to this run; dropped afterwards."""
    url = SERVERS[request.param]
    sa_engine = _server(url)
    prefix = f"cxnb_{uuid.uuid4().hex[:10]}"
    names = {t: f"{prefix}_{t}" for t in TABLES}
    tx = demo.transactions.assign(timestamp=pd.to_datetime(demo.transactions["timestamp"]))
    try:
        for table, frame in zip(TABLES, (tx, demo.customers, demo.items), strict=True):
            frame.to_sql(names[table], sa_engine, index=False, chunksize=5000)
        yield url, names
    finally:
        with sa_engine.begin() as conn:
            for name in names.values():
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        sa_engine.dispose()


def _params(folder: Path, sources: dict[str, str], extra: dict[str, str] | None = None) -> Path:
    """A parameter file for the demo subset with one ``source:`` (plus ``table:`` etc.) per table."""
    extra = extra or {}
    body = "client: sources\ntitle: Sources test\nlanguage: en\ndata:\n"
    for table in TABLES:
        body += f"  {table}:\n    source: {sources[table]}\n"
        body += "".join(f"    {line}\n" for line in extra.get(table, "").splitlines())
        if table == "customers":
            body += "    pii: [name, email, phone]\n"
    body += "analysis: {horizon_days: 90}\nprivacy: {min_group_size: 10}\n"
    return write_params(folder, body)


def _without_timings(value):
    """metrics.json without the wall-clock entries (``seconds`` per model), which differ between any two runs."""
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if "seconds" not in k}
    return value


def _metrics(params: Path, out: Path, stages: list[str]) -> dict:
    from cxnb.report import run_report

    path = run_report(params, out=out, only=stages) / "metrics.json"
    return _without_timings(json.loads(path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def csv_run(tmp_path_factory, demo) -> tuple[Path, dict]:
    """The demo subset as CSV files, and the metrics of a run over every stage present."""
    folder = tmp_path_factory.mktemp("csv")
    for table in TABLES:
        getattr(demo, table).to_csv(folder / f"{table}.csv", index=False)
    params = _params(folder, {t: f"{t}.csv" for t in TABLES})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CXNB_SECRET", "test-secret")
        return folder, _metrics(params, tmp_path_factory.mktemp("out") / "csv", STAGES_PRESENT)


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    tx = frame.dropna(subset=["customer_id"])
    tx = tx[(tx["quantity"] > 0) & (tx["price"] > 0)].drop_duplicates().copy()
    return tx.assign(amount=tx["quantity"] * tx["price"], timestamp=pd.to_datetime(tx["timestamp"]),
                     customer_id=tx["customer_id"].astype("str"))


# ----------------------------------------------------------------------------- SQL servers

@pytest.mark.db
@pytest.mark.slow
def test_sql_source_gives_the_same_metrics_as_csv(database, csv_run, tmp_path):
    url, names = database
    params = _params(tmp_path, {t: url for t in TABLES}, {t: f"table: {names[t]}" for t in TABLES})
    assert _metrics(params, tmp_path / "out", STAGES_PRESENT) == csv_run[1]


@pytest.mark.db
def test_where_on_a_database_table_is_evaluated_by_the_server_and_counted(database, demo, tmp_path):
    from cxnb.context import open_run

    url, names = database
    params = _params(tmp_path, {t: url for t in TABLES}, {
        "transactions": f"table: {names['transactions']}\nwhere: \"quantity > 1\"",
        "customers": f"table: {names['customers']}", "items": f"table: {names['items']}"})
    info = open_run(params, tmp_path / "run").quality["tables"]["transactions"]
    total, kept = len(demo.transactions), int((demo.transactions["quantity"] > 1).sum())
    assert info["filter"] == {"where": "quantity > 1", "rows_before": total, "removed": total - kept}
    assert info["cleaning"][0] == {"rule": "filtered_out", "removed": total - kept,
                                   "why": "not selected by the row filter data.transactions.where"}


@pytest.mark.db
def test_query_source_with_few_columns_streams_in_chunks(database, demo, tmp_path, monkeypatch):
    url, names = database
    monkeypatch.setattr("cxnb.data.servers.SQL_CHUNK_ROWS", 1000)
    query = f"SELECT t.*, 1 AS unused FROM {names['transactions']} t WHERE quantity > 0"
    params = load_params(_params(tmp_path, {t: url for t in TABLES}, {
        "transactions": f'query: "{query}"', "customers": f"table: {names['customers']}",
        "items": f"table: {names['items']}"}))
    con = duckdb.connect()
    raw = con.execute(f"SELECT * FROM {read_raw(con, params, 'transactions')}").df()
    assert list(raw.columns) == list(demo.transactions.columns)  # 'unused' is not fetched
    assert len(raw) == (demo.transactions["quantity"] > 0).sum() > 1000


@pytest.mark.db
def test_sql_column_error_names_the_columns_before_reading(database, tmp_path):
    url, names = database
    params = load_params(_params(tmp_path, {t: url for t in TABLES}, {
        "transactions": f"table: {names['transactions']}\ncolumns: {{customer_id: client_no}}",
        "customers": f"table: {names['customers']}", "items": f"table: {names['items']}"}))
    with pytest.raises(DataError, match=r"column 'client_no' .* the columns are: order_id, customer_id"):
        read_raw(duckdb.connect(), params, "transactions")


@pytest.mark.db
def test_password_comes_from_the_environment_and_is_never_written(database, tmp_path, monkeypatch):
    url, names = database
    if not url.startswith("postgresql"):
        pytest.skip("MariaDB: a user with a password is tested in tests/test_secrets.py")
    monkeypatch.setenv("CXNB_DB_PASSWORD", "pw-never-written-9271")
    params = _params(tmp_path, {t: url for t in TABLES}, {t: f"table: {names[t]}" for t in TABLES})
    out = tmp_path / "out"
    _metrics(params, out, ["data_quality"])
    written = [p for p in out.rglob("*") if p.is_file() and "pw-never-written" in p.read_bytes().decode("latin-1")]
    assert written == []
    assert mask_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"


def test_unreachable_database_is_a_one_line_data_error(tmp_path):
    params = load_params(_params(tmp_path, {"transactions": "postgresql://nobody@127.0.0.1:1/none",
                                            "customers": "demo", "items": "demo"},
                                 {"transactions": "table: tx"}))
    with pytest.raises(DataError, match=r"^postgresql://nobody@127.0.0.1:1/none: cannot read data.transactions"):
        read_raw(duckdb.connect(), params, "transactions")


@pytest.mark.db
def test_engine_aggregates_are_equal_on_duckdb_and_the_server(database, demo):
    url, names = database
    tx = _clean(demo.transactions)
    local, remote = engine.from_duckdb(tx), engine.from_sql(url, table=names["transactions"])
    remote_clean = engine.Engine(_server_clean(remote.table), remote.backend, remote.fetch)
    for aggregate, keys in [(engine.customer_aggregates, ["customer_id"]), (engine.item_aggregates, ["item_id"]),
                            (engine.interaction_counts, ["customer_id", "item_id"])]:
        for as_of in (None, "2024-06-01"):
            expected = local.frame(aggregate(local.table, as_of), keys)
            got = remote_clean.frame(aggregate(remote_clean.table, as_of), keys)
            pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(customer_profiles(remote_clean, demo.items), customer_profiles(tx, demo.items),
                                  check_exact=False, rtol=1e-9)


def _server_clean(tx):
    """The same cleaning as ``_clean``, as an Ibis expression run by the server."""
    clean = tx.filter(tx.customer_id.notnull(), tx.quantity > 0, tx.price > 0).distinct()
    return clean.mutate(amount=clean.quantity * clean.price)


# ----------------------------------------------------------------------------- Spark

@pytest.mark.slow
def test_spark_source_gives_the_same_metrics_as_csv(csv_run, demo, tmp_path):
    pytest.importorskip("pyspark")
    folder, expected = csv_run
    tx = demo.transactions.assign(timestamp=pd.to_datetime(demo.transactions["timestamp"]))
    tx.to_parquet(tmp_path / "transactions.parquet", index=False)
    sources = {"transactions": "spark", "customers": str(folder / "customers.csv"), "items": str(folder / "items.csv")}
    params = _params(tmp_path, sources, {"transactions": "table: transactions.parquet"})
    stages = ["data_quality", "requirement_analysis"]
    assert _metrics(params, tmp_path / "out", stages) == {s: expected[s] for s in stages}
