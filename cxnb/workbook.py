"""All CSV exports of a run in one Excel workbook, one sheet each, for clients who open files in Excel."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

EXCEL_MAX_ROWS = 1_048_575  # a sheet holds 1,048,576 rows, one of them the header
SHEET_NAME_LENGTH = 31
WORKBOOK_NAME = "exports.xlsx"


def sheet_name(csv_name: str, taken: set[str]) -> str:
    """A unique Excel sheet name (at most 31 characters, none of ``[]:*?/\\``) for an export file name."""
    base = "".join("_" if ch in "[]:*?/\\" else ch for ch in Path(csv_name).stem)[:SHEET_NAME_LENGTH] or "export"
    name, n = base, 2
    while name.lower() in {t.lower() for t in taken}:
        suffix = f"~{n}"
        name, n = base[: SHEET_NAME_LENGTH - len(suffix)] + suffix, n + 1
    return name


def _unquoted(value):
    """The text as the client wrote it: the CSV's leading quote against formula injection is not needed in a
    workbook, where every text cell is stored as text, never as a formula."""
    if isinstance(value, str) and value.startswith("'") and value[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        return value[1:]
    return value


def _write_sheet(ws, df: pd.DataFrame) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    bold = Font(bold=True)
    header = []
    for col in df.columns:
        cell = WriteOnlyCell(ws, value=str(_unquoted(col)))
        cell.font, cell.data_type = bold, "s"
        header.append(cell)
    ws.append(header)
    for row in df.itertuples(index=False, name=None):
        cells = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(ws, value=_unquoted(value))
                cell.data_type = "s"  # text stays text: never evaluated as a formula
                cells.append(cell)
            else:
                cells.append(None if pd.isna(value) else value)
        ws.append(cells)


def write_workbook(exports_dir: Path) -> Path | None:
    """Write ``exports/exports.xlsx`` with one sheet per CSV export (header bold and frozen; an export longer
    than a sheet keeps its first rows and says so in a ``notes`` sheet); returns its path, or None without
    exports."""
    from openpyxl import Workbook

    exports_dir = Path(exports_dir)
    csvs = sorted(exports_dir.glob("*.csv"))
    if not csvs:
        return None
    wb = Workbook(write_only=True)
    taken: set[str] = set()
    notes = []
    for csv in csvs:
        df = pd.read_csv(csv, encoding="utf-8-sig", dtype=str, keep_default_na=False).apply(_typed)
        if len(df) > EXCEL_MAX_ROWS:
            notes.append((csv.name, f"first {EXCEL_MAX_ROWS:,} of {len(df):,} rows; the CSV holds them all"))
            df = df.iloc[:EXCEL_MAX_ROWS]
        name = sheet_name(csv.name, taken)
        taken.add(name)
        ws = wb.create_sheet(name)
        ws.freeze_panes = "A2"
        _write_sheet(ws, df)
    if notes:
        ws = wb.create_sheet(sheet_name("notes", taken))
        ws.append(["file", "note"])
        for row in notes:
            ws.append(list(row))
    path = exports_dir / WORKBOOK_NAME
    wb.save(path)
    return path


def _typed(column: pd.Series) -> pd.Series:
    """A CSV column read as text, turned back into numbers when every non-empty cell is a number."""
    filled = column[column != ""]
    numbers = pd.to_numeric(filled, errors="coerce")
    leading_zero = filled.str.match(r"^-?0\d").any()  # codes such as 00123 stay text
    if len(filled) and numbers.notna().all() and not leading_zero:
        out = pd.to_numeric(column.replace("", None), errors="coerce")
        return out.astype("Int64") if (out.dropna() % 1 == 0).all() and not filled.str.contains(r"[.eE]").any() else out
    return column.replace("", None)
