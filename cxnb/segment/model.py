"""The segmentation model: preprocessing, the choice of k (silhouette, then stability), the k-means fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from cxnb.constants import COL_CUSTOMER, SEED
from cxnb.errors import CxnbError, StageSkipped
from cxnb.guards import customers_text
from cxnb.i18n import t

PROFILE_FEATURES = ["days_since_last_order", "frequency", "monetary", "tenure_days", "avg_order_value"]


SKEW_THRESHOLD = 1.0


MIN_FEATURES_FOR_REDUCTION = 8


N_INIT = 10


SELECTION_SAMPLE = 25_000  # customers each candidate k is fitted on (plenty for the silhouette and the elbow)


SILHOUETTE_SAMPLE = 5_000  # of the selection sample; the silhouette costs the square of its customers


NEAR_BEST = 0.9  # k values within this share of the best silhouette are compared on stability


CHOICE_SAMPLE = 5_000  # customers refitted when comparing near-best k on stability


CHOICE_RUNS = 3


CLEAR_STRUCTURE = 0.5  # silhouette above which the data has clear clusters (Kaufman & Rousseeuw)


WEAK_STRUCTURE = 0.25  # below this the data has no cluster structure to speak of


MIN_CUSTOMERS = 50


MAX_K = 15  # more segments than this cannot be named and acted on, and choosing among them takes long


STANDARDIZED_STEPS = 3  # log1p, impute, scale


FINAL_SAMPLE = 25_000  # customers the chosen k is fitted on (n_init starts); one pass on everyone then refines it


def one_thread():
    """Native threads (OpenMP, BLAS) held to one: k-means on a shared 2-core machine ran 10x slower on two
    spin-waiting threads than on one (25,000 x 5 features, k=6: 4.2 s against 0.4 s, benchmarks/results.md)."""
    return threadpool_limits(1)


@dataclass
class Segmentation:
    """A fitted segmentation: the model, its inputs, the k-selection curves and each customer's segment."""

    model: Pipeline
    features: list[str]
    log_features: list[str]
    k: int
    k_chosen_by: str
    scores: pd.DataFrame
    labels: pd.Series
    k_range: tuple[int, int]
    k_range_requested: tuple[int, int]
    min_group_size: int = 1

    @property
    def silhouette(self) -> float:
        """Silhouette of the chosen k (on the seeded sample)."""
        return float(self.scores.set_index("k").loc[self.k, "silhouette"])


def skewed_features(features: pd.DataFrame, threshold: float = SKEW_THRESHOLD) -> list[str]:
    """Non-negative columns whose skewness exceeds ``threshold``: these get log1p."""
    skew = features.skew()
    return [c for c in features.columns if features[c].min() >= 0 and skew[c] > threshold]


def scree_components(eigenvalues: np.ndarray) -> int:
    """Components before the largest relative drop in variance, among those above average (> 1)."""
    above = int((eigenvalues > 1).sum())
    if above < 2:
        return max(above, 1)
    ratios = eigenvalues[:above] / eigenvalues[1:above + 1]
    return int(np.argmax(ratios)) + 1


def preprocessing(features: pd.DataFrame) -> Pipeline:
    """Fitted log1p → impute → standardize → (principal components) pipeline for these features."""
    log_cols = skewed_features(features)
    steps = Pipeline([
        ("log1p", ColumnTransformer([("log1p", FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
                                      log_cols)], remainder="passthrough", verbose_feature_names_out=False)),
        ("impute", SimpleImputer(strategy="median")),
        ("scale", StandardScaler()),
    ])
    scaled = steps.fit_transform(features)
    n_components = scaled.shape[1]
    if n_components >= MIN_FEATURES_FOR_REDUCTION:
        n_components = scree_components(PCA().fit(scaled).explained_variance_)
    steps.steps.append(("pca", PCA(n_components).fit(scaled)))
    return steps


def _sample_rows(n: int, size: int, random_state: int) -> np.ndarray:
    """Sorted seeded sample of row positions (all rows when ``n <= size``)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(random_state).choice(n, size=size, replace=False))


def k_selection_scores(x: np.ndarray, k_values, random_state: int = SEED) -> pd.DataFrame:
    """Inertia (elbow) and silhouette per k, fitted on a seeded sample of the transformed features."""
    x = x[_sample_rows(len(x), SELECTION_SAMPLE, random_state)]
    rows = []
    for k in k_values:
        km = KMeans(k, n_init=N_INIT, random_state=random_state).fit(x)
        sil = silhouette_score(x, km.labels_, sample_size=min(SILHOUETTE_SAMPLE, len(x)), random_state=random_state)
        rows.append({"k": k, "inertia": km.inertia_, "silhouette": sil})
    return pd.DataFrame(rows)


def choice_stability(x: np.ndarray, k_values, random_state: int = SEED) -> pd.Series:
    """Mean adjusted Rand index, per k, of refits on bootstrap samples against a reference fit (on a seeded
    sample of at most ``CHOICE_SAMPLE`` customers): how reproducible the segments of each k are."""
    x = x[_sample_rows(len(x), CHOICE_SAMPLE, random_state)]
    rng = np.random.default_rng(random_state)
    boots = [rng.integers(0, len(x), size=len(x)) for _ in range(CHOICE_RUNS)]
    out = {}
    for k in k_values:
        reference = KMeans(k, n_init=N_INIT, random_state=random_state).fit(x).labels_
        out[k] = float(np.mean([adjusted_rand_score(reference, KMeans(k, n_init=3, random_state=random_state + i)
                                                    .fit(x[b]).predict(x)) for i, b in enumerate(boots)]))
    return pd.Series(out, name="stability")


def choose_k(scores: pd.DataFrame) -> int:
    """The k for use: of the k whose silhouette is within ``NEAR_BEST`` of the best, the most stable one (ties:
    the higher silhouette); k values without a stability figure compete on silhouette alone."""
    best = scores["silhouette"].max()
    near = scores[scores["silhouette"] >= NEAR_BEST * best]
    if "stability" not in near or near["stability"].isna().all():
        return int(near.loc[near["silhouette"].idxmax(), "k"])
    ranked = near.assign(stable=near["stability"].round(2)).sort_values(["stable", "silhouette"], ascending=False)
    return int(ranked["k"].iloc[0])


def structure_strength(silhouette: float) -> str:
    """``clear``, ``weak`` or ``none``: how much cluster structure the best silhouette shows."""
    return "clear" if silhouette >= CLEAR_STRUCTURE else "weak" if silhouette >= WEAK_STRUCTURE else "none"


def _ordered_by_size(km: KMeans, x: np.ndarray, random_state: int) -> KMeans:
    """The same clustering refitted on ``x`` from its centres, clusters numbered from largest to smallest in ``x``."""
    order = np.argsort(-np.bincount(km.predict(x), minlength=km.n_clusters), kind="stable")
    return KMeans(km.n_clusters, init=km.cluster_centers_[order], n_init=1, random_state=random_state).fit(x)


def max_segments(n_customers: int, min_group_size: int = 1) -> int:
    """The most segments worth fitting: at most ``MAX_K``, fewer than the customers, and each of them able to hold
    ``min_group_size`` customers."""
    return min(MAX_K, n_customers - 1, n_customers // min_group_size)


def usable_k_range(k_range, n_customers: int, min_group_size: int = 1) -> tuple[int, int]:
    """``k_range`` clamped to [2, ``max_segments``]; raises StageSkipped when not even two segments fit."""
    top = max_segments(n_customers, min_group_size)
    if top < 2:
        raise StageSkipped(t("seg.skip.too_few_groups", customers=customers_text(n_customers),
                             min_size=min_group_size))
    high = min(int(k_range[1]), top)
    return min(int(k_range[0]), high), high


def check_k(k: int | str, n_customers: int, min_group_size: int = 1) -> None:
    """Raise a one-line CxnbError when a fixed ``analysis.segmentation.k`` cannot be fitted and reported."""
    if k == "auto":
        return
    top = max_segments(n_customers, min_group_size)
    if int(k) > top:
        raise CxnbError(
            f"analysis.segmentation.k = {k} is too large: with {n_customers:,} customers and "
            f"privacy.min_group_size {min_group_size} at most {top} segments can be fitted and reported "
            f"(and never more than {MAX_K}); set analysis.segmentation.k to {top} or less, or k: auto.")


def fit_segments(features: pd.DataFrame, k: int | str = "auto", k_range=(3, 10),
                 random_state: int = SEED, min_group_size: int = 1) -> Segmentation:
    """Fit the segmentation; ``k='auto'`` takes the k in ``k_range`` (inclusive, clamped by ``usable_k_range``)
    chosen by :func:`choose_k` (near-best silhouette, then stability). A fixed ``k`` that cannot be reported
    raises CxnbError (``check_k``)."""
    used = usable_k_range(k_range, len(features), min_group_size)
    check_k(k, len(features), min_group_size)
    with one_thread():
        return _fit_segments(features, k, k_range, used, random_state, min_group_size)


def _fit_segments(features: pd.DataFrame, k: int | str, k_range, used: tuple[int, int], random_state: int,
                  min_group_size: int) -> Segmentation:
    """:func:`fit_segments` once its k range is checked: the chosen k's ``N_INIT`` starts on a seeded sample of
    at most ``FINAL_SAMPLE`` customers, then refined on all of them (clusters numbered by size)."""
    prep = preprocessing(features)
    x = prep.transform(features)
    k_values = sorted(set(range(used[0], used[1] + 1)) | ({int(k)} if k != "auto" else set()))
    scores = k_selection_scores(x, k_values, random_state)
    if k == "auto":
        near = scores.loc[scores["silhouette"] >= NEAR_BEST * scores["silhouette"].max(), "k"]
        scores = scores.merge(choice_stability(x, near, random_state), left_on="k", right_index=True, how="left")
    chosen = choose_k(scores) if k == "auto" else int(k)
    start = KMeans(chosen, n_init=N_INIT, random_state=random_state).fit(
        x[_sample_rows(len(x), FINAL_SAMPLE, random_state)])
    km = _ordered_by_size(start, x, random_state)
    model = Pipeline([*prep.steps, ("kmeans", km)])
    labels = pd.Series(km.labels_ + 1, index=features.index, name="segment")
    return Segmentation(model, list(features.columns), skewed_features(features), chosen,
                        "silhouette_and_stability" if k == "auto" else "parameter", scores, labels, used,
                        (int(k_range[0]), int(k_range[1])), min_group_size)


def assign_segments(profiles: pd.DataFrame, model: Pipeline) -> pd.Series:
    """Segment (1..k) of each customer in ``profiles`` (indexed by or holding customer_id) under a fitted model."""
    table = profiles.set_index(COL_CUSTOMER) if COL_CUSTOMER in profiles.columns else profiles
    x = table[list(model.feature_names_in_)].astype("float64")
    return pd.Series(model.predict(x) + 1, index=table.index, name="segment")
