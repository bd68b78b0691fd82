"""Tables, privacy suppression, the export and the metrics of the segmentation stage."""

from __future__ import annotations

import pandas as pd

from cxnb.constants import COL_CUSTOMER
from cxnb.guards import customers_text
from cxnb.i18n import t
from cxnb.privacy import OTHER
from cxnb.profile import feature_label
from cxnb.segment.naming import segment_labels, small_segments


def suppression_note(labels: pd.Series, min_size: int, language: str = "en") -> str:
    """A sentence on which segments are too small to be shown on their own."""
    small = small_segments(labels, min_size)
    if not small:
        return t("seg.all_shown", language, customers=customers_text(min_size, language))
    key = "seg.small_merged" if labels.isin(small).sum() >= min_size else "seg.small_dropped"
    return t(key, language, segments=t("seg.list_sep", language).join(map(str, small)), n=min_size,
             other=t("common.other", language))


def reported_names(labels: pd.Series, names: pd.DataFrame, min_size: int) -> pd.Series:
    """Each customer's (English) segment name as reported: small segments merged into 'other' (dropped if still
    small)."""
    mapping = names.set_index("segment")["segment_name"].to_dict()
    for s in small_segments(labels, min_size):
        mapping[s] = OTHER
    out = labels.map(mapping).rename("segment_name")
    return out[out != OTHER] if (out == OTHER).sum() < min_size else out


def segment_summary(labels: pd.Series, names: pd.DataFrame, min_size: int,
                    revenue: pd.Series | None = None, language: str = "en") -> pd.DataFrame:
    """Customers, share of customers and of revenue, and suggested action per reported segment.

    ``segment_name`` is the English name (the key in metrics.json), ``label`` the name in ``language``.
    """
    shown = reported_names(labels, names, min_size)
    out = shown.value_counts().rename("customers").to_frame()
    out["share_customers"] = out["customers"] / len(labels)
    if revenue is not None:
        rev = revenue.reindex(labels.index).fillna(0.0)
        out["share_revenue"] = rev.groupby(shown).sum() / rev.sum()
    actions = names.set_index("segment_name")["action"]
    out["action"] = [actions.get(n, t("seg.too_few_action", language)) for n in out.index]
    order = [n for n in names["segment_name"] if n in out.index] + ([OTHER] if OTHER in out.index else [])
    out = out.loc[order].rename_axis("segment_name").reset_index()
    out.insert(1, "label", out["segment_name"].map(segment_labels(names, language)))
    return out


def summary_table(summary: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """The segment summary for display: names and headers in ``language``."""
    cols = {"label": "seg.col.segment", "customers": "seg.col.customers", "share_customers": "seg.col.share_customers",
            "share_revenue": "seg.col.share_revenue", "action": "seg.col.action"}
    return summary[[c for c in cols if c in summary.columns]].rename(columns={c: t(k, language) for c, k in cols.items()})


def feature_profile(features: pd.DataFrame, labels: pd.Series, names: pd.DataFrame,
                    min_size: int, language: str = "en") -> pd.DataFrame:
    """Mean and median of each feature (original units) per reported segment: rows features, labels in ``language``."""
    shown = reported_names(labels, names, min_size)
    stats = features.loc[shown.index].groupby(shown).agg(["mean", "median"])
    order = [n for n in names["segment_name"] if n in stats.index] + ([OTHER] if OTHER in stats.index else [])
    out = stats.loc[order].T.unstack(level=1).reindex(features.columns)
    stat_labels = {s: t(f"seg.col.{s}", language) for s in ("mean", "median")}
    out = out.rename(columns={**segment_labels(names, language), **stat_labels},
                     index=lambda f: feature_label(f, language))
    return out.rename_axis(index=None, columns=[None, None])


def segments_export(labels: pd.Series, names: pd.DataFrame, min_size: int, language: str = "en") -> pd.DataFrame:
    """``customer_id, segment, segment_name`` for exports/segments.csv: the name in ``language``; a customer of a
    small segment has segment and name 'other' (its number is not given)."""
    small = small_segments(labels, min_size)
    mapping = names.set_index("segment")["label"].to_dict()
    mapping.update(dict.fromkeys(small, t("common.other", language)))
    number = labels.astype("object").where(~labels.isin(small), OTHER)
    return pd.DataFrame({COL_CUSTOMER: labels.index, "segment": number.to_numpy(),
                         "segment_name": labels.map(mapping).to_numpy()})
