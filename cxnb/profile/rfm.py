"""RFM scores (quintiles, 5 best, ties kept together), the named RFM segments and their summaries, with groups
smaller than ``privacy.min_group_size`` merged into 'other' or left out."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cxnb.constants import COL_CUSTOMER
from cxnb.privacy import OTHER
from cxnb.profile.profiles import share_columns

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
    out["rfm_segment"] = rfm_segment_names(out["r_score"].to_numpy(), out["f_score"].to_numpy())
    return out


def _segment_grid() -> np.ndarray:
    """5 x 5 array of segment names, indexed by (R score - 1, F score - 1)."""
    return np.array([[rfm_segment_name(r, f) for f in range(1, RFM_LEVELS + 1)] for r in range(1, RFM_LEVELS + 1)],
                    dtype=object)


def rfm_segment_names(r: np.ndarray, f: np.ndarray) -> list[str]:
    """Names of the RFM segments of these R and F scores (1..5), looked up in the 5 x 5 grid of the rules."""
    r, f = np.asarray(r, dtype="int64"), np.asarray(f, dtype="int64")
    if len(r) and (min(r.min(), f.min()) < 1 or max(r.max(), f.max()) > RFM_LEVELS):
        raise ValueError(f"RFM scores must lie in 1..{RFM_LEVELS}")
    return _segment_grid()[r - 1, f - 1].tolist()


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


def reported_rfm_segments(rfm: pd.DataFrame, min_group_size: int = 1) -> pd.Series:
    """Each customer's RFM segment as reported: segments with fewer than ``min_group_size`` customers are 'other'."""
    sizes = rfm["rfm_segment"].value_counts()
    small = sizes.index[sizes < min_group_size]
    return rfm["rfm_segment"].where(~rfm["rfm_segment"].isin(small), OTHER)


def small_rfm_segments(rfm: pd.DataFrame, min_group_size: int) -> list[str]:
    """RFM segments with fewer than ``min_group_size`` customers, in rule order."""
    sizes = rfm["rfm_segment"].value_counts()
    return [name for name, _, _ in RFM_SEGMENT_RULES if 0 < sizes.get(name, 0) < min_group_size]


def rfm_grid(rfm: pd.DataFrame, min_group_size: int = 1) -> pd.DataFrame:
    """Number of customers per (R score, F score) cell, R from 5 (recent) down to 1; cells with fewer than
    ``min_group_size`` customers (but some) are missing."""
    grid = pd.crosstab(rfm["r_score"], rfm["f_score"]).reindex(index=range(5, 0, -1), columns=range(1, 6))
    grid = grid.fillna(0).astype("Int64")
    return grid.mask((grid > 0) & (grid < min_group_size))


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


def category_taste(profiles: pd.DataFrame, rfm: pd.DataFrame, min_group_size: int = 1) -> pd.DataFrame:
    """Mean category share per reported RFM segment (index: segment key; small segments as 'other', left out if
    still small); empty without category shares."""
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
    return out.loc[order]
