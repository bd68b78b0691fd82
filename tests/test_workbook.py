"""The Excel workbook of all exports, and the byte-order mark of CSV exports."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from cxnb.config import load_params
from cxnb.context import Run
from cxnb.workbook import sheet_name, write_workbook
from tests.conftest import ROOT


def _run(tmp_path, language: str = "en", bom: bool | None = None) -> Run:
    params = load_params(ROOT / "params" / "demo.yaml")
    report = params.report.model_copy(update={"csv_bom": bom})
    return Run(params.model_copy(update={"language": language, "report": report}), tmp_path)


@pytest.mark.parametrize(("language", "bom", "expected"), [("en", None, False), ("zh", None, True),
                                                           ("en", True, True), ("zh", False, False)])
def test_csv_exports_start_with_a_bom_for_chinese_reports_or_when_asked(tmp_path, language, bom, expected):
    path = _run(tmp_path, language, bom).export(pd.DataFrame({"段": ["冠军客户"]}), "segments")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") is expected
    assert pd.read_csv(path, encoding="utf-8-sig").columns.tolist() == ["段"]


def test_workbook_has_one_sheet_per_export_with_numbers_as_numbers_and_text_never_a_formula(tmp_path):
    run = _run(tmp_path, "zh")
    run.export(pd.DataFrame({"customer_id": ["c1", "c2"], "score": [0.25, -1.5], "orders": [3, 4],
                             "code": ["00123", "00007"], "name": ["=HYPERLINK(\"http://x\")", "冠军客户"]}), "scores")
    run.export(pd.DataFrame({"item_id": ["a"], "rank": [1]}), "recommendations")
    wb = load_workbook(write_workbook(tmp_path / "exports"))
    assert wb.sheetnames == ["recommendations", "scores"]
    rows = list(wb["scores"].iter_rows(values_only=True))
    assert rows[0] == ("customer_id", "score", "orders", "code", "name")
    assert rows[1][1:4] == (0.25, 3, "00123")
    assert rows[2][1] == -1.5
    cell = wb["scores"]["E2"]
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"
    assert wb["scores"]["A1"].value == "customer_id"
    assert wb["scores"].freeze_panes == "A2"


def test_no_exports_no_workbook(tmp_path):
    (tmp_path / "exports").mkdir()
    assert write_workbook(tmp_path / "exports") is None


def test_sheet_names_are_unique_and_short():
    taken = {"a" * 31}
    assert sheet_name("a" * 40 + ".csv", taken) == "a" * 29 + "~2"
    assert sheet_name("x:y?.csv", set()) == "x_y_"


def test_a_long_export_keeps_its_first_rows_with_blanks_and_says_so_in_notes(tmp_path, monkeypatch):
    monkeypatch.setattr("cxnb.workbook.SHEET_ROWS", 3)
    run = _run(tmp_path)
    run.export(pd.DataFrame({"customer_id": list("abcde"), "clv": [5.5, None, 3.0, 2.0, 1.0]}), "customer_value")
    wb = load_workbook(write_workbook(tmp_path / "exports"))
    assert wb.sheetnames == ["customer_value", "notes"]
    rows = list(wb["customer_value"].iter_rows(values_only=True))
    assert rows == [("customer_id", "clv"), ("a", 5.5), ("b", None), ("c", 3)]
    assert list(wb["notes"].iter_rows(values_only=True))[1] == ("customer_value.csv",
                                                                 "first 3 of 5 rows; the CSV holds them all")
