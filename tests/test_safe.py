"""Exports are safe to open in a spreadsheet: formula-like text is neutralized, numbers stay numbers."""

from __future__ import annotations

import math

import pandas as pd

from cxnb.safe import csv_cell, csv_safe


def test_formula_like_text_gets_a_quote_and_numbers_stay():
    for hostile in ("=1+1", "+SUM(A1)", "-2+3*cmd|' /C calc'!A0", "@A1", "\tx", "\rx"):
        assert csv_cell(hostile) == "'" + hostile
    for plain in ("Organic Grocery 29", "-5", "+1.5", "because you bought =1+1", 3, -2.5):
        assert csv_cell(plain) == plain


def test_csv_safe_neutralizes_cells_and_headers_without_touching_numbers(tmp_path):
    df = pd.DataFrame({"item_name": ["=1+1", "ok", None], "=cat": ["a", "@b", "c"], "score": [-1.5, 2.0, math.nan]})
    out = csv_safe(df)
    assert out["item_name"].tolist()[:2] == ["'=1+1", "ok"] and list(out.columns) == ["item_name", "'=cat", "score"]
    out.to_csv(tmp_path / "x.csv", index=False)
    back = pd.read_csv(tmp_path / "x.csv")
    assert back["score"].dtype.kind == "f" and back["score"].iloc[0] == -1.5 and math.isnan(back["score"].iloc[2])
    assert df["item_name"].iloc[0] == "=1+1"  # the input frame is not changed
