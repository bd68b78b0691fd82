"""The aggregate tables prepare writes equal a pandas groupby of the prepared demo lines."""

from __future__ import annotations

import pandas as pd
import pytest

from cxnb.config import load_params
from cxnb.context import Run, repo_root
from cxnb.data import prepare
from cxnb.data.aggregates import AGGREGATES


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Run:
    params = load_params(repo_root() / "params" / "demo.yaml")
    run_dir = tmp_path_factory.mktemp("aggregates")
    prepare(params, run_dir)
    return Run(params, run_dir)


def _lines(run: Run, before=None) -> pd.DataFrame:
    tx = run.transactions()
    return tx if before is None else tx[tx["timestamp"] < before]


def _customers(tx: pd.DataFrame) -> pd.DataFrame:
    g = tx.groupby("customer_id")
    return pd.DataFrame({"first_order": g["timestamp"].min(), "last_order": g["timestamp"].max(),
                         "frequency": g["order_id"].nunique(), "monetary": g["amount"].sum(),
                         "n_items": g["item_id"].nunique(), "units": g["quantity"].sum(), "n_lines": g.size()})


def _same(ours: pd.DataFrame, expected: pd.DataFrame) -> None:
    ours = ours[expected.columns]
    for col in expected.columns:
        if pd.api.types.is_float_dtype(expected[col]):
            assert (ours[col] - expected[col]).abs().max() < 1e-6, col
        else:
            assert ours[col].astype(expected[col].dtype).tolist() == expected[col].tolist(), col


def test_every_aggregate_is_written_sorted_by_its_key(demo_run):
    for name in AGGREGATES:
        assert (demo_run.run_dir / "data" / "aggregates" / f"{name}.parquet").exists(), name
    customers = demo_run.aggregate("customers_end")
    assert customers["customer_id"].is_monotonic_increasing and customers["customer_id"].is_unique


@pytest.mark.parametrize("table", ["customers_end", "customers_cutoff"])
def test_customer_aggregates_equal_a_groupby_of_the_lines(demo_run, table):
    before = demo_run.cutoff if table == "customers_cutoff" else None
    expected = _customers(_lines(demo_run, before))
    ours = demo_run.aggregate(table).set_index("customer_id")
    assert list(ours.index) == list(expected.index)
    _same(ours, expected)
    if before is not None:
        assert ours["n_lines"].sum() < len(demo_run.transactions())


def test_item_and_customer_item_aggregates_equal_a_groupby(demo_run):
    tx = _lines(demo_run)
    g = tx.groupby("item_id")
    expected = pd.DataFrame({"customers": g["customer_id"].nunique(), "lines": g.size(), "units": g["quantity"].sum(),
                             "revenue": g["amount"].sum()})
    _same(demo_run.aggregate("items").set_index("item_id"), expected)
    g = tx.groupby(["customer_id", "item_id"])
    expected = pd.DataFrame({"lines": g.size(), "orders": g["order_id"].nunique(), "units": g["quantity"].sum(),
                             "spend": g["amount"].sum(), "first": g["timestamp"].min(), "last": g["timestamp"].max()})
    ours = demo_run.aggregate("customer_items").set_index(["customer_id", "item_id"])
    assert list(ours.index) == list(expected.index)
    _same(ours, expected)
    assert ours["lines"].sum() == len(tx)


def test_months_equal_a_groupby_and_count_each_customer_new_once(demo_run):
    tx = _lines(demo_run).assign(month=lambda d: d["timestamp"].dt.to_period("M").dt.start_time)
    g = tx.groupby("month")
    first = tx.groupby("customer_id")["month"].min().value_counts()
    expected = pd.DataFrame({"customers": g["customer_id"].nunique(), "orders": g["order_id"].nunique(),
                             "lines": g.size(), "units": g["quantity"].sum(), "revenue": g["amount"].sum()})
    expected["new_customers"] = first.reindex(expected.index, fill_value=0)
    ours = demo_run.aggregate("months")
    ours = ours.set_index(ours["month"].astype(expected.index.dtype))
    _same(ours, expected)
    assert ours["new_customers"].sum() == tx["customer_id"].nunique()


def test_last_timestamp_and_unknown_names(demo_run):
    assert demo_run.last_timestamp == demo_run.transactions()["timestamp"].max()
    with pytest.raises(KeyError, match="customer_items"):
        demo_run.aggregate("customer")
