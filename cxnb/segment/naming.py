"""Segment names from standardized centroids: the naming rules and the description of a segment."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.pipeline import Pipeline

from cxnb.i18n import t
from cxnb.privacy import OTHER
from cxnb.profile import feature_label
from cxnb.segment.model import STANDARDIZED_STEPS, Segmentation


@dataclass(frozen=True)
class NamingRule:
    """A segment name and action (``seg.rule.<key>.name`` / ``.action``), given when every condition holds."""

    key: str
    conditions: tuple[tuple[str, str, float], ...]

    def matches(self, centroid: pd.Series) -> bool:
        """Whether all conditions hold (a condition on a feature that is not used never holds)."""
        return all(f in centroid.index and (centroid[f] >= v if op == ">=" else centroid[f] <= v)
                   for f, op, v in self.conditions)

    def name(self, language: str = "en") -> str:
        """The segment name this rule gives, in ``language``."""
        return t(f"seg.rule.{self.key}.name", language)

    def action(self, language: str = "en") -> str:
        """The suggested action for the segment, in ``language``."""
        return t(f"seg.rule.{self.key}.action", language)

    def describe(self, language: str = "en") -> str:
        """The conditions in words, e.g. 'orders ≥ +0.5 sd and spend ≥ +0.5 sd'."""
        return t("seg.cond_join", language).join(
            t("seg.cond_ge" if op == ">=" else "seg.cond_le", language, feature=feature_label(f, language),
              threshold=f"{v:+.2g}") for f, op, v in self.conditions)


# First matching rule wins; centroids are in standard deviations from the average customer.
NAMING_RULES = (
    NamingRule("high_value_loyal", (("frequency", ">=", 0.5), ("monetary", ">=", 0.5))),
    NamingRule("big_ticket", (("avg_order_value", ">=", 0.75),)),
    NamingRule("new", (("tenure_days", "<=", -0.75),)),
    NamingRule("lapsed", (("days_since_last_order", ">=", 0.75),)),
    NamingRule("occasional_low_spend", (("monetary", "<=", -0.5),)),
    NamingRule("frequent", (("frequency", ">=", 0.5),)),
    NamingRule("high_spenders", (("monetary", ">=", 0.5),)),
)


def _standardized(model: Pipeline, features: pd.DataFrame) -> pd.DataFrame:
    """Features after log1p, imputation and standardization (before principal components), columns in order."""
    z = model[:STANDARDIZED_STEPS].transform(features)
    out = pd.DataFrame(z, index=features.index, columns=model[0].get_feature_names_out())
    return out[list(features.columns)]


def standardized_centroids(features: pd.DataFrame, seg: Segmentation) -> pd.DataFrame:
    """Mean of each standardized (log1p where skewed) feature per segment: rows segments, columns features."""
    return _standardized(seg.model, features).groupby(seg.labels).mean()


def _describe_feature(feature: str, z: float, language: str) -> str:
    """'more Toys' for a share column, 'high income' otherwise."""
    if feature.startswith("share_"):
        return t("seg.name.more" if z > 0 else "seg.name.less", language, category=feature.removeprefix("share_"))
    return t("seg.name.high" if z > 0 else "seg.name.low", language, feature=feature_label(feature, language))


def _description(centroid: pd.Series, language: str, exclude=(), top: int = 2) -> str:
    """The (up to) ``top`` most distinctive features of a centroid in words."""
    strong = centroid.drop(labels=[c for c in exclude if c in centroid.index])
    strong = strong[strong.abs() >= 0.5].abs().sort_values(ascending=False, kind="mergesort").head(top)
    return t("seg.list_sep", language).join(
        _describe_feature(f, centroid[f], language) for f in centroid.index if f in strong.index)


def _segment_names(centroids: pd.DataFrame, language: str) -> pd.DataFrame:
    """Name, suggested action and rule text of each segment in ``language``; duplicate names are qualified."""
    rows = []
    for segment, centroid in centroids.iterrows():
        rule = next((r for r in NAMING_RULES if r.matches(centroid)), None)
        if rule:
            rows.append({"segment": segment, "name": rule.name(language), "action": rule.action(language),
                         "rule": rule.describe(language), "_used": [f for f, _, _ in rule.conditions]})
        else:
            text = _description(centroid, language) or t("seg.name.average", language)
            rows.append({"segment": segment, "name": text[0].upper() + text[1:],
                         "action": t("seg.describe_action", language), "rule": t("seg.rule_none", language),
                         "_used": []})
    out = pd.DataFrame(rows)
    for i in out.index[out["name"].duplicated(keep=False)]:
        segment = out.at[i, "segment"]
        extra = _description(centroids.loc[segment], language, exclude=out.at[i, "_used"], top=1)
        out.at[i, "name"] = t("seg.name.qualified", language, name=out.at[i, "name"],
                              detail=extra or t("seg.name.segment_n", language, n=segment))
    dup = out["name"].duplicated(keep=False)
    out.loc[dup, "name"] = [t("seg.name.numbered", language, name=name, n=segment)
                            for name, segment in zip(out.loc[dup, "name"], out.loc[dup, "segment"], strict=True)]
    return out.drop(columns="_used")


def name_segments(centroids: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """Per segment: ``segment_name`` (English: the key in metrics.json), ``label`` (the name in ``language``),
    suggested ``action`` and the ``rule`` that fired (in ``language``), from ``NAMING_RULES`` or a description."""
    english = _segment_names(centroids, "en")
    shown = english if language == "en" else _segment_names(centroids, language)
    return pd.DataFrame({"segment": english["segment"], "segment_name": english["name"], "label": shown["name"],
                         "action": shown["action"], "rule": shown["rule"]})


def segment_labels(names: pd.DataFrame, language: str = "en") -> dict[str, str]:
    """English segment name -> name in the report (``names['label']``), with 'other' translated."""
    return {**dict(zip(names["segment_name"], names["label"], strict=True)), OTHER: t("common.other", language)}


def naming_rules_table(language: str = "en") -> pd.DataFrame:
    """The naming rules as shown in the report (first match wins)."""
    cols = {c: t(f"seg.col.{c}", language) for c in ("order", "segment", "when", "action")}
    rows = [{cols["order"]: i, cols["segment"]: r.name(language), cols["when"]: r.describe(language),
             cols["action"]: r.action(language)} for i, r in enumerate(NAMING_RULES, 1)]
    rows.append({cols["order"]: len(rows) + 1, cols["segment"]: t("seg.rules_last_name", language),
                 cols["when"]: t("seg.rules_last_when", language), cols["action"]: t("seg.describe_action", language)})
    return pd.DataFrame(rows)


def shown_segments(names: pd.DataFrame, labels: pd.Series, min_size: int) -> pd.DataFrame:
    """The rows of ``names`` for segments with at least ``min_size`` customers (the ones profiled on their own)."""
    return names[~names["segment"].isin(small_segments(labels, min_size))]


def names_table(names: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """Each segment's number, name, suggested action and the rule that named it, for display (pass
    ``shown_segments`` so that small segments stay hidden)."""
    cols = {"segment": "seg.col.number", "label": "seg.col.segment", "action": "seg.col.action",
            "rule": "seg.col.rule"}
    return names[list(cols)].rename(columns={c: t(k, language) for c, k in cols.items()})


def small_segments(labels: pd.Series, min_size: int) -> list[int]:
    """Segments with fewer than ``min_size`` customers (not profiled individually)."""
    sizes = labels.value_counts()
    return sorted(int(s) for s in sizes.index[sizes < min_size])
