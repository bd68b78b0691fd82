"""Customer segmentation: k-means on transformed, standardized features, k chosen by silhouette and stability, named segments.

The model is one scikit-learn ``Pipeline``: log1p on skewed non-negative features, median imputation,
standardization, principal components (only with many features: the components before the largest drop in
explained variance, so that one-off quirks such as a single-category basket do not form their own clusters)
and ``KMeans``. ``assign_segments(profiles, model)`` places new customers in the fitted segments.

Choosing k fits every candidate on a seeded sample of at most ``SELECTION_SAMPLE`` customers and computes the
silhouette on at most ``SILHOUETTE_SAMPLE`` of them; the chosen k's ``N_INIT`` starts run on at most
``FINAL_SAMPLE`` customers and one refit from the best of them on all (samples seeded by ``seed``), so the cost
stays linear in the number of customers. K-means runs on one native thread (``model.one_thread``).

The stage: ``check(run)``, ``run_stage(run, config) -> SegmentationResult``, ``result.metrics()`` (typed).
One module per concern: ``inputs`` (what is segmented), ``model`` (preprocessing, choice of k, fit; no
plotting), ``stability``, ``naming``, ``sentences``, ``tables`` (suppression, export, metrics), ``plots``.
"""

from __future__ import annotations

from cxnb.segment.inputs import (
    check_segmentation_inputs,
    customer_revenue,
    default_features,
    numeric_attributes,
    segmentation_features,
)
from cxnb.segment.metrics import segmentation_metrics
from cxnb.segment.model import (
    CHOICE_RUNS,
    CHOICE_SAMPLE,
    CLEAR_STRUCTURE,
    MAX_K,
    MIN_CUSTOMERS,
    MIN_FEATURES_FOR_REDUCTION,
    N_INIT,
    NEAR_BEST,
    PROFILE_FEATURES,
    SELECTION_SAMPLE,
    SILHOUETTE_SAMPLE,
    SKEW_THRESHOLD,
    STANDARDIZED_STEPS,
    WEAK_STRUCTURE,
    Segmentation,
    assign_segments,
    check_k,
    choice_stability,
    choose_k,
    fit_segments,
    k_selection_scores,
    max_segments,
    preprocessing,
    scree_components,
    skewed_features,
    structure_strength,
    usable_k_range,
)
from cxnb.segment.naming import (
    NAMING_RULES,
    NamingRule,
    name_segments,
    names_table,
    naming_rules_table,
    segment_labels,
    shown_segments,
    small_segments,
    standardized_centroids,
)
from cxnb.segment.pipeline import SegmentationMetrics, SegmentationResult, check, run_stage
from cxnb.segment.plots import (
    SCATTER_POINTS,
    plot_centroid_heatmap,
    plot_k_selection,
    plot_segment_map,
    plot_segment_value,
    segment_map,
)
from cxnb.segment.sentences import describe_inputs, explain_k_choice, k_range_note
from cxnb.segment.stability import (
    STABILITY_KINDS,
    STABILITY_RUNS,
    STABILITY_SAMPLE,
    STABLE_ARI,
    segment_stability,
    stability_table,
    stability_verdict,
)
from cxnb.segment.tables import (
    feature_profile,
    reported_names,
    segment_summary,
    segments_export,
    summary_table,
    suppression_note,
)

__all__ = [
    "SegmentationMetrics", "SegmentationResult", "check", "run_stage", "CHOICE_RUNS", "CHOICE_SAMPLE", "CLEAR_STRUCTURE", "MAX_K", "MIN_CUSTOMERS", "MIN_FEATURES_FOR_REDUCTION",
    "NAMING_RULES", "NEAR_BEST", "N_INIT", "NamingRule", "PROFILE_FEATURES", "SCATTER_POINTS",
    "SELECTION_SAMPLE", "SILHOUETTE_SAMPLE", "SKEW_THRESHOLD", "STABILITY_KINDS", "STABILITY_RUNS",
    "STABILITY_SAMPLE", "STABLE_ARI", "STANDARDIZED_STEPS", "Segmentation", "WEAK_STRUCTURE", "assign_segments",
    "check_k", "check_segmentation_inputs", "choice_stability", "choose_k", "customer_revenue",
    "default_features", "describe_inputs", "explain_k_choice", "feature_profile", "fit_segments",
    "k_range_note", "k_selection_scores", "max_segments", "name_segments", "names_table", "naming_rules_table",
    "numeric_attributes", "plot_centroid_heatmap", "plot_k_selection", "plot_segment_map", "plot_segment_value",
    "preprocessing", "reported_names", "scree_components", "segment_labels", "segment_map", "segment_stability",
    "segment_summary", "segmentation_features", "segmentation_metrics", "segments_export", "shown_segments",
    "skewed_features", "small_segments", "stability_table", "stability_verdict", "standardized_centroids",
    "structure_strength", "summary_table", "suppression_note", "usable_k_range",
]
