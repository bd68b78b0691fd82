"""The data-quality report's tables, headers and names in the report language (the data keeps its keys)."""

from __future__ import annotations

import pandas as pd

from cxnb.i18n import catalogue, t
from cxnb.quality.activity import purchase_lines_read


def table_label(table: str, language: str = "en") -> str:
    """A table of the parameter file (transactions, customers, ...) by its name in the report language."""
    return catalogue(language).get(f"dq.table.{table}", table)


def field_label(column: str, language: str = "en") -> str:
    """A canonical column by its name in the report language; a client's own column keeps its name."""
    return catalogue(language).get(f"dq.field.{column}", column)


def with_labels(df: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """A table of this stage with its column headers in the report language (the data keeps its keys)."""
    known = catalogue(language)
    return df.rename(columns={c: known.get(f"dq.col_{c}", c) for c in df.columns})


def loaded_tables(quality: dict, language: str = "en") -> pd.DataFrame:
    """One row per table: source, rows read, rows kept, columns mapped."""
    rows = []
    for table, info in quality["tables"].items():
        rows.append({t("dq.col_table", language): table_label(table, language),
                     t("dq.col_source", language): info["source"],
                     t("dq.col_rows_read", language): info["rows_read"],
                     t("dq.col_rows_kept", language): info["rows_kept"],
                     t("dq.col_columns", language): ", ".join(f"{field_label(k, language)} ← {v}"
                                                              for k, v in info["columns"].items())})
    return pd.DataFrame(rows)


def cleaning_steps(quality: dict, language: str = "en") -> pd.DataFrame:
    """What each cleaning rule removed from the transactions, in the order the rules ran."""
    names = {k: t(f"dq.col_{k}", language) for k in ("rule", "removed", "share_lines", "why")}
    info = quality["tables"].get("transactions")
    if not info:
        return pd.DataFrame(columns=list(names.values()))
    df = pd.DataFrame(info["cleaning"])
    df["share_lines"] = df["removed"] / purchase_lines_read(info)
    earliest, latest = info.get("plausible_range", ("", ""))
    df["why"] = [t(f"dq.rule_why.{r}", language, earliest=earliest, latest=latest) for r in df["rule"]]
    df["rule"] = [t(f"dq.rule_name.{r}", language) for r in df["rule"]]
    return df[list(names)].rename(columns=names)


def dropped_pii(quality: dict, language: str = "en") -> pd.DataFrame:
    """Columns dropped at load time as personal data, with the reason."""
    info = quality["tables"].get("customers", {})
    rows = [{"column": d["column"], "reason": pii_reason(d, language)} for d in info.get("pii_dropped", [])]
    df = pd.DataFrame(rows, columns=["column", "reason"])
    return df.rename(columns={"column": t("dq.col_column", language), "reason": t("dq.col_reason", language)})


def pii_reason(dropped: dict, language: str = "en") -> str:
    """Why a column was dropped as personal data, in the report language (quality.json keeps the English)."""
    if "kind" not in dropped:
        return dropped["reason"]
    share = dropped.get("share", 0.0)
    return t(f"dq.pii_reason.{dropped['kind']}", language, share=share, n=dropped.get("n", 0))


def missing_values(quality: dict, language: str = "en") -> pd.DataFrame:
    """Missing values per prepared column (after cleaning)."""
    rows = []
    for table, info in quality["tables"].items():
        n = max(info["rows_kept"], 1)
        for col, miss in info.get("missing_values", {}).items():
            rows.append({t("dq.col_table", language): table_label(table, language),
                         t("dq.col_column", language): field_label(col, language),
                         t("dq.col_missing", language): miss, t("dq.col_share_missing", language): miss / n})
    return pd.DataFrame(rows)


def top_tables(tops: list[pd.DataFrame], language: str = "en") -> list[pd.DataFrame]:
    """The most active customers, most popular items and category breakdown (``QualityResult.tops``) with headers
    in the report language."""
    return [with_labels(df, language) for df in tops]
