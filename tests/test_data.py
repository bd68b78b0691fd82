"""Loading, column mapping, typing and cleaning (cxnb.data)."""

from __future__ import annotations

import pandas as pd
import pytest

from cxnb.config import load_params
from cxnb.data import infer_timestamp_format, prepare
from cxnb.errors import DataError
from tests.conftest import write_params

ORDERS = """\
InvoiceNo,CustomerID,InvoiceDate,StockCode,Quantity,UnitPrice
1001,A,27-04-2015 10:00,X1,2,3.50
1001,A,27-04-2015 10:00,X2,1,10.00
1001,A,27-04-2015 10:00,X2,1,10.00
1002,B,28-04-2015 11:30,X1,1,3.50
C1003,B,29-04-2015 09:00,X1,-1,3.50
1004,,29-04-2015 12:00,X3,5,2.00
1005,C,30-04-2015 08:00,X3,0,2.00
1006,C,01-05-2015 08:00,X3,3,0
1007,C,13-05-2015 18:45,X1,4,3.50
1008,A,31-12-2016 23:59,X2,1,10.00
"""


def _params(tmp_path, orders=ORDERS, extra: str = "", ts: str = "") -> tuple:
    (tmp_path / "orders.csv").write_text(orders, encoding="utf-8")
    path = write_params(tmp_path, f"""
        client: t
        data:
          transactions:
            source: orders.csv
            columns: {{customer_id: CustomerID, order_id: InvoiceNo, timestamp: InvoiceDate,
                       item_id: StockCode, quantity: Quantity, price: UnitPrice}}
            {ts}
        {extra}
        """)
    return load_params(path), tmp_path / "run"


def test_cleaning_counts_are_exact(tmp_path):
    params, run = _params(tmp_path, extra="analysis: {end: '2015-12-31'}")
    q = prepare(params, run)
    removed = {r["rule"]: r["removed"] for r in q["tables"]["transactions"]["cleaning"]}
    assert removed == {"missing_customer_id": 1, "missing_timestamp": 0, "exact_duplicate": 1,
                       "non_finite_value": 0, "implausible_timestamp": 0, "cancellation_or_return": 1, "zero_quantity": 1, "non_positive_price": 1,
                       "outside_window": 1}
    tx = pd.read_parquet(run / "data" / "transactions.parquet")
    assert len(tx) == 4
    assert q["tables"]["transactions"]["timestamp_format"] == "%d-%m-%Y %H:%M"
    assert tx["timestamp"].min() == pd.Timestamp("2015-04-27 10:00")
    assert sorted(tx["amount"]) == [3.5, 7.0, 10.0, 14.0]


def test_duplicates_are_counted_once_and_later_rules_see_one_copy(tmp_path):
    """Three copies of a kept line, two of a zero-quantity line and three of a line without customer: copies
    count as duplicates, a line removed by a later rule counts once under it, missing ids count every copy."""
    orders = ORDERS.splitlines()
    lines = orders + [orders[1], orders[1], orders[6], orders[6], orders[7]]
    params, run = _params(tmp_path, orders="\n".join(lines) + "\n")
    q = prepare(params, run)
    removed = {r["rule"]: r["removed"] for r in q["tables"]["transactions"]["cleaning"]}
    assert removed == {"missing_customer_id": 3, "missing_timestamp": 0, "exact_duplicate": 4,
                       "non_finite_value": 0, "implausible_timestamp": 0, "cancellation_or_return": 1, "zero_quantity": 1, "non_positive_price": 1}
    tx = pd.read_parquet(run / "data" / "transactions.parquet")
    assert len(tx) == 5 and q["tables"]["transactions"]["rows_kept"] == 5
    assert q["tables"]["transactions"]["rows_read"] == len(lines) - 1


def test_lines_equal_once_typed_are_duplicates(tmp_path):
    """Duplicates are judged on the typed line: an id with stray spaces is the same id (here the source
    columns already carry the canonical names, so raw and typed columns share a name)."""
    (tmp_path / "orders.csv").write_text(
        "customer_id,order_id,timestamp,item_id,amount\n"
        "A,1,2024-01-05 10:00,X,5.0\n"
        " A ,1,2024-01-05 10:00,X ,5.00\n"
        "B,2,2024-01-06 11:00,X,7.0\n", encoding="utf-8")
    params = load_params(write_params(tmp_path, "client: t\ndata: {transactions: {source: orders.csv}}\n"))
    q = prepare(params, tmp_path / "run")
    removed = {r["rule"]: r["removed"] for r in q["tables"]["transactions"]["cleaning"]}
    assert removed["exact_duplicate"] == 1
    assert q["tables"]["transactions"]["rows_kept"] == 2


def test_customer_ids_are_pseudonymized(tmp_path):
    params, run = _params(tmp_path)
    prepare(params, run)
    ids = set(pd.read_parquet(run / "data" / "transactions.parquet")["customer_id"])
    assert not ids & {"A", "B", "C"}
    assert all(len(i) == 16 for i in ids)


def test_unicode_column_names(tmp_path):
    csv = "用户ID,购买时间,购买金额,商品ID\nu1,2021-03-01 10:00:00,12.5,商品A\nu2,2021-03-02 11:00:00,8,商品B\n"
    (tmp_path / "订单.csv").write_text(csv, encoding="utf-8")
    path = write_params(tmp_path, """
        client: cn
        data:
          transactions:
            source: 订单.csv
            columns: {customer_id: 用户ID, timestamp: 购买时间, amount: 购买金额, item_id: 商品ID}
        """)
    q = prepare(load_params(path), tmp_path / "run")
    tx = pd.read_parquet(tmp_path / "run" / "data" / "transactions.parquet")
    assert q["tables"]["transactions"]["rows_kept"] == 2
    assert sorted(tx["item_id"]) == ["商品A", "商品B"]
    assert tx["amount"].sum() == pytest.approx(20.5)


@pytest.mark.parametrize(("values", "expected"), [
    (["27-04-2015", "01-05-2015"], "%d-%m-%Y"),
    (["04/27/2015", "05/01/2015"], "%m/%d/%Y"),
    (["2015-04-27 10:00:00"], "%Y-%m-%d %H:%M:%S"),
    (["19970101", "19970215"], "%Y%m%d"),
    (["01-02-2015", "03-04-2015"], "ambiguous"),
    (["881250949", "891250949"], None),
])
def test_timestamp_inference(values, expected):
    assert infer_timestamp_format(values) == expected


def test_integer_dates_are_never_nanoseconds(tmp_path):
    orders = "c,t\nx,19970101\ny,19970215\n"
    (tmp_path / "o.csv").write_text(orders)
    path = write_params(tmp_path, """
        client: t
        data: {transactions: {source: o.csv, columns: {customer_id: c, timestamp: t}}}
        """)
    prepare(load_params(path), tmp_path / "run")
    tx = pd.read_parquet(tmp_path / "run" / "data" / "transactions.parquet")
    assert sorted(tx["timestamp"].dt.year) == [1997, 1997]


def test_unix_timestamps(tmp_path):
    (tmp_path / "u.data").write_text("1\t10\t5\t881250949\n2\t20\t3\t891717742\n")
    path = write_params(tmp_path, """
        client: t
        data:
          transactions:
            source: u.data
            read_options: {sep: "\\t", header: null, names: [user, item, rating, ts]}
            columns: {customer_id: user, item_id: item, rating: rating, timestamp: ts}
            timestamp_format: unix
        """)
    prepare(load_params(path), tmp_path / "run")
    tx = pd.read_parquet(tmp_path / "run" / "data" / "transactions.parquet")
    assert sorted(tx["timestamp"]) == [pd.Timestamp("1997-12-04 15:55:49"), pd.Timestamp("1998-04-04 19:22:22")]


def test_ambiguous_dates_ask_for_a_format(tmp_path):
    params, run = _params(tmp_path, orders="InvoiceNo,CustomerID,InvoiceDate,StockCode,Quantity,UnitPrice\n"
                          "1,A,01-02-2015,X,1,1\n2,B,03-04-2015,X,1,1\n")
    with pytest.raises(DataError, match="timestamp_format"):
        prepare(params, run)


def test_unparseable_numbers_show_rows(tmp_path):
    bad = ORDERS.replace("1002,B,28-04-2015 11:30,X1,1,3.50", "1002,B,28-04-2015 11:30,X1,one,3.50")
    params, run = _params(tmp_path, orders=bad)
    with pytest.raises(DataError, match=r"column 'Quantity'.*row 4: 'one'"):
        prepare(params, run)
