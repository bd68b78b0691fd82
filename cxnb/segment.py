"""Customer segmentation: k-means on transformed, standardized features, k chosen by silhouette, named segments.

The model is one scikit-learn ``Pipeline``: log1p on skewed non-negative features, median imputation,
standardization, principal components (only with many features: the components before the largest drop in
explained variance, so that one-off quirks such as a single-category basket do not form their own clusters)
and ``KMeans``. ``assign_segments(profiles, model)`` places new customers in the fitted segments.

Choosing k fits every candidate on a seeded sample of at most ``SELECTION_SAMPLE`` customers and computes the
silhouette on at most ``SILHOUETTE_SAMPLE`` of them, so the cost stays linear in the number of customers.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from cxnb.constants import COL_CUSTOMER, SEED
from cxnb.errors import CxnbError, StageSkipped
from cxnb.guards import check_population, customers_text
from cxnb.i18n import t
from cxnb.privacy import OTHER
from cxnb.profile import feature_label, share_columns

PROFILE_FEATURES = ["days_since_last_order", "frequency", "monetary", "tenure_days", "avg_order_value"]
SKEW_THRESHOLD = 1.0
MIN_FEATURES_FOR_REDUCTION = 8
N_INIT = 10
SELECTION_SAMPLE = 100_000
SILHOUETTE_SAMPLE = 10_000
STABILITY_SAMPLE = 20_000
STABILITY_RUNS = 5
STABLE_ARI = 0.8
NEAR_BEST = 0.9  # k values within this share of the best silhouette are compared on stability
CHOICE_SAMPLE = 5_000  # customers refitted when comparing near-best k on stability
CHOICE_RUNS = 3
CLEAR_STRUCTURE = 0.5  # silhouette above which the data has clear clusters (Kaufman & Rousseeuw)
WEAK_STRUCTURE = 0.25  # below this the data has no cluster structure to speak of
MIN_CUSTOMERS = 50
MAX_K = 15  # more segments than this cannot be named and acted on, and choosing among them takes long
SCATTER_POINTS = 4_000
STANDARDIZED_STEPS = 3  # log1p, impute, scale
STABILITY_KINDS = {"other seed": "seg.kind.other_seed", "bootstrap": "seg.kind.bootstrap"}


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


# ----------------------------------------------------------------------------------------------- inputs


def check_segmentation_inputs(run) -> None:
    """Raise StageSkipped (reason in the report language) when there is nothing to segment on or too few customers."""
    features, language = run.params.analysis.segmentation.features, run.params.language
    if not run.has("transactions") and not features:
        raise StageSkipped(t("seg.skip.no_features", language))
    if not run.has("transactions") and not run.has("customers"):
        raise StageSkipped(t("seg.skip.no_customers", language))
    n = len(segmentation_features(run, features))
    check_population(n, run.params)
    if n < MIN_CUSTOMERS:
        raise StageSkipped(t("seg.skip.too_few", language, customers=customers_text(n, language),
                             minimum=MIN_CUSTOMERS))
    min_size = run.params.privacy.min_group_size
    if max_segments(n, min_size) < 2:
        raise StageSkipped(t("seg.skip.too_few_groups", language, customers=customers_text(n, language),
                             min_size=min_size))


def default_features(profiles: pd.DataFrame) -> list[str]:
    """The profile features used when none are configured, without all-missing or constant columns."""
    candidates = [c for c in PROFILE_FEATURES + share_columns(profiles) if c in profiles.columns]
    return [c for c in candidates if profiles[c].nunique(dropna=True) > 1]


def numeric_attributes(customers: pd.DataFrame) -> pd.DataFrame:
    """The customer table with text columns whose every value is a number converted to numbers."""
    out = customers.copy()
    for col in out.columns.drop(COL_CUSTOMER, errors="ignore"):
        if pd.api.types.is_numeric_dtype(out[col]):
            continue
        values = pd.to_numeric(out[col], errors="coerce")
        if values.notna().any() and values.notna().sum() == out[col].notna().sum():
            out[col] = values
    return out


def _candidate_table(source, features: list[str] | None) -> pd.DataFrame:
    """Profiles and/or customer attributes of a Run (or a given table), one row per customer."""
    if isinstance(source, pd.DataFrame):
        return source
    profiles = source.profiles() if source.has("transactions") else None
    customers = numeric_attributes(source.customers()) if source.has("customers") else None
    if customers is not None and source.params.data.customers.label:
        customers = customers.drop(columns=[source.params.data.customers.label], errors="ignore")
    if profiles is None:
        return customers
    if customers is None or not features or all(f in profiles.columns for f in features):
        return profiles
    extra = customers.drop(columns=[c for c in customers.columns if c in profiles.columns and c != COL_CUSTOMER])
    return profiles.merge(extra, on=COL_CUSTOMER, how="left")


def segmentation_features(source, features: list[str] | None = None) -> pd.DataFrame:
    """The feature table indexed by customer_id, from a Run (profiles + customer attributes) or a DataFrame.

    ``features=None`` means the customer profile (see ``default_features``); otherwise the named profile
    columns or numeric customer attributes. A missing or non-numeric name raises a one-line CxnbError.
    """
    table = _candidate_table(source, features)
    numeric = [c for c in table.columns if c != COL_CUSTOMER and pd.api.types.is_numeric_dtype(table[c])
               and not pd.api.types.is_bool_dtype(table[c])]
    if features is None:
        features = default_features(table)
    for name in features:
        if name not in numeric:
            near = difflib.get_close_matches(name, numeric, n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            problem = "is not numeric" if name in table.columns else "is not a profile column or customer attribute"
            raise CxnbError(f"analysis.segmentation.features: '{name}' {problem}{hint}; "
                            f"available numeric features: {', '.join(numeric)}.")
    return table.set_index(COL_CUSTOMER)[list(features)].astype("float64")


def customer_revenue(run) -> pd.Series | None:
    """Revenue per customer (profile ``monetary``), or None without priced transactions."""
    if not run.has("transactions"):
        return None
    monetary = run.profiles().set_index(COL_CUSTOMER)["monetary"]
    return None if monetary.isna().all() else monetary


# ----------------------------------------------------------------------------------------------- model


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
    """The same clustering with clusters numbered from largest to smallest."""
    order = np.argsort(-np.bincount(km.labels_, minlength=km.n_clusters), kind="stable")
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
    prep = preprocessing(features)
    x = prep.transform(features)
    k_values = sorted(set(range(used[0], used[1] + 1)) | ({int(k)} if k != "auto" else set()))
    scores = k_selection_scores(x, k_values, random_state)
    if k == "auto":
        near = scores.loc[scores["silhouette"] >= NEAR_BEST * scores["silhouette"].max(), "k"]
        scores = scores.merge(choice_stability(x, near, random_state), left_on="k", right_index=True, how="left")
    chosen = choose_k(scores) if k == "auto" else int(k)
    km = _ordered_by_size(KMeans(chosen, n_init=N_INIT, random_state=random_state).fit(x), x, random_state)
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


# ----------------------------------------------------------------------------------------------- stability


def segment_stability(features: pd.DataFrame, seg: Segmentation, runs: int = STABILITY_RUNS,
                      random_state: int = SEED) -> pd.DataFrame:
    """Adjusted Rand index of refits with other seeds and on bootstrap samples against the fitted segments."""
    rows = _sample_rows(len(features), STABILITY_SAMPLE, random_state)
    x = seg.model[:-1].transform(features.iloc[rows])
    reference = seg.model[-1].predict(x)
    rng = np.random.default_rng(random_state)
    out = []
    for run in range(1, runs + 1):
        seeded = KMeans(seg.k, n_init=N_INIT, random_state=random_state + run).fit(x)
        out.append({"kind": "other seed", "run": run, "ari": adjusted_rand_score(reference, seeded.labels_)})
        boot = rng.integers(0, len(x), size=len(x))
        resampled = KMeans(seg.k, n_init=N_INIT, random_state=random_state + run).fit(x[boot])
        out.append({"kind": "bootstrap", "run": run, "ari": adjusted_rand_score(reference, resampled.predict(x))})
    return pd.DataFrame(out)


def stability_verdict(stability: pd.DataFrame, threshold: float = STABLE_ARI, language: str = "en") -> str:
    """A sentence for the report: stable, or a warning when the mean ARI is below ``threshold``."""
    ari = stability["ari"].mean()
    key = "seg.stable" if ari >= threshold else "seg.unstable"
    return t(key, language, ari=f"{ari:.2f}", threshold=threshold)


def stability_table(stability: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """Mean and lowest adjusted Rand index per kind of refit, for display."""
    out = stability.groupby("kind", sort=False)["ari"].agg(["mean", "min"]).reset_index()
    out["kind"] = [t(STABILITY_KINDS[k], language) for k in out["kind"]]
    return out.rename(columns={"kind": t("seg.col.refit", language), "mean": t("seg.col.mean_ari", language),
                               "min": t("seg.col.min_ari", language)})


# ----------------------------------------------------------------------------------------------- profiles


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


def segmentation_metrics(seg: Segmentation, stability: pd.DataFrame, summary: pd.DataFrame) -> dict:
    """Headline figures for metrics.json (``segmentation``): ``sizes`` keyed by English name, ``names`` maps
    them to the report language."""
    by_kind = stability.groupby("kind")["ari"].mean()
    return {
        "k": seg.k,
        "k_chosen_by": seg.k_chosen_by,
        "k_range": list(seg.k_range),
        "k_range_requested": list(seg.k_range_requested),
        "silhouette": round(seg.silhouette, 4),
        "stability_ari": round(float(stability["ari"].mean()), 4),
        "stability_ari_seeds": round(float(by_kind.get("other seed", np.nan)), 4),
        "stability_ari_bootstrap": round(float(by_kind.get("bootstrap", np.nan)), 4),
        "sizes": {str(n): int(c) for n, c in zip(summary["segment_name"], summary["customers"], strict=True)},
        "names": {str(n): str(label) for n, label in zip(summary["segment_name"], summary["label"], strict=True)},
        "features": seg.features,
        "log_features": seg.log_features,
        "pca_components": int(seg.model["pca"].n_components_),
        "customers": int(len(seg.labels)),
    }


# ----------------------------------------------------------------------------------------------- charts


def plot_k_selection(seg: Segmentation, language: str = "en"):
    """Elbow (inertia) and silhouette against k side by side, the chosen k marked."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    sns.lineplot(seg.scores, x="k", y="inertia", marker="o", ax=left)
    left.set(title=t("seg.chart.elbow_title", language), ylabel=t("seg.chart.elbow_y", language))
    sns.lineplot(seg.scores, x="k", y="silhouette", marker="o", ax=right)
    right.set(title=t("seg.chart.silhouette_title", language), ylabel=t("seg.chart.silhouette_y", language))
    for ax in (left, right):
        ax.axvline(seg.k, ls="--", color="grey")
        ax.set_xticks(seg.scores["k"])
        ax.set_xlabel(t("seg.chart.k_axis", language))
    right.annotate(t("seg.chart.chosen_k", language, k=seg.k), (seg.k, seg.silhouette), xytext=(8, -14),
                   textcoords="offset points")
    fig.tight_layout()
    return fig


def plot_centroid_heatmap(centroids: pd.DataFrame, names: pd.DataFrame, language: str = "en"):
    """Standardized centroid of each segment (features as rows): red above average, blue below."""
    table = centroids.T.rename(columns=names.set_index("segment")["label"],
                               index=lambda f: feature_label(f, language))
    fig, ax = plt.subplots(figsize=(1.6 * table.shape[1] + 4, 0.42 * table.shape[0] + 1.5))
    lim = max(1.0, float(np.nanmax(np.abs(table.to_numpy()))))
    sns.heatmap(table, cmap="RdBu_r", center=0, vmin=-lim, vmax=lim, annot=True, fmt=".1f",
                cbar_kws={"label": t("seg.chart.heatmap_bar", language)}, ax=ax)
    ax.set(xlabel="", ylabel="", title=t("seg.chart.heatmap_title", language))
    ax.tick_params(axis="x", rotation=20)
    return fig


def segment_map(features: pd.DataFrame, seg: Segmentation, shown_names: pd.Series,
                random_state: int = SEED) -> pd.DataFrame:
    """2-D PCA coordinates of a seeded sample of customers with their reported segment name."""
    common = shown_names.index
    rows = _sample_rows(len(common), SCATTER_POINTS, random_state)
    z = _standardized(seg.model, features.loc[common[rows]])
    xy = PCA(2, random_state=random_state).fit_transform(z.to_numpy())
    return pd.DataFrame({"pc1": xy[:, 0], "pc2": xy[:, 1], "segment_name": shown_names.iloc[rows].to_numpy()})


def plot_segment_map(coords: pd.DataFrame, palette: dict, language: str = "en"):
    """Customers on the first two principal components, coloured by segment."""
    fig, ax = plt.subplots(figsize=(8, 6))
    order = [n for n in palette if n in set(coords["segment_name"])]
    sns.scatterplot(coords, x="pc1", y="pc2", hue="segment_name", hue_order=order, palette=palette, s=12, alpha=0.6,
                    linewidth=0, ax=ax)
    ax.set(xlabel=t("seg.chart.pc", language, n=1), ylabel=t("seg.chart.pc", language, n=2),
           title=t("seg.chart.map_title", language))
    ax.legend(title=t("seg.chart.legend", language), fontsize=9, markerscale=2)
    return fig


def plot_segment_value(summary: pd.DataFrame, language: str = "en"):
    """Share of customers against share of revenue per segment (names from ``summary['label']``)."""
    cols = [c for c in ("share_customers", "share_revenue") if c in summary.columns]
    long = summary.melt(id_vars="label", value_vars=cols, var_name="measure", value_name="share")
    long["measure"] = long["measure"].map({c: t(f"seg.chart.{c}", language) for c in cols})
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(summary) * len(cols) + 1.5))
    sns.barplot(long, y="label", x="share", hue="measure", ax=ax)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set(xlabel=t("seg.chart.value_x", language), ylabel="", title=t("seg.chart.value_title", language))
    ax.legend(title="")
    return fig
