"""Client data is hostile until escaped. Exports: a value never runs as a formula when a CSV is opened in a
spreadsheet (OWASP "CSV injection"): text cells and headers starting with = + - @ tab or CR get a leading quote.
Reports: Markdown shown in a notebook (and so in its HTML) can hold no tag, link or image from the data."""

from __future__ import annotations

import re

import pandas as pd

# Markdown characters that could build a tag, an entity, a link or an image, or start mathematics ($...$).
_MARKDOWN_ESCAPES = {"&": "&amp;", "<": "&lt;", "[": "&#91;", "]": "&#93;", "$": "&#36;"}
_MARKDOWN_SPECIAL = re.compile(r"[&<\[\]$]|\\\$")

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


def markdown_text(text: str) -> str:
    """``text`` with every character that could start a tag, entity, link, image or formula written as an entity:
    the catalogue's messages use no inline HTML or links, so nothing legitimate is lost."""
    return _MARKDOWN_SPECIAL.sub(lambda m: "&#36;" if m.group() == "\\$" else _MARKDOWN_ESCAPES[m.group()], str(text))


def markdown(text: str):
    """``text`` as a notebook Markdown output that no value from the data can turn into HTML or a link."""
    from IPython.display import Markdown

    return Markdown(markdown_text(text))
