"""All CSV exports of a run in one Excel workbook, one sheet each, for clients who open files in Excel."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

SHEET_ROWS = 100_000  # rows of an export a sheet keeps (the CSV keeps them all; Excel's own limit is 1,048,575):
# every cell is a Python call, and the ~15M cells of a 1M-line run took over a minute (benchmarks/results.md)
NUMBER_PROBE = 1_000  # non-empty cells of a column tried first: one that is not a number keeps it text
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
    workbook, where text cells are written as text, never as formulas."""
    if isinstance(value, str) and value.startswith("'") and value[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        return value[1:]
    return value


QUOTED = r"^'[=+\-@\t\r]"


def _unquoted_column(column: pd.Series) -> pd.Series:
    """:func:`_unquoted` on a whole text column at once."""
    if column.dtype != object and not pd.api.types.is_string_dtype(column.dtype):
        return column
    quoted = column.str.match(QUOTED, na=False)
    return column.where(~quoted, column.str[1:]) if quoted.any() else column


def _data_rows(csv: Path) -> int:
    """Rows of a CSV export below its header (exports never hold line breaks inside a cell)."""
    with csv.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b"")) - 1


def _write_sheet(book, name: str, df: pd.DataFrame) -> None:
    """One export as a sheet, written row by row (constant memory): bold frozen header, numbers as numbers,
    every other cell as text (each column's writer chosen once, not per cell); empty cells left blank."""
    ws = book.add_worksheet(name)
    ws.freeze_panes(1, 0)
    ws.write_row(0, 0, [str(c) for c in df.columns], book.add_format({"bold": True}))
    writers = [ws.write_number if pd.api.types.is_numeric_dtype(df[c]) else ws.write_string for c in df.columns]
    columns = [df[c].astype(object).where(df[c].notna(), None).tolist() for c in df.columns]
    for r, row in enumerate(zip(*columns, strict=True), start=1):
        for c, value in enumerate(row):
            if value is not None:
                writers[c](r, c, value)


def write_workbook(exports_dir: Path) -> Path | None:
    """Write ``exports/exports.xlsx`` with one sheet per CSV export (header frozen; text never turned into a
    formula, link or number; an export longer than ``SHEET_ROWS`` keeps its first rows and says so in a ``notes``
    sheet); returns its path, or None without exports."""
    import xlsxwriter

    exports_dir = Path(exports_dir)
    csvs = sorted(exports_dir.glob("*.csv"))
    if not csvs:
        return None
    path = exports_dir / WORKBOOK_NAME
    options = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
               "strings_to_numbers": False}
    taken: set[str] = set()
    notes = []
    with xlsxwriter.Workbook(str(path), options) as book:
        for csv in csvs:
            df = pd.read_csv(csv, encoding="utf-8-sig", dtype=str, keep_default_na=False, nrows=SHEET_ROWS + 1)
            if len(df) > SHEET_ROWS:
                notes.append([csv.name, f"first {SHEET_ROWS:,} of {_data_rows(csv):,} rows; the CSV holds them all"])
                df = df.iloc[:SHEET_ROWS]
            df = df.apply(_typed).rename(columns=_unquoted).apply(_unquoted_column)
            name = sheet_name(csv.name, taken)
            taken.add(name)
            _write_sheet(book, name, df)
        if notes:
            _write_sheet(book, sheet_name("notes", taken), pd.DataFrame(notes, columns=["file", "note"]))
    return path


def _typed(column: pd.Series) -> pd.Series:
    """A CSV column read as text, turned back into numbers when every non-empty cell is a number."""
    filled = column[column != ""]
    if pd.to_numeric(filled.head(NUMBER_PROBE), errors="coerce").isna().any():
        return column.replace("", None)
    numbers = pd.to_numeric(filled, errors="coerce")
    leading_zero = filled.str.match(r"^-?0\d").any()  # codes such as 00123 stay text
    if len(filled) and numbers.notna().all() and not leading_zero:
        out = numbers.reindex(column.index)
        integral = (out.dropna() % 1 == 0).all() and not filled.str.contains(r"[.eE]").any()
        return out.astype("Int64") if integral else out
    return column.replace("", None)
