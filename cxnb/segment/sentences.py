"""The sentences of the report about the inputs and the choice of k (message keys filled at the edge)."""

from __future__ import annotations

import pandas as pd

from cxnb.guards import customers_text
from cxnb.i18n import t
from cxnb.profile import feature_label
from cxnb.segment.model import (
    CLEAR_STRUCTURE,
    MAX_K,
    NEAR_BEST,
    WEAK_STRUCTURE,
    Segmentation,
    structure_strength,
)


def describe_inputs(seg: Segmentation, language: str = "en") -> str:
    """What the segmentation ran on (customers, features, log-scaled features, components), as Markdown."""
    sep = t("seg.list_sep", language)
    return t("seg.inputs", language, customers=f"{len(seg.labels):,}", n_features=len(seg.features),
             features=sep.join(feature_label(f, language) for f in seg.features),
             log_features=sep.join(feature_label(f, language) for f in seg.log_features) or t("seg.none", language),
             components=int(seg.model["pca"].n_components_))


def explain_k_choice(seg: Segmentation, language: str = "en") -> str:
    """One to three sentences on why this k, for the report."""
    s = seg.scores.set_index("k")
    sil = s.loc[seg.k, "silhouette"]
    clamped = [k_range_note(seg, language)] if seg.k_range != seg.k_range_requested else []
    if seg.k_chosen_by == "parameter":
        return t("seg.sentence_gap", language).join([*clamped, t(
            "seg.k_parameter", language, k=seg.k, silhouette=f"{sil:.2f}", best_k=s["silhouette"].idxmax(),
            best=f"{s['silhouette'].max():.2f}")])
    sentences = [*clamped, _choice_sentence(seg, s, language)]
    rest = s.drop(index=seg.k)
    if not rest.empty:
        sentences.append(t("seg.k_runner_up", language, k=rest["silhouette"].idxmax(),
                           silhouette=f"{rest['silhouette'].max():.2f}"))
    sentences.append(t(f"seg.structure_{structure_strength(s['silhouette'].max())}", language,
                       best=f"{s['silhouette'].max():.2f}", clear=CLEAR_STRUCTURE, weak=WEAK_STRUCTURE))
    if seg.k - 1 in s.index and seg.k + 1 in s.index and s.loc[seg.k - 1, "inertia"] > 0 < s.loc[seg.k, "inertia"]:
        before = 1 - s.loc[seg.k, "inertia"] / s.loc[seg.k - 1, "inertia"]
        after = 1 - s.loc[seg.k + 1, "inertia"] / s.loc[seg.k, "inertia"]
        sentences.append(t("seg.k_elbow", language, k=seg.k, before=f"{before:.0%}", after=f"{after:.0%}"))
    return t("seg.sentence_gap", language).join(sentences)


def _choice_sentence(seg: Segmentation, s: pd.DataFrame, language: str) -> str:
    """Why this k: the best silhouette, or a near-best one whose segments reproduce better."""
    values = {"k": seg.k, "silhouette": f"{s.loc[seg.k, 'silhouette']:.2f}", "k_min": s.index.min(),
              "k_max": s.index.max()}
    best_k = int(s["silhouette"].idxmax())
    if best_k == seg.k or "stability" not in s:
        return t("seg.k_best", language, **values)
    return t("seg.k_stable", language, best_k=best_k, best=f"{s.loc[best_k, 'silhouette']:.2f}",
             stability=f"{s.loc[seg.k, 'stability']:.2f}", best_stability=f"{s.loc[best_k, 'stability']:.2f}",
             near=f"{NEAR_BEST:.0%}", **values)


def k_range_note(seg: Segmentation, language: str = "en") -> str:
    """The sentence saying that ``analysis.segmentation.k_range`` was narrowed, and why."""
    n = len(seg.labels)
    return t("seg.k_range_clamped", language, low=seg.k_range_requested[0], high=seg.k_range_requested[1],
             used_low=seg.k_range[0], used_high=seg.k_range[1], customers=customers_text(n, language),
             min_size=seg.min_group_size, cap=MAX_K)
