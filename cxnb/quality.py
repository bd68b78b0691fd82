"""Data quality: what was loaded, what each cleaning rule removed and why, coverage over time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from cxnb.constants import COL_AMOUNT, COL_CUSTOMER, COL_ITEM, COL_ORDER, COL_TIMESTAMP
from cxnb.i18n import catalogue, t
from cxnb.privacy import suppress_small_groups

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

DAY = pd.Timedelta(days=1)
LOW_ID_OVERLAP = 0.5  # below this share of purchasing customers found in the customer table, validate warns


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


def activity_over_time(transactions: pd.DataFrame, freq: str = "MS") -> pd.DataFrame:
    """Lines, orders, active customers and revenue per period (month by default); ``partial`` marks a last
    period the data does not cover to its end (it must not be read as a drop)."""
    tx = transactions
    grouper = pd.Grouper(key=COL_TIMESTAMP, freq=freq)
    agg = {"lines": (COL_CUSTOMER, "size"), "customers": (COL_CUSTOMER, "nunique")}
    if COL_ORDER in tx.columns:
        agg["orders"] = (COL_ORDER, "nunique")
    if COL_AMOUNT in tx.columns:
        agg["revenue"] = (COL_AMOUNT, "sum")
    out = tx.groupby(grouper).agg(**agg).reset_index().rename(columns={COL_TIMESTAMP: "period"})
    last = tx[COL_TIMESTAMP].max()
    out["partial"] = False
    if len(out) and last.normalize() < out["period"].iloc[-1] + pd.tseries.frequencies.to_offset(freq) - DAY:
        out.loc[out.index[-1], "partial"] = True
    return out


def top_customers(transactions: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The customers with the most lines (ids are pseudonyms), with their orders and spend."""
    g = transactions.groupby(COL_CUSTOMER)
    out = pd.DataFrame({"lines": g.size()})
    if COL_ORDER in transactions.columns:
        out["orders"] = g[COL_ORDER].nunique()
    if COL_AMOUNT in transactions.columns:
        out["spend"] = g[COL_AMOUNT].sum().round(2)
    return out.sort_values("lines", ascending=False, kind="mergesort").head(n).reset_index()


def top_items(transactions: pd.DataFrame, items: pd.DataFrame | None, n: int = 10) -> pd.DataFrame:
    """The items bought by the most customers, with name and category where known."""
    if COL_ITEM not in transactions.columns:
        return pd.DataFrame()
    g = transactions.groupby(COL_ITEM)
    out = pd.DataFrame({"customers": g[COL_CUSTOMER].nunique(), "lines": g.size()})
    out = out.sort_values(["customers", "lines"], ascending=False, kind="mergesort").head(n).reset_index()
    if items is not None:
        keep = [c for c in ("item_id", "name", "category") if c in items.columns]
        out = out.merge(items[keep], on=COL_ITEM, how="left")
    return out


def category_breakdown(transactions: pd.DataFrame, items: pd.DataFrame | None, min_group_size: int) -> pd.DataFrame:
    """Customers, lines and revenue per item category; categories with too few customers merged into 'other'."""
    if items is None or "category" not in items.columns or COL_ITEM not in transactions.columns:
        return pd.DataFrame()
    tx = transactions.merge(items[[COL_ITEM, "category"]], on=COL_ITEM, how="left")
    tx["category"] = tx["category"].fillna("unknown")
    g = tx.groupby("category")
    out = pd.DataFrame({"customers": g[COL_CUSTOMER].nunique(), "lines": g.size()})
    if COL_AMOUNT in tx.columns:
        out["revenue"] = g[COL_AMOUNT].sum().round(2)
    out = out.sort_values("lines", ascending=False, kind="mergesort").reset_index()
    return suppress_small_groups(out, "category", "customers", min_group_size)


def top_tables(transactions: pd.DataFrame, items: pd.DataFrame | None, min_group_size: int,
               language: str = "en") -> list[pd.DataFrame]:
    """Most active customers, most popular items and the category breakdown with headers in the report language;
    none when the whole client has fewer customers than ``min_group_size`` (any row could identify someone)."""
    if transactions[COL_CUSTOMER].nunique() < min_group_size:
        return []
    frames = [top_customers(transactions), top_items(transactions, items),
              category_breakdown(transactions, items, min_group_size)]
    return [with_labels(df, language) for df in frames]


def plot_activity(activity: pd.DataFrame, language: str = "en") -> plt.Figure:
    """Monthly orders (or lines) and active customers, one panel each."""
    import matplotlib.pyplot as plt

    volume = "orders" if "orders" in activity.columns else "lines"
    what = t(f"dq.{volume}", language)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    full = activity[~activity["partial"]] if "partial" in activity else activity
    partial = activity[activity["partial"]] if "partial" in activity else activity.iloc[:0]
    for ax, column, colour in ((axes[0], volume, "C0"), (axes[1], "customers", "C1")):
        ax.plot(full["period"], full[column], marker="o", color=colour)
        if not partial.empty:  # the last, incomplete period: hollow and dashed, labelled
            ax.plot(activity["period"].iloc[-2:], activity[column].iloc[-2:], linestyle=":", color=colour)
            ax.plot(partial["period"], partial[column], marker="o", mfc="white", color=colour, linestyle="none",
                    label=t("dq.partial_period", language))
            ax.legend(loc="lower left", frameon=False)
    axes[0].set(title=t("dq.chart_volume", language, what=what), xlabel=t("dq.axis_month", language), ylabel=what)
    axes[1].set(title=t("dq.chart_customers", language), xlabel=t("dq.axis_month", language),
                ylabel=t("dq.axis_customers", language))
    for ax in axes:
        ax.tick_params(axis="x", rotation=45)
        ax.set_ylim(bottom=0)
    fig.tight_layout()
    return fig


def id_overlap_warning(quality: dict, language: str = "en") -> str | None:
    """A sentence when fewer than LOW_ID_OVERLAP of the purchasing customers are in the customer table (the two
    tables then probably use different ids), else None."""
    overlap = quality.get("id_overlap")
    if not overlap or overlap["share_found"] is None or overlap["share_found"] >= LOW_ID_OVERLAP:
        return None
    return t("dq.id_overlap_low", language, share=f"{overlap['share_found']:.0%}",
             found=f"{overlap['found_in_customers']:,}", buyers=f"{overlap['purchasing_customers']:,}",
             without=f"{overlap['customer_rows_without_purchases']:,}")


def data_warnings(quality: dict, language: str = "en", keys: bool = False) -> list[str]:
    """What validate and the data-quality report must say before any figure: customer and purchase tables that
    share few ids, and parameters narrowed or left without figures by the size of the data (``keys``: with the
    parameter keys behind them, for the analyst)."""
    from cxnb.guards import parameter_note_text

    out = []
    unpadded = quality.get("ids_unpadded")
    if unpadded:
        out.append(t("dq.ids_unpadded", language, ids=f"{unpadded['transaction_ids']:,}",
                     before=f"{unpadded['matched_before']:,}", after=f"{unpadded['matched_after']:,}"))
    events = quality["tables"].get("transactions", {}).get("events_implausible_timestamp")
    if events:
        earliest, latest = quality["tables"]["transactions"]["plausible_range"]
        out.append(t("dq.events_implausible", language, n=f"{events:,}", earliest=earliest, latest=latest))
    overlap = id_overlap_warning(quality, language)
    return out + ([overlap] if overlap else []) + [parameter_note_text(n, language, keys)
                                                   for n in quality.get("parameter_notes", [])]


def purchase_lines_read(info: dict) -> int:
    """Transaction lines the cleaning rules judged: all lines read, or the purchase lines of an event log (views,
    carts and favourites are kept for the journey, not removed)."""
    events = info.get("event_types")
    if not events:
        return info["rows_read"]
    return int(events.get("purchase", 0)) + int(info.get("filter", {}).get("removed", 0))


def quality_metrics(quality: dict) -> dict:
    """Headline figures of the data-quality stage for metrics.json; of a client with fewer customers than
    privacy.min_group_size only that number (any other figure would describe those few people)."""
    few = [n["values"] for n in quality.get("parameter_notes", []) if n["note"] == "too_few_customers"]
    if few:
        return {"customers": few[0]["customers"], "figures_withheld": f"fewer customers than privacy.min_group_size "
                                                                      f"({few[0]['minimum']})"}
    out: dict = {}
    tx = quality["tables"].get("transactions")
    if tx:
        s = tx["summary"]
        if tx.get("event_types"):
            out["event_lines"] = tx["rows_read"] - purchase_lines_read(tx)
        out.update({"rows_read": purchase_lines_read(tx), "rows_kept": tx["rows_kept"],
                    "rows_removed": sum(r["removed"] for r in tx.get("cleaning", [])), "customers": s["customers"],
                    "first_date": s["first"][:10], "last_date": s["last"][:10],
                    "removed_by_rule": {r["rule"]: r["removed"] for r in tx["cleaning"]}})
        for key in ("orders", "items", "revenue"):
            if key in s:
                out[key] = s[key]
    cu = quality["tables"].get("customers")
    if cu:
        out["customer_table_rows"] = cu["rows_kept"]
        out.setdefault("customers", cu["summary"]["customers"])
        out["pii_columns_dropped"] = [d["column"] for d in cu.get("pii_dropped", [])]
    return out
