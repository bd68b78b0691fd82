"""The Ibis aggregation layer (cxnb.engine): values by hand on DuckDB, and the same tables from Spark."""

from __future__ import annotations

import pandas as pd
import pytest

from cxnb import engine
from cxnb.demo import generate_demo
from cxnb.profile import customer_profiles


def _tx() -> pd.DataFrame:
    rows = [  # customer, order, timestamp, item, quantity, amount
        ("a", "o1", "2024-01-01 10:00", "x", 1, 10.0),
        ("a", "o1", "2024-01-01 10:00", "y", 2, 5.0),
        ("a", "o2", "2024-01-11 09:00", "x", 1, 20.0),
        ("a", "o3", "2024-01-31 12:00", "z", 3, 15.0),
        ("b", "o4", "2024-01-20 08:00", "z", 1, 100.0),
        ("c", "o5", "2024-02-05 00:00", "x", 4, 7.0),
    ]
    df = pd.DataFrame(rows, columns=["customer_id", "order_id", "timestamp", "item_id", "quantity", "amount"])
    return df.assign(timestamp=pd.to_datetime(df["timestamp"]))


def _frame(tx, aggregate, keys, as_of=None) -> pd.DataFrame:
    eng = engine.from_duckdb(tx)
    return eng.frame(aggregate(eng.table, as_of), keys).set_index(keys)


def test_customer_aggregates_by_hand():
    c = _frame(_tx(), engine.customer_aggregates, ["customer_id"])
    assert c.loc["a"].to_dict() == {
        "first_order": pd.Timestamp("2024-01-01 10:00"), "last_order": pd.Timestamp("2024-01-31 12:00"),
        "frequency": 3, "monetary": 50.0, "n_items": 3, "units": 7, "n_lines": 4}
    assert c.loc["c", "units"] == 4
    assert list(c.index) == ["a", "b", "c"]


def test_as_of_keeps_only_earlier_lines():
    c = _frame(_tx(), engine.customer_aggregates, ["customer_id"], as_of="2024-01-11 09:00")
    assert list(c.index) == ["a"]
    assert (c.loc["a", "frequency"], c.loc["a", "n_lines"]) == (1, 2)  # the 09:00 line itself is excluded


def test_item_aggregates_by_hand():
    i = _frame(_tx(), engine.item_aggregates, ["item_id"])
    assert i.loc["x"].to_dict() == {"customers": 2, "lines": 3, "units": 6, "revenue": 37.0}
    assert i.loc["z"].to_dict() == {"customers": 2, "lines": 2, "units": 4, "revenue": 115.0}
    assert i["lines"].sum() == len(_tx())


def test_interaction_counts_by_hand():
    pairs = _frame(_tx(), engine.interaction_counts, ["customer_id", "item_id"])
    assert len(pairs) == 5
    assert pairs.loc[("a", "x")].to_dict() == {"lines": 2, "orders": 2, "units": 2,
                                               "last": pd.Timestamp("2024-01-11 09:00")}


def test_optional_columns_missing():
    tx = _tx().drop(columns=["order_id", "amount", "quantity"])
    c = _frame(tx, engine.customer_aggregates, ["customer_id"])
    assert c.loc["a", "frequency"] == 3  # distinct days stand in for orders
    assert c["monetary"].isna().all()
    assert (c["units"] == c["n_lines"]).all()


def test_category_weights_by_spend_and_unknown_items():
    eng = engine.from_duckdb(_tx())
    items = eng.attach(pd.DataFrame({"item_id": ["x", "y"], "category": ["food", "food"]}))
    w = eng.frame(engine.category_weights(eng.table, items), ["customer_id", "category"])
    assert w.set_index(["customer_id", "category"])["w"].to_dict() == {
        ("a", "food"): 35.0, ("a", "unknown"): 15.0, ("b", "unknown"): 100.0, ("c", "food"): 7.0}


def test_parquet_and_dataframe_give_the_same_aggregates(tmp_path):
    tx = _tx()
    tx.to_parquet(tmp_path / "tx.parquet")
    for aggregate, keys in [(engine.customer_aggregates, ["customer_id"]), (engine.item_aggregates, ["item_id"])]:
        pd.testing.assert_frame_equal(_frame(tx, aggregate, keys), _frame(tmp_path / "tx.parquet", aggregate, keys))


def test_last_timestamp():
    assert engine.last_timestamp(engine.from_duckdb(_tx())) == pd.Timestamp("2024-02-05")


def test_database_url_takes_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("CXNB_DB_PASSWORD", "s3cret")
    url = engine.database_url("mysql://shop@db.example:3306/sales")
    assert (url.drivername, url.username, url.password, url.database) == ("mysql+pymysql", "shop", "s3cret", "sales")
    assert engine.database_url("postgres://u@h/db").drivername == "postgresql+psycopg"


@pytest.fixture(scope="module")
def clean_demo(tmp_path_factory):
    """The cleaned demo subset as Parquet (what prepare writes) and its items table."""
    demo = generate_demo(n_customers=600, n_items=100)
    tx = demo.transactions.dropna(subset=["customer_id"])
    tx = tx[(tx["quantity"] > 0) & (tx["price"] > 0)].drop_duplicates()
    tx = tx.assign(amount=tx["quantity"] * tx["price"], timestamp=pd.to_datetime(tx["timestamp"]),
                   customer_id=tx["customer_id"].astype("str"))
    path = tmp_path_factory.mktemp("engine") / "transactions.parquet"
    tx.to_parquet(path, index=False)
    return path, demo.items


@pytest.mark.slow
def test_spark_gives_the_same_tables_as_duckdb(clean_demo):
    pytest.importorskip("pyspark")
    path, items = clean_demo
    local, spark = engine.from_duckdb(path), engine.from_spark(path)
    for aggregate, keys in [(engine.customer_aggregates, ["customer_id"]), (engine.item_aggregates, ["item_id"]),
                            (engine.interaction_counts, ["customer_id", "item_id"])]:
        pd.testing.assert_frame_equal(spark.frame(aggregate(spark.table, "2024-06-01"), keys),
                                      local.frame(aggregate(local.table, "2024-06-01"), keys),
                                      check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(customer_profiles(spark, items), customer_profiles(path, items),
                                  check_exact=False, rtol=1e-9)
