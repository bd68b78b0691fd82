"""The command line and the table of bad inputs: each gets one line naming the file/key/column and the fix."""

from __future__ import annotations

import contextlib
import subprocess
import sys

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxnb.cli import main
from cxnb.config import load_params
from cxnb.data import prepare
from cxnb.errors import CxnbError
from tests.conftest import ROOT, write_params

ORDERS = "CustomerID,InvoiceDate,Amount\nA,2021-01-05,10\nB,2021-02-07,12.5\nC,2021-03-09,7\n"
MAPPING = "{customer_id: CustomerID, timestamp: InvoiceDate, amount: Amount}"


def _case_unknown_key(tmp):
    (tmp / "o.csv").write_text(ORDERS)
    return f"client: t\ndata: {{transactions: {{source: o.csv, columns: {MAPPING}}}}}\nanalysis: {{horizon_dayz: 3}}\n"


def _case_missing_file(tmp):
    return f"client: t\ndata: {{transactions: {{source: nowhere.csv, columns: {MAPPING}}}}}\n"


def _case_not_utf8(tmp):
    (tmp / "o.csv").write_bytes("CustomerID,InvoiceDate,Amount\nJosé Müller,2021-01-05,10\n".encode("cp1252") * 50)
    return f"client: t\ndata: {{transactions: {{source: o.csv, columns: {MAPPING}}}}}\n"


def _case_missing_column(tmp):
    (tmp / "o.csv").write_text(ORDERS)
    return ("client: t\ndata: {transactions: {source: o.csv, columns: {customer_id: CustomerId, "
            "timestamp: InvoiceDate}}}\n")


def _case_bad_values(tmp):
    (tmp / "o.csv").write_text(ORDERS + "D,2021-04-01,ten\nE,2021-04-02,n/a\nF,2021-04-03,12\nG,2021-04-04,1O\n")
    return f"client: t\ndata: {{transactions: {{source: o.csv, columns: {MAPPING}}}}}\n"


def _case_empty_after_cleaning(tmp):
    (tmp / "o.csv").write_text("CustomerID,InvoiceDate,Amount\n,2021-01-05,10\n,2021-02-07,12.5\n")
    return f"client: t\ndata: {{transactions: {{source: o.csv, columns: {MAPPING}}}}}\n"


def _case_dates_outside_window(tmp):
    (tmp / "o.csv").write_text(ORDERS)
    return (f"client: t\ndata: {{transactions: {{source: o.csv, columns: {MAPPING}}}}}\n"
            "analysis: {start: '2030-01-01'}\n")


def _case_excel_sheets(tmp):
    with pd.ExcelWriter(tmp / "o.xlsx") as xw:
        pd.read_csv(pd.io.common.StringIO(ORDERS)).to_excel(xw, sheet_name="2021", index=False)
        pd.read_csv(pd.io.common.StringIO(ORDERS)).to_excel(xw, sheet_name="2022", index=False)
    return f"client: t\ndata: {{transactions: {{source: o.xlsx, columns: {MAPPING}}}}}\n"


def _case_empty_file(tmp):
    (tmp / "o.csv").write_text("CustomerID,InvoiceDate,Amount\n")
    return f"client: t\ndata: {{transactions: {{source: o.csv, columns: {MAPPING}}}}}\n"


def _case_no_secret(tmp):
    (tmp / "o.csv").write_text(ORDERS)
    return f"client: t\ndata: {{transactions: {{source: o.csv, columns: {MAPPING}}}}}\n"


def _case_pii_not_a_column(tmp):
    (tmp / "c.csv").write_text("id,region\n1,North\n")
    return "client: t\ndata: {customers: {source: c.csv, columns: {customer_id: id}, pii: [email]}}\n"


def _case_bad_read_option(tmp):
    (tmp / "o.csv").write_text(ORDERS)
    return (f"client: t\ndata: {{transactions: {{source: o.csv, columns: {MAPPING}, "
            "read_options: {seperator: ';'}}}\n")


# case -> (builder, expected text in the one-line message)
BAD_INPUTS = {
    "unknown key": (_case_unknown_key, "unknown key 'analysis.horizon_dayz' (did you mean 'horizon_days'?)"),
    "missing data file": (_case_missing_file, "key 'data.transactions.source': file 'nowhere.csv' not found"),
    "non-UTF-8 CSV": (_case_not_utf8, "not UTF-8 text (byte"),
    "mapped column missing": (_case_missing_column, "column 'CustomerId' (mapped to customer_id in "
                                                    "data.transactions.columns) does not exist (did you mean 'CustomerID'?)"),
    "unparseable values": (_case_bad_values, "column 'Amount' (amount) has values that are not numbers "
                                             "(row 4: 'ten'; row 5: 'n/a'; row 7: '1O')"),
    "empty after cleaning": (_case_empty_after_cleaning, "no transactions are left after cleaning (missing_customer_id: 2)"),
    "dates outside window": (_case_dates_outside_window, "no transactions are left after cleaning (outside_window: 3)"),
    "excel with several sheets": (_case_excel_sheets, "has 2 sheets (2021, 2022) and none is named; set "
                                                      "data.transactions.read_options.sheet_name"),
    "empty file": (_case_empty_file, "the table is empty"),
    "no pseudonymization key": (_case_no_secret, "CXNB_SECRET is not set"),
    "pii column missing": (_case_pii_not_a_column, "key 'data.customers.pii' lists 'email', which is not a column"),
    "unknown read option": (_case_bad_read_option, "'data.transactions.read_options.seperator' is not a CSV reader "
                                                   "option (did you mean 'sep'?)"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_gives_one_line_and_exit_2(case, tmp_path, capsys, monkeypatch):
    build, expected = BAD_INPUTS[case]
    if case == "no pseudonymization key":
        monkeypatch.delenv("CXNB_SECRET")
    params = write_params(tmp_path, build(tmp_path))
    assert main(["validate", str(params)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith("cxnb: error: ")
    assert expected in err, err


def test_non_utf8_suggests_an_encoding(tmp_path, capsys):
    params = write_params(tmp_path, _case_not_utf8(tmp_path))
    main(["validate", str(params)])
    err = capsys.readouterr().err
    assert "read_options.encoding" in err and "cp1252" in err


def test_subprocess_exit_code_and_no_traceback(tmp_path):
    params = write_params(tmp_path, _case_unknown_key(tmp_path))
    out = subprocess.run([sys.executable, "-m", "cxnb.cli", "run", str(params)], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert not (ROOT / "reports" / "t").exists()


def test_help_explains_every_command():
    out = subprocess.run([sys.executable, "-m", "cxnb.cli", "--help"], capture_output=True, text=True, cwd=ROOT)
    for command in ("run", "validate", "demo-data"):
        assert command in out.stdout
    run_help = subprocess.run([sys.executable, "-m", "cxnb.cli", "run", "--help"], capture_output=True, text=True)
    for flag in ("--out", "--only", "--with-code", "--write-id-map", "--quiet"):
        assert flag in run_help.stdout


def test_help_documents_every_exit_code():
    import re

    out = subprocess.run([sys.executable, "-m", "cxnb.cli", "--help"], capture_output=True, text=True, cwd=ROOT)
    codes = re.findall(r"^ {2}(\d+) {2,}(\S.*)$", out.stdout, flags=re.MULTILINE)
    assert [c for c, _ in codes] == ["0", "1", "2", "130", "143"], out.stdout
    meaning = dict(codes)
    assert "notebook failed" in meaning["1"] and "SIGINT" in meaning["130"] and "SIGTERM" in meaning["143"]
    assert "bad input" in meaning["2"] and ".cxnb-report" in out.stdout


def test_validate_prints_a_summary(tmp_path, capsys):
    (tmp_path / "o.csv").write_text(ORDERS)
    params = write_params(tmp_path, f"client: t\ndata: {{transactions: {{source: o.csv, columns: {MAPPING}}}}}\n")
    assert main(["validate", str(params)]) == 0
    out = capsys.readouterr().out
    assert "3 rows read, 3 kept, 3 customers" in out
    assert "2021-01-05 to 2021-03-09" in out
    assert "customer_id <- CustomerID" in out


def test_id_map_only_when_asked_and_outside_the_report(tmp_path):
    (tmp_path / "o.csv").write_text(ORDERS)
    params = load_params(write_params(tmp_path, f"client: t\ndata: {{transactions: {{source: o.csv, columns: {MAPPING}}}}}\n"))
    with pytest.raises(CxnbError, match="outside the report folder"):
        prepare(params, tmp_path / "run", id_map_path=tmp_path / "run" / "ids.csv")
    prepare(params, tmp_path / "run2", id_map_path=tmp_path / "ids.csv")
    ids = pd.read_csv(tmp_path / "ids.csv")
    tx = pd.read_parquet(tmp_path / "run2" / "data" / "transactions.parquet")
    assert sorted(ids["customer_id"]) == ["A", "B", "C"]
    assert set(ids["pseudonym"]) == set(tx["customer_id"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=400))
def test_fuzz_csv_loader_raises_only_kit_errors(tmp_path, body):
    (tmp_path / "o.csv").write_bytes(b"CustomerID,InvoiceDate,Amount\n" + body)
    params = load_params(write_params(tmp_path, f"client: t\ndata: {{transactions: {{source: o.csv, columns: {MAPPING}}}}}\n"))
    with contextlib.suppress(CxnbError):
        prepare(params, tmp_path / "run")


_yaml_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 200), st.text(max_size=12))
_yaml_values = st.recursive(_yaml_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(
        ["client", "data", "transactions", "source", "columns", "analysis", "k", "privacy", "horizon_days",
         "customers", "label", "segmentation", "x"]), inner, max_size=4)), max_leaves=12)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=st.dictionaries(st.sampled_from(["client", "title", "data", "analysis", "privacy", "language", "zz"]),
                           _yaml_values, max_size=5))
def test_fuzz_parameter_loader_raises_only_config_errors(tmp_path, doc):
    import yaml

    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with contextlib.suppress(CxnbError):
        load_params(path)


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_jobs_must_be_a_whole_number_of_at_least_one(value, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "params/demo.yaml", "--jobs", value])
    assert exc.value.code == 2
    assert "argument --jobs" in capsys.readouterr().err
