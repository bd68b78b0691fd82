"""Data that would pass loading and then crash or mislead a stage: each case is a named cleaning rule with a count,
or a one-line error (exit 2) naming the column or key and the fix, decided when the data is prepared."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cxnb.cli import main
from cxnb.config import load_params
from cxnb.data import plausible_range, prepare
from cxnb.i18n import t
from tests.conftest import shared_data, write_params

HEADER = "CustomerID,InvoiceDate,Quantity,UnitPrice\n"
MAPPING = "{customer_id: CustomerID, timestamp: InvoiceDate, quantity: Quantity, price: UnitPrice}"


def _lines(n: int = 30) -> str:
    """``n`` ordinary purchase lines of ten customers."""
    return "".join(f"C{i % 10},2021-{i % 12 + 1:02d}-05 10:00,{i % 3 + 1},{2.5 + i}\n" for i in range(n))


def _client(tmp, body: str, extra: str = "", source: str = "o.csv", mapping: str = MAPPING) -> str:
    (tmp / source).write_text(body)
    return f"client: t\ndata:\n  transactions: {{source: {source}, columns: {mapping}{extra}}}\n"


# ------------------------------------------------------------------------- cleaning rules with a count

RULE_CASES = {
    "inf price": (HEADER + _lines() + "C1,2021-03-05 10:00,1,inf\nC2,2021-03-06 10:00,1,-inf\n", {"non_finite_value": 2}),
    "NaN quantity": (HEADER + _lines() + "C1,2021-03-05 10:00,NaN,3\nC2,2021-03-06 10:00,nan,4\n", {"non_finite_value": 2}),
    "amount overflowing to inf": (HEADER + _lines() + "C1,2021-03-05 10:00,1e300,1e300\n", {"non_finite_value": 1}),
    "year 1900 and 2999": (HEADER + _lines() + "C1,1900-01-01 00:00,1,3\nC2,2999-12-31 00:00,1,3\n"
                           "C3,1989-12-31 23:59,1,3\n", {"implausible_timestamp": 3}),
}


@pytest.mark.parametrize("case", list(RULE_CASES))
def test_rule_counts_what_would_crash_a_stage(case, tmp_path):
    body, expected = RULE_CASES[case]
    params = load_params(write_params(tmp_path, _client(tmp_path, body)))
    q = prepare(params, tmp_path / "run")
    removed = {r["rule"]: r["removed"] for r in q["tables"]["transactions"]["cleaning"]}
    for rule, n in expected.items():
        assert removed[rule] == n, removed
    assert sum(removed.values()) == sum(expected.values())
    tx = pd.read_parquet(tmp_path / "run" / "data" / "transactions.parquet")
    assert len(tx) == 30
    assert tx["timestamp"].between("1990-01-01", "2030-01-01").all()
    assert pd.api.types.is_float_dtype(tx["price"]) and tx[["quantity", "price"]].map(float).abs().max().max() < 1e6
    summary = q["tables"]["transactions"]["summary"]
    assert summary["first"][:4] == "2021" and summary["last"][:4] == "2021"


def test_the_implausible_bounds_are_stated_in_the_rule():
    earliest, latest = plausible_range(pd.Timestamp("2024-02-28").date())
    assert (earliest, latest) == ("1990-01-01", "2024-02-29")


def test_quality_json_states_the_bounds_and_is_strict_json(tmp_path):
    body = HEADER + _lines() + "C1,2021-03-05 10:00,1,inf\nC1,1900-01-01 00:00,1,3\n"
    params = load_params(write_params(tmp_path, _client(tmp_path, body)))
    prepare(params, tmp_path / "run")
    text = (tmp_path / "run" / "data" / "quality.json").read_text()
    q = json.loads(text, parse_constant=lambda c: pytest.fail(f"quality.json holds {c}"))
    why = {r["rule"]: r["why"] for r in q["tables"]["transactions"]["cleaning"]}
    assert "1990-01-01" in why["implausible_timestamp"] and plausible_range()[1] in why["implausible_timestamp"]


def test_infinite_customer_attributes_become_missing(tmp_path):
    (tmp_path / "c.csv").write_text("id,income\n" + "".join(f"C{i},{1000 + i}\n" for i in range(8))
                                    + "C8,inf\nC9,NaN\n")
    body = _client(tmp_path, HEADER + _lines())
    body += "  customers: {source: c.csv, columns: {customer_id: id}}\n"
    q = prepare(load_params(write_params(tmp_path, body)), tmp_path / "run")
    customers = pd.read_parquet(tmp_path / "run" / "data" / "customers.parquet")
    assert customers["income"].notna().sum() == 8 and customers["income"].max() == 1007
    assert q["tables"]["customers"]["missing_values"]["income"] == 2


# ------------------------------------------------------------------------- ids typed differently by two sources

def test_float_ids_in_one_table_join_integer_ids_in_another(tmp_path):
    tx = pd.DataFrame({"CustomerID": [17850.0, 17851.0, 13047.0, 17850.0] * 5,
                       "InvoiceDate": pd.date_range("2021-01-01", periods=20, freq="D"),
                       "StockCode": ["85123A", "71053", "84406", "22752"] * 5, "Amount": [3.5] * 20})
    tx.to_parquet(tmp_path / "o.parquet")  # ids as DOUBLE, as pandas writes a column that once held NaN
    (tmp_path / "c.csv").write_text("id,region\n17850,North\n17851,South\n13047,East\n")
    (tmp_path / "i.csv").write_text("sku,dept\n85123A,home\n71053,home\n84406,garden\n22752,garden\n")
    body = ("client: t\ndata:\n  transactions: {source: o.parquet, columns: {customer_id: CustomerID, "
            "timestamp: InvoiceDate, item_id: StockCode, amount: Amount}}\n"
            "  customers: {source: c.csv, columns: {customer_id: id}}\n"
            "  items: {source: i.csv, columns: {item_id: sku, category: dept}}\n")
    q = prepare(load_params(write_params(tmp_path, body)), tmp_path / "run")
    assert q["id_overlap"]["share_found"] == 1.0 and q["id_overlap"]["found_in_customers"] == 3
    data = tmp_path / "run" / "data"
    joined = pd.read_parquet(data / "transactions.parquet").merge(pd.read_parquet(data / "customers.parquet"),
                                                                  on="customer_id", how="left")
    assert joined["region"].notna().all()
    assert pd.read_parquet(data / "transactions.parquet")["customer_id"].nunique() == 3


def test_cdnow_zero_padded_ids_join_the_customer_summary(tmp_path, capsys):
    """CDNOW_sample.txt writes the sample customer id as '0001', cdnow_customers_summary.csv as '1': only the 1,358
    ids from 1000 up matched (58%, no warning); without the zeros all 2,357 do, and validate says so."""
    txt, summary = shared_data("cdnow-sample", "CDNOW_sample.txt"), shared_data("cdnow-sample",
                                                                               "cdnow_customers_summary.csv")
    params = write_params(tmp_path, f"""
        client: cdnow
        data:
          transactions:
            source: {txt}
            read_options: {{sep: '\\s+', header: null, names: [master_id, customer, date, cds, dollars]}}
            columns: {{customer_id: customer, timestamp: date, quantity: cds, amount: dollars}}
            timestamp_format: "%Y%m%d"
          customers: {{source: {summary}, columns: {{customer_id: ID}}}}
        """)
    assert main(["validate", str(params)]) == 0
    assert "so 2,357 of the 2,357 customer ids of the transactions match the customer table instead of 1,358" \
        in capsys.readouterr().out
    q = prepare(load_params(params), tmp_path / "run")
    assert q["id_overlap"]["share_found"] == 1.0 and q["id_overlap"]["purchasing_customers"] == 2349


def test_leading_zeros_are_kept_when_dropping_them_would_merge_two_ids(tmp_path):
    (tmp_path / "c.csv").write_text("id,region\n" + "".join(f"{i},North\n" for i in range(1, 11)) + "01,South\n")
    lines = "".join(f"{i:04d},2021-{i % 12 + 1:02d}-05 10:00,1,3\n" for i in range(1, 11))
    body = _client(tmp_path, HEADER + lines) + "  customers: {source: c.csv, columns: {customer_id: id}}\n"
    q = prepare(load_params(write_params(tmp_path, body)), tmp_path / "run")
    assert "ids_unpadded" not in q and q["id_overlap"]["found_in_customers"] == 0


# ------------------------------------------------------------------------- one-line errors (exit 2, no traceback)

def _case_excel_formulas(tmp):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["CustomerID", "InvoiceDate", "Quantity", "UnitPrice", "Amount"])
    for row in range(2, 32):
        sheet.append([f"C{row % 10}", f"2021-01-{row % 28 + 1:02d}", 2, 3.5, f"=C{row}*D{row}"])
    book.save(tmp / "o.xlsx")  # written by a program: the formulas have no saved result
    return ("client: t\ndata:\n  transactions: {source: o.xlsx, columns: {customer_id: CustomerID, "
            "timestamp: InvoiceDate, amount: Amount}}\n")


def _case_long_field(tmp):
    return _client(tmp, HEADER + 'C1,2021-01-05,1,"' + "x" * 10_000_000 + '"\nC2,2021-01-06,1,3\n')


def _case_bad_timestamp_format(tmp):
    return _client(tmp, HEADER + _lines(), ", timestamp_format: '%Y-%q-%d'")


def _case_wrong_timestamp_format(tmp):
    return _client(tmp, HEADER + "C1,05.01.2021 10:00,1,3\nC2,06.01.2021 11:00,1,3\n",
                   ", timestamp_format: '%Y-%m-%d'")


def _case_thousands(tmp):
    return _client(tmp, HEADER + _lines() + 'C1,2021-03-05 10:00,1,"1,234.50"\nC2,2021-03-06 10:00,2,"12,000.00"\n')


def _case_everything_implausible(tmp):
    return _client(tmp, HEADER + "C1,1900-01-01,1,3\nC2,1900-01-01,1,4\n")


def _many_customers(n: int = 60) -> str:
    return HEADER + "".join(f"C{i},2021-{j + 1:02d}-{i % 27 + 1:02d} 10:00,1,{3 + j}\n" for i in range(n)
                            for j in range(1 + i % 3))


def _case_k_too_large(tmp):
    return _client(tmp, _many_customers()) + "analysis: {segmentation: {k: 7}}\n"


def _case_cutoff_after_the_data(tmp):
    return _client(tmp, _many_customers()) + "analysis: {cutoff: '2030-01-01'}\n"


def _case_unix_milliseconds(tmp):
    return _client(tmp, "u,t,a\n1,1609459200000,3\n2,1609459300000,4\n", ", timestamp_format: unix",
                   mapping="{customer_id: u, timestamp: t, amount: a}")


ERROR_CASES = {
    "excel formulas without saved results": (
        _case_excel_formulas, "column 'Amount' has 30 cells holding a formula with no saved result (e.g. row 2: "
                              "'=C2*D2'), which read as empty; open the file in Excel and save it"),
    "10 MB field": (_case_long_field, "holds a field too long to read"),
    "invalid timestamp_format": (_case_bad_timestamp_format, "key 'data.transactions.timestamp_format' "
                                                             "('%Y-%q-%d') is not a date format"),
    "timestamp_format not matching": (_case_wrong_timestamp_format, "has values that are not dates in format "
                                                                    "%Y-%m-%d (row 1: '05.01.2021 10:00'"),
    "thousands separators": (_case_thousands, "set data.transactions.read_options.thousands: ','"),
    "k larger than fits": (_case_k_too_large, "analysis.segmentation.k = 7 is too large: with 60 customers and "
                                              "privacy.min_group_size 10 at most 6 segments"),
    "cutoff after the data": (_case_cutoff_after_the_data, "key 'analysis.cutoff' (2030-01-01) is outside the "
                                                           "purchases, which run from 2021-01-01 to 2021-03-27"),
    "unix times in milliseconds": (_case_unix_milliseconds, "(implausible_timestamp: 2); check "
                                                            "data.transactions.timestamp_format"),
    "every time implausible": (_case_everything_implausible, "no transactions are left after cleaning "
                                                             "(implausible_timestamp: 2)"),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_bad_data_is_one_line_and_exit_2(case, tmp_path, capsys):
    build, expected = ERROR_CASES[case]
    params = write_params(tmp_path, build(tmp_path))
    assert main(["validate", str(params)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith("cxnb: error: ") and "Traceback" not in err
    assert expected in err, err
    assert len(err) < 600, err


def test_sample_value_is_shown_for_an_invalid_format(tmp_path, capsys):
    main(["validate", str(write_params(tmp_path, _case_bad_timestamp_format(tmp_path)))])
    err = capsys.readouterr().err
    assert "'2021-01-05 10:00'" in err and "%Y-%m-%d %H:%M" in err


def test_thousands_option_then_reads_the_numbers(tmp_path):
    body = _client(tmp_path, HEADER + _lines() + 'C1,2021-03-05 10:00,1,"1,234.50"\n', ", read_options: {thousands: ','}")
    q = prepare(load_params(write_params(tmp_path, body)), tmp_path / "run")
    tx = pd.read_parquet(tmp_path / "run" / "data" / "transactions.parquet")
    assert tx["price"].max() == 1234.5 and q["tables"]["transactions"]["rows_kept"] == 31


# ------------------------------------------------------------------------- personal data found by its share

def test_contact_free_text_and_id_copy_columns_are_dropped_as_pii(tmp_path):
    n = 200
    contact = [f"c{i}@example.com" if i % 5 < 2 else f"+44 20 7946 {i:04d}" if i % 5 < 4 else "unknown" for i in range(n)]
    notes = [f"called on 2021-03-{i % 28 + 1:02d}; prefers mail to c{i}@example.com" if i % 10 == 0
             else f"order 1234567{i % 10} on 2021-03-{i % 28 + 1:02d} 10:15" for i in range(n)]
    pd.DataFrame({"id": [f"{17000 + i}" for i in range(n)], "contact": contact, "notes": notes,
                  "legacy_id": [17000.0 + i for i in range(n)], "region": ["North", "South"] * (n // 2),
                  "visits": [str(i % 7) for i in range(n)]}).to_csv(tmp_path / "c.csv", index=False)
    lines = "".join(f"{17000 + i % n},2021-{i % 12 + 1:02d}-05 10:00,1,3\n" for i in range(2 * n))
    body = _client(tmp_path, HEADER + lines) + "  customers: {source: c.csv, columns: {customer_id: id}}\n"
    q = prepare(load_params(write_params(tmp_path, body)), tmp_path / "run")
    reasons = {d["column"]: d["reason"] for d in q["tables"]["customers"]["pii_dropped"]}
    assert set(reasons) == {"contact", "notes", "legacy_id"}, reasons
    assert reasons["contact"].startswith("values are e-mail addresses and phone numbers (80% of a sample")
    assert reasons["notes"].startswith("free text holding e-mail addresses or phone numbers (10.0%")
    assert reasons["legacy_id"].startswith("a copy of the raw customer id (equal on 100%")
    kept = pd.read_parquet(tmp_path / "run" / "data" / "customers.parquet")
    assert list(kept.columns) == ["customer_id", "region", "visits"]
    assert not kept["customer_id"].isin([str(17000 + i) for i in range(n)]).any()  # pseudonyms, not raw ids


# ------------------------------------------------------------------------- customers and buyers that do not match

def test_few_shared_ids_are_said_in_validate_and_the_report(tmp_path, capsys):
    (tmp_path / "c.csv").write_text("id,region\n" + "".join(f"K{i},North\n" for i in range(20)) + "C1,South\n")
    body = _client(tmp_path, HEADER + _lines()) + "  customers: {source: c.csv, columns: {customer_id: id}}\n"
    params = write_params(tmp_path, body)
    assert main(["validate", str(params)]) == 0
    out = capsys.readouterr().out
    assert "warning: Few customers match: Only 10% of the customers who bought (1 of 10) are in the customer table" \
        in out and "20 of its customers never bought" in out
    from cxnb.quality import id_overlap_warning

    q = prepare(load_params(params), tmp_path / "run")
    assert "1 位" in id_overlap_warning(q, "zh") and "10%" in id_overlap_warning(q, "zh")


def test_matching_ids_give_no_warning(tmp_path, capsys):
    (tmp_path / "c.csv").write_text("id,region\n" + "".join(f"C{i},North\n" for i in range(6)))
    body = _client(tmp_path, HEADER + _lines()) + "  customers: {source: c.csv, columns: {customer_id: id}}\n"
    assert main(["validate", str(write_params(tmp_path, body))]) == 0
    assert "warning" not in capsys.readouterr().out  # 6 of 10 buyers found: above the 50% line


# ------------------------------------------------------------------------- parameters narrowed by the data

PARAMETER_NOTES = {
    "k_range [2, 3000]": ("analysis: {segmentation: {k_range: [2, 3000]}}\n",
                          "The number of segments tried is narrowed from 2–3000 to 2–6: with 60 customers"),
    "k_range [20, 3000], min_group_size 2": (
        "analysis: {segmentation: {k_range: [20, 3000]}}\nprivacy: {min_group_size: 2}\n",
        "narrowed from 20–3000 to 15–15: with 60 customers and at least 2 customers in every group the report "
        "shows, no more segments can be fitted and reported (and never more than 15). "
        "[analysis.segmentation.k_range, privacy.min_group_size]"),
    "min_group_size above the customers": ("privacy: {min_group_size: 500}\n",
                                           "The data holds only 60 customers, fewer than the smallest group this "
                                           "report shows (500): the stage reports show no figures"),
}


@pytest.mark.parametrize("case", list(PARAMETER_NOTES))
def test_parameters_the_data_narrows_are_stated_by_validate(case, tmp_path, capsys):
    extra, expected = PARAMETER_NOTES[case]
    params = write_params(tmp_path, _client(tmp_path, _many_customers()) + extra)
    assert main(["validate", str(params)]) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and expected in warnings[0], warnings
    from cxnb.quality import data_warnings

    q = prepare(load_params(params), tmp_path / "run")
    assert data_warnings(q, "zh") and all("{" not in w for w in data_warnings(q, "zh"))
    assert not any("privacy." in w or "analysis." in w for w in data_warnings(q, "en") + data_warnings(q, "zh"))


def test_a_fitting_range_says_nothing(tmp_path, capsys):
    extra = "analysis: {segmentation: {k_range: [2, 5]}}\n"
    params = write_params(tmp_path, _client(tmp_path, _many_customers()) + extra)
    assert main(["validate", str(params)]) == 0
    assert "warning" not in capsys.readouterr().out


# ------------------------------------------------------------------------- end to end: the stages that crashed

@pytest.mark.slow
def test_demo_with_inf_nan_and_implausible_times_runs_and_writes_strict_json(tmp_path):
    """Today inf/NaN crash stage 02 (IntCastingNaNError) and 03 (LinAlgError) and put Infinity in metrics.json;
    year 1900/2999 give impossible recencies. Each is now a counted rule and the stages run."""
    from cxnb.demo import write_demo_files
    from cxnb.report import run_report

    files = write_demo_files(tmp_path / "raw")
    tx = pd.read_csv(files["transactions"], dtype=str, keep_default_na=False)
    buyers = tx.loc[tx["event_type"] == "purchase", "customer_id"].drop_duplicates().head(40).tolist()
    bad = pd.DataFrame([{"order_id": f"X{i}", "customer_id": c, "timestamp": ts, "item_id": "I0001",
                         "quantity": q, "price": p, "event_type": "purchase"}
                        for i, (c, (ts, q, p)) in enumerate(zip(buyers, [
                            ("2024-03-01 10:00:00", "1", "inf"), ("2024-03-01 10:00:00", "NaN", "2.5"),
                            ("2024-03-01 10:00:00", "1", "-inf"), ("1900-01-01 00:00:00", "1", "2.5"),
                            ("2999-12-31 00:00:00", "1", "2.5")] * 8, strict=True))])
    pd.concat([tx, bad]).to_csv(files["transactions"], index=False)
    params = write_params(tmp_path / "raw", """
        client: dirty
        data:
          transactions: {source: transactions.csv}
          customers: {source: customers.csv, pii: [name]}
          items: {source: items.csv, columns: {item_id: item_id}}
        analysis: {horizon_days: 90, segmentation: {k: auto, k_range: [2, 6]}}
        """)
    out = run_report(params, out=tmp_path / "out", only=["data_quality", "requirement_analysis",
                                                          "behavior_prediction"])
    text = (out / "metrics.json").read_text()
    metrics = json.loads(text, parse_constant=lambda c: pytest.fail(f"metrics.json holds {c}"))
    assert metrics["data_quality"]["removed_by_rule"]["non_finite_value"] == 24
    assert metrics["data_quality"]["removed_by_rule"]["implausible_timestamp"] == 16
    assert metrics["data_quality"]["first_date"] >= "2023" and metrics["data_quality"]["last_date"] <= "2025"
    for stage in ("requirement_analysis", "behavior_prediction"):
        assert "skipped" not in metrics[stage], metrics[stage]
    assert "logit" in metrics["behavior_prediction"]
    dq_html = (out / "01_data_quality.html").read_text()
    assert t("dq.rule_name.implausible_timestamp") in dq_html and "before 1990-01-01" in dq_html
    assert set(metrics["data_quality"]["pii_columns_dropped"]) == {"name", "email", "phone"}


def test_behaviour_events_with_implausible_times_are_counted(tmp_path, capsys):
    body = ("CustomerID,InvoiceDate,Quantity,UnitPrice,Event\n"
            + "".join(f"C{i % 10},2021-{i % 12 + 1:02d}-05 10:00,1,3,buy\n" for i in range(30))
            + "".join(f"C{i % 10},2021-{i % 12 + 1:02d}-04 10:00,,,pv\n" for i in range(30))
            + "C1,1900-01-01 00:00,,,pv\nC2,2999-01-01 00:00,,,cart\nC3,1900-01-01 00:00,1,3,buy\n")
    mapping = "{customer_id: CustomerID, timestamp: InvoiceDate, quantity: Quantity, price: UnitPrice, event_type: Event}"
    params = write_params(tmp_path, _client(tmp_path, body, ", event_values: {buy: purchase, pv: view}",
                                            mapping=mapping))
    assert main(["validate", str(params)]) == 0
    assert "warning: 2 behaviour events (views, carts, favourites) have a time before 1990-01-01" \
        in capsys.readouterr().out
    q = prepare(load_params(params), tmp_path / "run")
    assert {r["rule"]: r["removed"] for r in q["tables"]["transactions"]["cleaning"]}["implausible_timestamp"] == 1
    events = pd.read_parquet(tmp_path / "run" / "data" / "events.parquet")
    assert len(events) == 60 and events["timestamp"].dt.year.eq(2021).all()
