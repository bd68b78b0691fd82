"""Customer needs analysis: one profile row per customer, RFM scores and named RFM segments.

"Recency" here is RFM recency, the time since the last order, and is named ``days_since_last_order``
so it cannot be confused with the BTYD meaning (first to last purchase).
"""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pandas as pd

from cxnb import engine
from cxnb.constants import COL_AMOUNT, COL_CATEGORY, COL_CUSTOMER, COL_ITEM
from cxnb.i18n import t
from cxnb.privacy import OTHER

MAX_CATEGORY_SHARES = 10

# RFM segment names from (R score, F score) on quintiles; every one of the 25 cells is covered once.
RFM_SEGMENT_RULES: list[tuple[str, str, str]] = [
    ("Champions", "5[4-5]", "bought recently, buy often"),
    ("Loyal", "[3-4][4-5]", "buy often, fairly recently"),
    ("Potential loyalists", "[4-5][2-3]", "recent, with a few orders"),
    ("New customers", "51", "first order very recently"),
    ("Promising", "41", "recent, one order so far"),
    ("Need attention", "33", "average recency and frequency"),
    ("About to sleep", "3[1-2]", "average recency, few orders"),
    ("Can't lose them", "[1-2]5", "used to buy very often, not lately"),
    ("At risk", "[1-2][3-4]", "used to buy often, not lately"),
    ("Hibernating", "[1-2][1-2]", "few orders, long ago"),
]


def customer_profiles(transactions, items=None, as_of=None, con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """One row per customer from cleaned canonical transactions, up to ``as_of``.

    ``transactions`` is a DataFrame, a Parquet path (both aggregated by DuckDB, on ``con`` when given) or a
    :class:`cxnb.engine.Engine` (a SQL server or Spark). Only lines strictly before ``as_of`` are used;
    ``as_of`` defaults to the day after the last line. The aggregation runs where the data is, so only the
    customer-level table comes back into pandas.
    """
    eng = transactions if isinstance(transactions, engine.Engine) else engine.from_duckdb(transactions, con)
    if as_of is None:
        as_of = engine.last_timestamp(eng).normalize() + pd.Timedelta(days=1)
    as_of = pd.Timestamp(as_of)
    base = eng.frame(engine.customer_aggregates(eng.table, as_of), keys=[COL_CUSTOMER])
    day = pd.Timedelta(days=1)
    base["days_since_last_order"] = (as_of - base["last_order"]) / day
    base["tenure_days"] = (as_of - base["first_order"]) / day
    base["avg_order_value"] = base["monetary"] / base["frequency"]
    span = (base["last_order"] - base["first_order"]) / day
    base["mean_interpurchase_days"] = (span / (base["frequency"] - 1)).where(base["frequency"] > 1)
    if items is not None and COL_ITEM in eng.table.columns:
        shares = _category_shares(eng, items, as_of)
        base = base.merge(shares, on=COL_CUSTOMER, how="left")
    return base


def _category_shares(eng: engine.Engine, items, as_of: pd.Timestamp) -> pd.DataFrame:
    """Favourite category and the share of spend (or of lines, without prices) per top category."""
    it = eng.attach(items)
    if COL_CATEGORY not in it.columns:
        return pd.DataFrame(columns=[COL_CUSTOMER])
    by_spend = COL_AMOUNT in eng.table.columns
    long = eng.frame(engine.category_weights(eng.table, it, as_of, by_spend), keys=[COL_CUSTOMER, COL_CATEGORY])
    totals = long.groupby(COL_CATEGORY)["w"].sum().sort_values(ascending=False, kind="mergesort")
    top = list(totals.index[:MAX_CATEGORY_SHARES])
    long[COL_CATEGORY] = long[COL_CATEGORY].where(long[COL_CATEGORY].isin(top), "other")
    wide = long.pivot_table(index=COL_CUSTOMER, columns=COL_CATEGORY, values="w", aggfunc="sum", fill_value=0.0)
    order = [c for c in top if c in wide.columns] + (["other"] if "other" in wide.columns else [])
    wide = wide[order]
    fav = wide.idxmax(axis=1)
    share = wide.div(wide.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
    share.columns = [f"share_{c}" for c in share.columns]
    out = share.reset_index()
    out.insert(1, "favourite_category", fav.to_numpy())
    return out


LABELLED_FEATURES = ("days_since_last_order", "frequency", "monetary", "tenure_days", "avg_order_value",
                     "mean_interpurchase_days", "n_items", "units", "n_lines")


def feature_label(column: str, language: str = "en") -> str:
    """A profile column as every report names it: its catalogue label, 'share of spend on X', or the column."""
    if column in LABELLED_FEATURES:
        return t(f"feature.{column}", language)
    if column.startswith("share_"):
        return t("feature.share", language, category=column.removeprefix("share_"))
    return column.replace("_", " ")


def share_columns(profiles: pd.DataFrame) -> list[str]:
    """The category-share columns of a profile table."""
    return [c for c in profiles.columns if c.startswith("share_")]


RFM_LEVELS = 5
MAX_TIE_GROUPS = 400  # distinct values are coalesced into at most this many runs before the level search


def _level_bounds(sizes: np.ndarray, levels: int) -> np.ndarray:
    """End positions of ``levels`` contiguous, non-empty bins of the tie groups (sizes in value order) whose
    customer counts are as close to equal as possible (least squares, by dynamic programming)."""
    g, target = len(sizes), sizes.sum() / levels
    cum = np.concatenate([[0], np.cumsum(sizes)])
    cost = np.full((levels + 1, g + 1), np.inf)
    back = np.zeros((levels + 1, g + 1), dtype=int)
    cost[0, 0] = 0.0
    for j in range(1, levels + 1):
        for i in range(j, g - (levels - j) + 1):
            starts = np.arange(j - 1, i)
            total = cost[j - 1, starts] + (cum[i] - cum[starts] - target) ** 2
            best = int(np.argmin(total))
            cost[j, i], back[j, i] = total[best], starts[best]
    ends, i = [], g
    for j in range(levels, 0, -1):
        ends.append(i)
        i = back[j, i]
    return np.array(ends[::-1])


def _quintile_score(values: pd.Series, reverse: bool = False) -> pd.Series:
    """Scores 1..5 (5 = highest value, or lowest when ``reverse``): tied customers share a score and every score
    level holds customers, the five groups as close to fifths as the ties allow. With fewer than five distinct
    values the levels used are spread over 1..5 (three values score 1, 3, 5)."""
    ordered = -values if reverse else values
    distinct, inverse, sizes = np.unique(ordered.to_numpy(dtype="float64"), return_inverse=True, return_counts=True)
    if len(distinct) < RFM_LEVELS:
        spread = np.rint(1 + (RFM_LEVELS - 1) * np.arange(len(distinct)) / max(len(distinct) - 1, 1))
        return pd.Series(spread[inverse].astype("int64"), index=values.index)
    runs = np.minimum(np.cumsum(sizes) * MAX_TIE_GROUPS // (sizes.sum() + 1), MAX_TIE_GROUPS - 1)
    if len(distinct) > MAX_TIE_GROUPS:  # coalesce neighbouring values into runs (a tie group never splits)
        run_of_group = np.unique(runs, return_inverse=True)[1]
    else:
        run_of_group = np.arange(len(distinct))
    run_sizes = np.bincount(run_of_group, weights=sizes).astype("int64")
    ends = _level_bounds(run_sizes, RFM_LEVELS)
    level_of_run = np.searchsorted(ends, np.arange(len(run_sizes)), side="right") + 1
    return pd.Series(level_of_run[run_of_group[inverse]].astype("int64"), index=values.index)


def levels_used(rfm: pd.DataFrame) -> dict[str, int]:
    """How many of the five score levels R, F and M use (fewer when a score has fewer distinct values)."""
    return {c[0].upper(): int(rfm[c].nunique()) for c in ("r_score", "f_score", "m_score") if rfm[c].notna().any()}


def levels_note(rfm: pd.DataFrame, language: str = "en") -> str:
    """A sentence per score that uses fewer than five levels (too few distinct values), or an empty string."""
    notes = [t("ra.levels_few", language, score=score, levels=n,
               scores=", ".join(str(v) for v in sorted(rfm[f"{score.lower()}_score"].dropna().unique())))
             for score, n in levels_used(rfm).items() if n < RFM_LEVELS]
    return " ".join(notes)


def rfm_scores(profiles: pd.DataFrame) -> pd.DataFrame:
    """R, F, M scores (quintiles, 5 best; R from days since last order, reversed) and the RFM segment."""
    out = pd.DataFrame({COL_CUSTOMER: profiles[COL_CUSTOMER]})
    out["r_score"] = _quintile_score(profiles["days_since_last_order"], reverse=True)
    out["f_score"] = _quintile_score(profiles["frequency"])
    has_money = profiles["monetary"].notna().any()
    out["m_score"] = _quintile_score(profiles["monetary"]) if has_money else pd.NA
    out["rfm_code"] = out["r_score"].astype(str) + out["f_score"].astype(str) + (
        out["m_score"].astype(str) if has_money else ""
    )
    out["rfm_segment"] = [rfm_segment_name(r, f) for r, f in zip(out["r_score"], out["f_score"], strict=True)]
    return out


def rfm_segment_name(r: int, f: int) -> str:
    """Name of the RFM segment for an R and an F score (see ``RFM_SEGMENT_RULES``)."""
    code = f"{int(r)}{int(f)}"
    for name, pattern, _ in RFM_SEGMENT_RULES:
        if re.fullmatch(pattern, code):
            return name
    raise ValueError(f"no RFM segment for R={r}, F={f}")


def rfm_key(name: str) -> str:
    """Message-catalogue key of an RFM segment name ("Can't lose them" -> "cant_lose_them")."""
    return re.sub(r"[^a-z]+", "_", name.lower().replace("'", "")).strip("_")


def rfm_label(name: str, language: str = "en") -> str:
    """The RFM segment name as shown in a report of ``language``."""
    return t(f"rfm.{rfm_key(name)}", language)


def rfm_rules_table(language: str = "en") -> pd.DataFrame:
    """The RFM naming rules as a table for the report."""
    rows = []
    for name, pattern, _ in RFM_SEGMENT_RULES:
        r, f = re.findall(r"\[[0-9-]+\]|[0-9]", pattern)
        rows.append({t("ra.col_segment", language): rfm_label(name, language),
                     t("ra.col_r", language): r.strip("[]").replace("-", "–"),
                     t("ra.col_f", language): f.strip("[]").replace("-", "–"),
                     t("ra.col_meaning", language): t(f"rfm.meaning.{rfm_key(name)}", language)})
    return pd.DataFrame(rows)


def reported_rfm_segments(rfm: pd.DataFrame, min_group_size: int = 1) -> pd.Series:
    """Each customer's RFM segment as reported: segments with fewer than ``min_group_size`` customers are 'other'."""
    sizes = rfm["rfm_segment"].value_counts()
    small = sizes.index[sizes < min_group_size]
    return rfm["rfm_segment"].where(~rfm["rfm_segment"].isin(small), OTHER)


def small_rfm_segments(rfm: pd.DataFrame, min_group_size: int) -> list[str]:
    """RFM segments with fewer than ``min_group_size`` customers, in rule order."""
    sizes = rfm["rfm_segment"].value_counts()
    return [name for name, _, _ in RFM_SEGMENT_RULES if 0 < sizes.get(name, 0) < min_group_size]


def rfm_suppression_note(rfm: pd.DataFrame, min_group_size: int, language: str = "en") -> str:
    """A sentence on which RFM segments are too small to be shown on their own (and whether 'other' is shown)."""
    small = small_rfm_segments(rfm, min_group_size)
    if not small:
        return t("ra.all_shown", language, n=min_group_size)
    merged = int(rfm["rfm_segment"].isin(small).sum())
    key = "ra.small_merged" if merged >= min_group_size else "ra.small_dropped"
    return t(key, language, segments=t("ra.list_sep", language).join(rfm_label(n, language) for n in small),
             n=min_group_size, other=t("common.other", language))


def rfm_segment_summary(profiles: pd.DataFrame, rfm: pd.DataFrame, min_group_size: int = 1) -> pd.DataFrame:
    """Size, share of customers, share of revenue and mean R/F/M per reported RFM segment: segments under
    ``min_group_size`` are merged into 'other', which is left out when it is still too small."""
    df = profiles.merge(rfm[[COL_CUSTOMER, "rfm_segment"]], on=COL_CUSTOMER)
    df["rfm_segment"] = reported_rfm_segments(df, min_group_size)
    total_rev = df["monetary"].sum()
    g = df.groupby("rfm_segment")
    out = pd.DataFrame({
        "customers": g.size(),
        "days_since_last_order": g["days_since_last_order"].mean(),
        "frequency": g["frequency"].mean(),
        "monetary": g["monetary"].mean(),
    })
    out["share_customers"] = out["customers"] / len(df)
    out["share_revenue"] = g["monetary"].sum() / total_rev if total_rev else np.nan
    order = [name for name, _, _ in RFM_SEGMENT_RULES if name in out.index]
    if OTHER in out.index and out.at[OTHER, "customers"] >= min_group_size:
        order.append(OTHER)
    return out.loc[order].rename_axis("rfm_segment").reset_index()


def rfm_summary_table(summary: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """The (already suppressed) RFM segment summary for display: translated names and headers."""
    shown = summary.copy()
    shown["rfm_segment"] = [rfm_label(n, language) for n in shown["rfm_segment"]]
    names = {"rfm_segment": "ra.col_segment", "customers": "ra.col_customers",
             "days_since_last_order": "feature.days_since_last_order", "frequency": "feature.frequency",
             "monetary": "feature.monetary", "share_customers": "ra.col_share_customers",
             "share_revenue": "ra.col_share_revenue"}
    return shown.rename(columns={c: t(k, language) for c, k in names.items()})


def profile_overview(profiles: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """Median, mean and 10th/90th percentiles of the main profile measures, with readable names."""
    measures = ["days_since_last_order", "frequency", "monetary", "avg_order_value", "tenure_days",
                "mean_interpurchase_days", "n_items"]
    cols = [c for c in measures if c in profiles.columns and profiles[c].notna().any()]
    q = profiles[cols].quantile([0.1, 0.5, 0.9]).T
    out = pd.DataFrame({t("ra.p10", language): q[0.1], t("ra.median", language): q[0.5],
                        t("ra.mean", language): profiles[cols].mean(), t("ra.p90", language): q[0.9]})
    return out.rename(index={c: feature_label(c, language) for c in cols}).round(1)


def rfm_grid(rfm: pd.DataFrame, min_group_size: int = 1) -> pd.DataFrame:
    """Number of customers per (R score, F score) cell, R from 5 (recent) down to 1; cells with fewer than
    ``min_group_size`` customers (but some) are missing."""
    grid = pd.crosstab(rfm["r_score"], rfm["f_score"]).reindex(index=range(5, 0, -1), columns=range(1, 6))
    grid = grid.fillna(0).astype("Int64")
    return grid.mask((grid > 0) & (grid < min_group_size))


def category_taste_by_segment(profiles: pd.DataFrame, rfm: pd.DataFrame, min_group_size: int = 1,
                              language: str = "en") -> pd.DataFrame:
    """Mean category share per reported RFM segment (small segments as 'other', left out if still small)."""
    cols = share_columns(profiles)
    if not cols:
        return pd.DataFrame()
    df = profiles[[COL_CUSTOMER, *cols]].merge(rfm[[COL_CUSTOMER, "rfm_segment"]], on=COL_CUSTOMER)
    df["rfm_segment"] = reported_rfm_segments(df, min_group_size)
    sizes = df["rfm_segment"].value_counts()
    df = df[df["rfm_segment"].isin(sizes[sizes >= min_group_size].index)]
    out = df.groupby("rfm_segment")[cols].mean()
    out.columns = [c.removeprefix("share_") for c in cols]
    order = [name for name, _, _ in RFM_SEGMENT_RULES if name in out.index] + ([OTHER] if OTHER in out.index else [])
    out = out.loc[order]
    out.index = [rfm_label(n, language) for n in out.index]
    return out


def profile_export(profiles: pd.DataFrame, rfm: pd.DataFrame, min_group_size: int = 1,
                   language: str = "en") -> pd.DataFrame:
    """The customer profile table the client receives: profile, RFM scores and segment per customer (segments
    under ``min_group_size`` named 'other'): ``rfm_segment`` the key, ``rfm_segment_name`` in the report language."""
    out = profiles.merge(rfm.assign(rfm_segment=reported_rfm_segments(rfm, min_group_size)), on=COL_CUSTOMER)
    names = {name: rfm_label(name, language) for name in out["rfm_segment"].unique() if name != OTHER}
    out["rfm_segment_name"] = out["rfm_segment"].map(names).fillna(t("common.other", language))
    out[share_columns(out)] = out[share_columns(out)].round(4)
    for col in ("first_order", "last_order"):
        out[col] = out[col].dt.strftime("%Y-%m-%d")
    for col in ("days_since_last_order", "tenure_days", "mean_interpurchase_days"):
        out[col] = out[col].round(1)
    for col in ("monetary", "avg_order_value"):
        out[col] = out[col].round(2)
    return out


def needs_metrics(profiles: pd.DataFrame, summary: pd.DataFrame) -> dict:
    """Headline figures of the customer-needs stage for metrics.json; segments only as in the (suppressed)
    ``summary`` from ``rfm_segment_summary``."""
    champions = summary.loc[summary["rfm_segment"] == "Champions", "share_revenue"]
    named = summary[summary["rfm_segment"] != OTHER].sort_values("customers", ascending=False, kind="mergesort")
    return {
        "customers": int(len(profiles)),
        "median_orders": float(profiles["frequency"].median()),
        "median_days_since_last_order": round(float(profiles["days_since_last_order"].median()), 1),
        "median_monetary": None if profiles["monetary"].isna().all() else round(float(profiles["monetary"].median()), 2),
        "top_segment": None if named.empty else str(named["rfm_segment"].iloc[0]),
        "champions_share_revenue": None if champions.empty or pd.isna(champions.iloc[0])
        else round(float(champions.iloc[0]), 4),
        "rfm_segments": {str(k): int(v) for k, v in zip(summary["rfm_segment"], summary["customers"], strict=True)},
        "rfm_segment_share_revenue": None if summary["share_revenue"].isna().all() else
        {str(k): round(float(v), 4) for k, v in zip(summary["rfm_segment"], summary["share_revenue"], strict=True)},
    }


def plot_distributions(profiles: pd.DataFrame, language: str = "en"):
    """Histograms of days since last order, orders per customer and spend per customer (log scale where skewed)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    cols = [("days_since_last_order", "ra.hist_recency", False), ("frequency", "ra.hist_frequency", True),
            ("monetary", "ra.hist_monetary", True)]
    cols = [c for c in cols if profiles[c[0]].notna().any()]
    fig, axes = plt.subplots(1, len(cols), figsize=(4.2 * len(cols), 3.8))
    for ax, (col, key, log) in zip(np.atleast_1d(axes), cols, strict=True):
        sns.histplot(profiles[col].clip(lower=1e-9) if log else profiles[col], ax=ax, log_scale=log, bins=40)
        ax.set(title=t(key, language), xlabel=t(f"{key}_x", language), ylabel=t("ra.axis_customers", language))
        if log:  # 1, 10, 100, 1,000 rather than 10⁰, 10¹, ...
            ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    fig.tight_layout()
    return fig


def plot_rfm_segments(summary: pd.DataFrame, language: str = "en"):
    """Share of customers next to share of revenue for every RFM segment."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    cols = ["share_customers"] + (["share_revenue"] if summary["share_revenue"].notna().any() else [])
    long = summary.melt(id_vars="rfm_segment", value_vars=cols, var_name="measure", value_name="share")
    long["measure"] = long["measure"].map({c: t(f"ra.{c}", language) for c in cols})
    long["rfm_segment"] = [rfm_label(n, language) for n in long["rfm_segment"]]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    sns.barplot(long, y="rfm_segment", x="share", hue="measure", ax=ax)
    ax.set(title=t("ra.chart_segments", language), xlabel=t("ra.axis_share", language), ylabel="")
    ax.legend(title="")
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
    fig.tight_layout()
    return fig


def plot_rfm_grid(grid: pd.DataFrame, min_group_size: int = 1, language: str = "en"):
    """Heatmap of customers per R and F score; suppressed (missing) cells are blank and marked '< n'."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    values = grid.astype("float64")
    fig, ax = plt.subplots(figsize=(6, 4.5))
    sns.heatmap(values, annot=True, fmt=".0f", cmap="Blues", ax=ax, cbar=False)
    ax.grid(False)
    for i, j in zip(*np.nonzero(values.isna().to_numpy()), strict=True):
        ax.text(j + 0.5, i + 0.5, f"< {min_group_size}", ha="center", va="center", color="grey")
    ax.set(title=t("ra.chart_grid", language), xlabel=t("ra.axis_f", language), ylabel=t("ra.axis_r", language))
    fig.tight_layout()
    return fig
