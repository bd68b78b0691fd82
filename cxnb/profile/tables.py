"""The customer-needs report's tables, names and sentences in the report language, and the profile export."""

from __future__ import annotations

import re

import pandas as pd

from cxnb.constants import COL_CUSTOMER
from cxnb.i18n import t
from cxnb.privacy import OTHER
from cxnb.profile.profiles import feature_label, share_columns
from cxnb.profile.rfm import (
    RFM_LEVELS,
    RFM_SEGMENT_RULES,
    levels_used,
    reported_rfm_segments,
    rfm_key,
    small_rfm_segments,
)


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


def taste_table(taste: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """The mean category share per RFM segment (``category_taste``) with the segments named in ``language``."""
    return taste.rename(index={n: rfm_label(n, language) for n in taste.index}).rename_axis(None)


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


def levels_note(rfm: pd.DataFrame, language: str = "en") -> str:
    """A sentence per score that uses fewer than five levels (too few distinct values), or an empty string."""
    notes = [t("ra.levels_few", language, score=score, levels=n,
               scores=", ".join(str(v) for v in sorted(rfm[f"{score.lower()}_score"].dropna().unique())))
             for score, n in levels_used(rfm).items() if n < RFM_LEVELS]
    return " ".join(notes)


def rfm_suppression_note(rfm: pd.DataFrame, min_group_size: int, language: str = "en") -> str:
    """A sentence on which RFM segments are too small to be shown on their own (and whether 'other' is shown)."""
    small = small_rfm_segments(rfm, min_group_size)
    if not small:
        return t("ra.all_shown", language, n=min_group_size)
    merged = int(rfm["rfm_segment"].isin(small).sum())
    key = "ra.small_merged" if merged >= min_group_size else "ra.small_dropped"
    return t(key, language, segments=t("ra.list_sep", language).join(rfm_label(n, language) for n in small),
             n=min_group_size, other=t("common.other", language))
