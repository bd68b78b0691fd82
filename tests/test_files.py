"""Real client files open from the parameter file alone: compressed, zipped, whitespace-aligned, filtered rows,
time zones, customers without ids, and pandas reader options that work or say what to use instead."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile

import pandas as pd
import pytest

from cxnb.cli import main
from cxnb.config import load_params
from cxnb.context import open_run
from cxnb.data import prepare
from tests.conftest import shared_data, write_params

ORDERS = "CustomerID,InvoiceDate,Amount,Country\nA,2021-01-05,10,UK\nB,2021-02-07,12.5,France\nC,2021-03-09,7,UK\n"
MAPPING = "{customer_id: CustomerID, timestamp: InvoiceDate, amount: Amount}"


def _client(tmp, source: str, extra: str = "") -> load_params:
    return load_params(write_params(tmp, f"client: t\ndata: {{transactions: {{source: {source}, columns: {MAPPING}"
                                         f"{extra}}}}}\n"))


def _lines(tmp, params) -> pd.DataFrame:
    prepare(params, tmp / "run")
    return pd.read_parquet(tmp / "run" / "data" / "transactions.parquet")


@pytest.mark.parametrize("name,opener", [("o.csv.gz", gzip.open), ("o.csv.bz2", bz2.open), ("o.csv.xz", lzma.open)])
def test_compressed_csv_is_read_directly(tmp_path, name, opener):
    with opener(tmp_path / name, "wt", encoding="utf-8") as fh:
        fh.write(ORDERS)
    assert len(_lines(tmp_path, _client(tmp_path, name))) == 3


def test_compressed_non_utf8_is_checked_after_decompressing(tmp_path, capsys):
    with gzip.open(tmp_path / "o.csv.gz", "wb") as fh:
        fh.write(("CustomerID,InvoiceDate,Amount\n" + "José Müller,2021-01-05,10\n" * 50).encode("cp1252"))
    write_params(tmp_path, f"client: t\ndata: {{transactions: {{source: o.csv.gz, columns: {MAPPING}}}}}\n")
    assert main(["validate", str(tmp_path / "client.yaml")]) == 2
    err = capsys.readouterr().err
    assert "not UTF-8 text" in err and "'cp1252'" in err


def test_a_compressed_file_in_another_encoding_keeps_it(tmp_path):
    with bz2.open(tmp_path / "o.csv.bz2", "wb") as fh:
        fh.write(("CustomerID,InvoiceDate,Amount\n" + "".join(f"José Müller,2021-01-0{d},10\n" for d in (1, 2, 3)))
                 .encode("cp1252"))
    params = _client(tmp_path, "o.csv.bz2", ", read_options: {encoding: cp1252}")
    prepare(params, tmp_path / "run")
    lines = pd.read_parquet(tmp_path / "run" / "data" / "transactions.parquet")
    assert lines["amount"].sum() == 30 and lines["customer_id"].nunique() == 1


def test_zip_with_one_csv_and_with_several(tmp_path, capsys):
    with zipfile.ZipFile(tmp_path / "one.zip", "w") as zf:
        zf.writestr("export/orders.csv", ORDERS)
    assert len(_lines(tmp_path, _client(tmp_path, "one.zip"))) == 3
    with zipfile.ZipFile(tmp_path / "two.zip", "w") as zf:
        zf.writestr("orders.csv", ORDERS)
        zf.writestr("readme.txt", "hello")
    write_params(tmp_path, f"client: t\ndata: {{transactions: {{source: two.zip, columns: {MAPPING}}}}}\n")
    assert main(["validate", str(tmp_path / "client.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert "the zip holds 2 files (orders.csv, readme.txt); name the one to read in " \
           "data.transactions.read_options.member" in err and err.count("\n") == 0
    params = _client(tmp_path, "two.zip", ", read_options: {member: orders.csv}")
    assert len(_lines(tmp_path, params)) == 3


WHITESPACE = ("  00001 19970101  1   11.77\r\n  00001 19970118  2   29.33\r\n  00002 19970102  2   20.76\r\n"
              "  00003 19970112  5   77.00\r\n")


@pytest.mark.parametrize("options", ["{sep: '\\s+', header: null, names: [id, date, cds, dollars]}",
                                     "{delim_whitespace: true, header: null, names: [id, date, cds, dollars]}"])
def test_whitespace_aligned_crlf_file_with_leading_spaces(tmp_path, options):
    (tmp_path / "log.txt").write_bytes(WHITESPACE.encode())
    params = load_params(write_params(tmp_path, f"""
        client: t
        data:
          transactions:
            source: log.txt
            read_options: {options}
            columns: {{customer_id: id, timestamp: date, quantity: cds, amount: dollars}}
            timestamp_format: "%Y%m%d"
        """))
    lines = _lines(tmp_path, params).sort_values("amount", ignore_index=True)
    assert lines["amount"].tolist() == [11.77, 20.76, 29.33, 77.0]
    assert str(lines["timestamp"].min().date()) == "1997-01-01"
    assert lines["customer_id"].nunique() == 3


def test_whitespace_file_with_a_header_line_gzipped(tmp_path):
    with gzip.open(tmp_path / "log.txt.gz", "wt") as fh:
        fh.write("   id     date cds dollars\r\n" + WHITESPACE)
    params = load_params(write_params(tmp_path, """
        client: t
        data:
          transactions:
            source: log.txt.gz
            read_options: {sep: '\\s+'}
            columns: {customer_id: id, timestamp: date, amount: dollars}
            timestamp_format: "%Y%m%d"
        """))
    assert len(_lines(tmp_path, params)) == 4


def test_where_keeps_only_the_selected_rows_and_counts_the_rest(tmp_path):
    (tmp_path / "o.csv").write_text(ORDERS)
    params = _client(tmp_path, "o.csv", ", where: \"Country = 'UK'\"")
    lines = _lines(tmp_path, params)
    assert len(lines) == 2
    run = open_run(params, tmp_path / "run")
    info = run.quality["tables"]["transactions"]
    assert info["filter"] == {"where": "Country = 'UK'", "rows_before": 3, "removed": 1}
    assert info["rows_read"] == 3 and info["cleaning"][0] == {
        "rule": "filtered_out", "removed": 1, "why": "not selected by the row filter data.transactions.where"}


def test_a_bad_where_is_one_line_naming_the_key(tmp_path, capsys):
    (tmp_path / "o.csv").write_text(ORDERS)
    write_params(tmp_path, f"client: t\ndata: {{transactions: {{source: o.csv, columns: {MAPPING}, "
                           "where: \"Contry = 'UK'\"}}\n")
    assert main(["validate", str(tmp_path / "client.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert "key 'data.transactions.where' (\"Contry = 'UK'\") cannot be applied" in err and err.count("\n") == 0


def test_a_numeric_where_on_text_columns_names_the_cast_and_the_cast_works(tmp_path, capsys):
    (tmp_path / "o.csv").write_text(ORDERS)
    write_params(tmp_path, f"client: t\ndata: {{transactions: {{source: o.csv, columns: {MAPPING}, "
                           "where: \"Amount > 8\"}}\n")
    assert main(["validate", str(tmp_path / "client.yaml")]) == 2
    assert 'compare numbers after a cast, e.g. "CAST(amount AS DOUBLE) > 0"' in capsys.readouterr().err
    assert len(_lines(tmp_path, _client(tmp_path, "o.csv", ", where: \"CAST(Amount AS DOUBLE) > 8\""))) == 2


def test_unix_times_shift_to_the_client_time_zone_across_midnight(tmp_path):
    # 2020-12-31 16:00 UTC is 2021-01-01 00:00 in Shanghai: the purchase moves to the next day and year.
    (tmp_path / "o.csv").write_text("user,ts,amount\nA,1609430400,10\nB,1609000000,5\nA,1601510400,3\n")
    body = ("client: t\ndata:\n  transactions: {source: o.csv, columns: {customer_id: user, timestamp: ts, "
            "amount: amount}, timestamp_format: unix}\n")
    utc = open_run(load_params(write_params(tmp_path, body, "utc.yaml")), tmp_path / "utc")
    local = open_run(load_params(write_params(tmp_path, body + "  timezone: Asia/Shanghai\n", "sh.yaml")),
                     tmp_path / "sh")
    assert str(utc.transactions()["timestamp"].max()) == "2020-12-31 16:00:00"
    assert str(local.transactions()["timestamp"].max()) == "2021-01-01 00:00:00"
    assert local.cutoff - utc.cutoff == pd.Timedelta(days=1)  # the cutoff and the horizon move with the day
    assert local.quality["timezone"] == "Asia/Shanghai"


def test_unknown_time_zone_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "o.csv").write_text(ORDERS)
    write_params(tmp_path, f"client: t\ndata: {{timezone: Asia/Shangai, transactions: {{source: o.csv, "
                           f"columns: {MAPPING}}}}}\n")
    assert main(["validate", str(tmp_path / "client.yaml")]) == 2
    assert "'Asia/Shangai' is not an IANA time zone" in capsys.readouterr().err


def test_customers_without_an_id_column_are_numbered_in_file_order(tmp_path):
    (tmp_path / "c.csv").write_text("age,income,responded\n34,52000,yes\n51,61000,no\n28,39000,yes\n")
    params = load_params(write_params(tmp_path, "client: t\nprivacy: {pseudonymize_ids: false}\n"
                                                "data: {customers: {source: c.csv}}\n"))
    run = open_run(params, tmp_path / "run")
    customers = run.customers().sort_values("customer_id")
    assert customers["customer_id"].tolist() == ["1", "2", "3"]
    assert customers["income"].tolist() == [52000, 61000, 39000]
    assert run.quality["tables"]["customers"]["customer_id"] == "row_number"


@pytest.mark.parametrize("option,expected", [
    ("{dtype: {Amount: float}}", "'data.transactions.read_options.dtype' can only ask for text (str)"),
    ("{parse_dates: [InvoiceDate]}", "'data.transactions.read_options.parse_dates' is not supported: timestamps are "
                                     "parsed from the column mapped to timestamp"),
    ("{skipfooter: 2}", "keep only the rows you need with data.<table>.where"),
    ("{header: 3}", "must be 0 (the first line names the columns) or null"),
])
def test_pandas_options_either_work_or_name_the_equivalent(tmp_path, capsys, option, expected):
    (tmp_path / "o.csv").write_text(ORDERS)
    write_params(tmp_path, f"client: t\ndata: {{transactions: {{source: o.csv, columns: {MAPPING}, "
                           f"read_options: {option}}}}}\n")
    assert main(["validate", str(tmp_path / "client.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and err.count("\n") == 0


def test_pandas_options_that_work(tmp_path):
    (tmp_path / "o.csv").write_text(ORDERS + "D,2021-04-01,9,UK,extra\n")
    params = _client(tmp_path, "o.csv", ", read_options: {dtype: str, nrows: 3, usecols: [CustomerID, InvoiceDate, "
                                        "Amount], on_bad_lines: skip, low_memory: false}")
    lines = _lines(tmp_path, params)
    assert len(lines) == 3 and set(lines.columns) == {"customer_id", "timestamp", "amount"}


@pytest.mark.realdata
def test_cdnow_whitespace_log_gzipped_reads_all_purchases(tmp_path):
    raw = shared_data("cdnow-sample", "CDNOW_sample.txt")
    with raw.open("rb") as src, gzip.open(tmp_path / "cdnow.txt.gz", "wb") as dst:
        dst.write(src.read())
    params = load_params(write_params(tmp_path, """
        client: cdnow
        privacy: {pseudonymize_ids: false}
        data:
          transactions:
            source: cdnow.txt.gz
            read_options: {sep: '\\s+', header: null, names: [master_id, customer, date, cds, dollars]}
            columns: {customer_id: customer, timestamp: date, quantity: cds, amount: dollars}
            timestamp_format: "%Y%m%d"
        """))
    run = open_run(params, tmp_path / "run")
    info = run.quality["tables"]["transactions"]
    assert info["rows_read"] == 6919
    removed = {r["rule"]: r["removed"] for r in info["cleaning"]}
    assert removed["non_positive_price"] == 8  # eight first purchases of $0.00, each a customer's only one
    assert info["summary"]["customers"] == 2357 - 8
    assert info["summary"]["first"].startswith("1997-01-01") and info["summary"]["last"].startswith("1998-06-30")
    assert "whitespace-aligned" in info["reader"] and "gzip" in info["reader"]


def _retail_log(tmp) -> None:
    """200 orders of products P0001..P0050; postage on 40% of orders at varying prices; a few vouchers."""
    import numpy as np

    rng = np.random.default_rng(3)
    rows = ["InvoiceNo,StockCode,Description,Quantity,UnitPrice,CustomerID,InvoiceDate"]
    for o in range(200):
        day = f"2021-{1 + o % 12:02d}-{1 + o % 28:02d}"
        for _ in range(3):
            p = rng.integers(1, 51)
            rows.append(f"{5000 + o},P{p:04d},Product {p},1,{2 + p % 7}.50,{100 + o % 40},{day}")
        if o % 5 < 2:
            rows.append(f"{5000 + o},POST,POSTAGE,1,{rng.choice([1, 5, 18, 40])}.00,{100 + o % 40},{day}")
        if o % 50 == 0:
            rows.append(f"{5000 + o},GIFT_0001,Gift voucher,1,20.00,{100 + o % 40},{day}")
    (tmp / "retail.csv").write_text("\n".join(rows) + "\n")


RETAIL = """
    client: t
    privacy: {{min_group_size: 1}}
    data:
      transactions:
        source: retail.csv
        columns: {{customer_id: CustomerID, order_id: InvoiceNo, timestamp: InvoiceDate, item_id: StockCode,
                  quantity: Quantity, price: UnitPrice}}
      items: {{source: items.csv, columns: {{item_id: StockCode, name: Description}}{exclude}}}
    """


def test_listed_non_products_keep_revenue_and_are_listed(tmp_path):
    _retail_log(tmp_path)
    pd.read_csv(tmp_path / "retail.csv")[["StockCode", "Description"]].drop_duplicates().to_csv(
        tmp_path / "items.csv", index=False)
    params = load_params(write_params(tmp_path, RETAIL.format(exclude=", exclude: [POST, 're:^GIFT_']")))
    run = open_run(params, tmp_path / "run")
    info = run.quality["tables"]["transactions"]
    assert run.non_products() == {"POST", "GIFT_0001"}
    assert info["non_products"]["items"] == 2 and info["non_products"]["lines"] == 80 + 4
    assert info["summary"]["revenue"] == pytest.approx(run.transactions()["amount"].sum())  # revenue kept
    assert info["non_product_candidates"] == []


def test_candidate_non_products_are_suggested(tmp_path):
    _retail_log(tmp_path)
    pd.read_csv(tmp_path / "retail.csv")[["StockCode", "Description"]].drop_duplicates().to_csv(
        tmp_path / "items.csv", index=False)
    run = open_run(load_params(write_params(tmp_path, RETAIL.format(exclude=""))), tmp_path / "run")
    candidates = {c["item_id"]: c for c in run.quality["tables"]["transactions"]["non_product_candidates"]}
    assert set(candidates) == {"POST"}  # in 40% of orders at prices from 1 to 40: flagged; products are not
    assert set(candidates["POST"]["reasons"]) >= {"in_many_orders", "price_varies"}
    assert run.non_products() == set()
