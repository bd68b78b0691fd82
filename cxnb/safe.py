"""Export safety: a value from client data never runs as a formula when an exported CSV is opened in a
spreadsheet (OWASP "CSV injection"): text cells and headers starting with = + - @ tab or CR get a leading quote."""

from __future__ import annotations

import re

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value):
    """A text cell that a spreadsheet would read as a formula gets a leading ``'``; numbers (and text that is
    just a number, such as ``-5``) are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _is_text(column: pd.Series) -> bool:
    dtype = column.dtype
    return (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype))


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` for CSV export: :func:`csv_cell` on every text cell and header; numeric, boolean and
    date columns untouched."""
    out = df.copy()
    for col in [c for c in df.columns if _is_text(df[c])]:
        out[col] = df[col].astype(object).map(csv_cell, na_action="ignore")
    out.columns = [csv_cell(c) for c in df.columns]
    return out
