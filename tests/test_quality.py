"""The data-quality report: activity over time with the partial last month marked, the top tables in the
report language and hidden for a client too small to show."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxnb import quality as dq


def _orders(end: str, customers: int = 50) -> pd.DataFrame:
    ts = pd.date_range("2023-01-01", end, freq="6h")
    return pd.DataFrame({"customer_id": [f"c{i % customers}" for i in range(len(ts))], "timestamp": ts,
                         "order_id": np.arange(len(ts)), "item_id": [f"i{i % 7}" for i in range(len(ts))],
                         "amount": 1.0})


def test_a_last_month_the_data_does_not_cover_is_marked_partial():
    cut = dq.activity_over_time(dq.Coverage.of_lines(_orders("2023-06-09")))
    assert cut["partial"].tolist() == [False] * 5 + [True]
    whole = dq.activity_over_time(dq.Coverage.of_lines(_orders("2023-05-31 18:00")))
    assert not whole["partial"].any() and len(whole) == 5
    from cxnb.viz import set_theme

    set_theme()  # as open_run does for every notebook: the CJK font for Chinese labels
    fig = dq.plot_activity(cut, "zh")
    labels = [text.get_text() for ax in fig.axes if ax.get_legend() for text in ax.get_legend().get_texts()]
    assert labels == ["最后一个月：不完整（数据在月底前结束）"] * 2


def test_top_tables_speak_the_report_language_and_hide_a_too_small_client():
    tx = dq.Coverage.of_lines(_orders("2023-02-01"))
    items = pd.DataFrame({"item_id": [f"i{i}" for i in range(7)], "name": list("abcdefg"), "category": "X"})
    customers, items_top, categories = dq.top_tables(dq.top_frames(tx, items, min_group_size=10), "zh")
    assert list(customers.columns) == ["客户", "行数", "订单数", "消费金额"]
    assert list(items_top.columns)[:3] == ["商品", "客户数", "行数"] and "收入" in categories.columns
    assert dq.top_frames(tx, items, min_group_size=51) == []


def test_demo_metrics_read_back_through_their_model(demo_run):
    result = dq.run_stage(demo_run)
    metrics = result.metrics()
    assert dq.QualityMetrics.model_validate(metrics.as_json()) == metrics
    assert metrics.rows_kept + metrics.rows_removed == metrics.rows_read
    assert sum(metrics.removed_by_rule.values()) == metrics.rows_removed
    assert metrics.first_date < metrics.last_date and metrics.orders <= metrics.rows_kept
    assert None not in metrics.as_json().values()  # a figure the data cannot give is absent, not null
    assert len(result.tops) == 3 and result.activity["partial"].sum() <= 1


def test_a_client_under_the_privacy_threshold_keeps_only_its_customer_count():
    quality = {"tables": {}, "parameter_notes": [{"note": "too_few_customers",
                                                  "values": {"customers": 4, "minimum": 10}}]}
    entry = dq.quality_metrics(quality).as_json()
    assert entry == {"customers": 4, "figures_withheld": "fewer customers than privacy.min_group_size (10)"}
    assert dq.QualityMetrics.model_validate(entry).has_transactions is False


def _lines_reference(tx: pd.DataFrame, items: pd.DataFrame) -> list[pd.DataFrame]:
    """The figures as the stage computed them from every line in pandas before it read the aggregates."""
    g = tx.groupby(pd.Grouper(key="timestamp", freq="MS"))
    activity = g.agg(lines=("customer_id", "size"), customers=("customer_id", "nunique"),
                     orders=("order_id", "nunique"), revenue=("amount", "sum")).reset_index()
    by_customer = tx.groupby("customer_id")
    customers = pd.DataFrame({"lines": by_customer.size(), "orders": by_customer["order_id"].nunique(),
                              "spend": by_customer["amount"].sum().round(2)})
    customers = customers.sort_values("lines", ascending=False, kind="mergesort").head(10).reset_index()
    by_item = tx.groupby("item_id")
    top = pd.DataFrame({"customers": by_item["customer_id"].nunique(), "lines": by_item.size()})
    top = top.sort_values(["customers", "lines"], ascending=False, kind="mergesort").head(10).reset_index()
    cat = tx.merge(items[["item_id", "category"]], on="item_id", how="left").fillna({"category": "unknown"})
    by_cat = cat.groupby("category")
    categories = pd.DataFrame({"customers": by_cat["customer_id"].nunique(), "lines": by_cat.size(),
                               "revenue": by_cat["amount"].sum().round(2)})
    categories = categories.sort_values("lines", ascending=False, kind="mergesort").reset_index()
    return [activity.rename(columns={"timestamp": "period"}), customers, top, categories]


def test_the_aggregates_give_the_figures_the_lines_gave(demo_run):
    """Coverage read from the aggregate tables prepare wrote equals the old pandas pass over every line."""
    from cxnb.privacy import suppress_small_groups

    tx, items = demo_run.transactions(), demo_run.items()
    activity, customers, top, categories = _lines_reference(tx, items)
    coverage = dq.Coverage.of_run(demo_run)
    got_activity = dq.activity_over_time(coverage)
    pd.testing.assert_frame_equal(got_activity.drop(columns="partial"), activity, check_dtype=False, rtol=1e-9)
    got = dq.top_frames(coverage, items, 10)
    pd.testing.assert_frame_equal(got[0], customers, check_dtype=False)
    pd.testing.assert_frame_equal(got[1][["item_id", "customers", "lines"]], top, check_dtype=False)
    pd.testing.assert_frame_equal(got[2], suppress_small_groups(categories, "category", "customers", 10),
                                  check_dtype=False)
    assert len(coverage.customers) == tx["customer_id"].nunique()
