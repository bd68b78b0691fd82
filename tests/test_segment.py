"""Segmentation: k chosen by silhouette finds planted groups, results are reproducible, small segments hidden."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from cxnb.config import load_params
from cxnb.context import open_run
from cxnb.demo import generate_demo
from cxnb.errors import CxnbError
from cxnb.i18n import LANGUAGES, catalogue
from cxnb.privacy import OTHER
from cxnb.profile import LABELLED_FEATURES, customer_profiles
from cxnb.segment import (
    NAMING_RULES,
    STABILITY_KINDS,
    assign_segments,
    explain_k_choice,
    feature_profile,
    fit_segments,
    name_segments,
    naming_rules_table,
    reported_names,
    scree_components,
    segment_stability,
    segment_summary,
    segmentation_features,
    segmentation_metrics,
    segments_export,
    skewed_features,
    stability_verdict,
    standardized_centroids,
    suppression_note,
)
from tests.conftest import write_params

# (annual income k$, spending score 1-100, customers): the classic mall-customers picture.
MALL_GROUPS = [(26, 20, 23), (26, 79, 22), (55, 50, 80), (87, 18, 36), (86, 82, 39)]


def mall_customers(seed: int = 0) -> pd.DataFrame:
    """About 200 customers in five visibly separate income / spending-score groups."""
    rng = np.random.default_rng(seed)
    parts = [pd.DataFrame({"annual_income": rng.normal(inc, 6, n), "spending_score": rng.normal(score, 6, n)})
             for inc, score, n in MALL_GROUPS]
    df = pd.concat(parts, ignore_index=True).round(0).clip(lower=1)
    df.insert(0, "CustomerID", np.arange(1, len(df) + 1))
    df["gender"] = rng.choice(["Female", "Male"], size=len(df))
    df["age"] = rng.integers(18, 70, size=len(df))
    df["group"] = np.repeat(np.arange(len(MALL_GROUPS)), [n for *_, n in MALL_GROUPS])
    return df


@pytest.fixture(scope="module")
def mall_run(tmp_path_factory):
    """A customers-only client whose parameter file names the two attributes to segment on."""
    folder = tmp_path_factory.mktemp("mall")
    mall_customers().drop(columns="group").to_csv(folder / "mall.csv", index=False)
    path = write_params(folder, """
        client: mall
        data:
          customers:
            source: mall.csv
            columns: {customer_id: CustomerID}
        analysis:
          segmentation: {k: auto, k_range: [2, 10], features: [annual_income, spending_score]}
        privacy: {pseudonymize_ids: false, min_group_size: 10}
    """)
    return open_run(load_params(path), folder / "run")


@pytest.fixture(scope="module")
def mall_seg(mall_run):
    cfg = mall_run.params.analysis.segmentation
    features = segmentation_features(mall_run, cfg.features)
    return features, fit_segments(features, cfg.k, cfg.k_range, cfg.seed)


def test_customers_only_table_gives_five_segments_from_the_parameter_file(mall_seg):
    features, seg = mall_seg
    assert list(features.columns) == ["annual_income", "spending_score"]
    assert seg.k == 5 and seg.k_chosen_by == "silhouette_and_stability"
    truth = mall_customers().set_index(mall_customers()["CustomerID"].astype(str))["group"]
    assert adjusted_rand_score(truth.loc[seg.labels.index.astype(str)], seg.labels) > 0.95
    assert seg.silhouette > 0.6


def test_same_seed_gives_identical_results(mall_seg):
    features, seg = mall_seg
    again = fit_segments(features, "auto", (2, 10), 42)
    pd.testing.assert_series_equal(seg.labels, again.labels)
    pd.testing.assert_frame_equal(seg.scores, again.scores)


def test_segments_are_numbered_by_size_and_assignable(mall_seg):
    features, seg = mall_seg
    sizes = seg.labels.value_counts().sort_index()
    assert list(sizes.index) == list(range(1, seg.k + 1)) and sizes.is_monotonic_decreasing
    pd.testing.assert_series_equal(assign_segments(features.reset_index(), seg.model), seg.labels)
    new = pd.DataFrame({"annual_income": [25.0, 88.0], "spending_score": [80.0, 15.0]}, index=["a", "b"])
    assigned = assign_segments(new, seg.model)
    centroids = features.groupby(seg.labels).mean()
    assert centroids.loc[assigned["a"], "spending_score"] > 65 and centroids.loc[assigned["a"], "annual_income"] < 40
    assert centroids.loc[assigned["b"], "spending_score"] < 35 and centroids.loc[assigned["b"], "annual_income"] > 70


def test_stability_and_metrics(mall_seg):
    features, seg = mall_seg
    stability = segment_stability(features, seg, runs=3)
    assert set(stability["kind"]) == {"other seed", "bootstrap"} and stability["ari"].min() > 0.9
    names = name_segments(standardized_centroids(features, seg))
    summary = segment_summary(seg.labels, names, min_size=10)
    metrics = segmentation_metrics(seg, stability, summary).as_json()
    assert metrics["k"] == 5 and metrics["features"] == ["annual_income", "spending_score"]
    assert sum(metrics["sizes"].values()) == len(features) and metrics["stability_ari"] > 0.9
    assert names["segment_name"].is_unique and "High annual income, low spending score" in set(names["segment_name"])
    assert metrics["names"] == dict(zip(names["segment_name"], names["label"], strict=True))


def test_chinese_names_text_and_export_keep_english_keys(mall_seg):
    features, seg = mall_seg
    centroids = standardized_centroids(features, seg)
    en, zh = name_segments(centroids), name_segments(centroids, "zh")
    assert (en["label"] == en["segment_name"]).all()
    pd.testing.assert_series_equal(zh["segment_name"], en["segment_name"])
    assert zh["label"].is_unique and "Annual income高、spending score低" in set(zh["label"])
    summary = segment_summary(seg.labels, zh, min_size=10, language="zh")
    metrics = segmentation_metrics(seg, segment_stability(features, seg, runs=1), summary).as_json()
    assert set(metrics["sizes"]) == set(en["segment_name"]) and set(metrics["names"].values()) == set(zh["label"])
    export = segments_export(seg.labels, zh, min_size=10, language="zh")
    assert list(export.columns) == ["customer_id", "segment", "segment_name"]
    assert set(export["segment_name"]) == set(zh["label"])
    assert list(feature_profile(features, seg.labels, zh, 10, "zh").columns.levels[1]) == ["中位数", "平均值"]
    assert "轮廓系数最高" in explain_k_choice(seg, "zh") and "k = 5" in explain_k_choice(seg, "zh")
    assert stability_verdict(pd.DataFrame({"ari": [0.5]}), language="zh").startswith("警告")


def test_bad_feature_name_is_one_line_error_listing_what_exists(mall_run):
    with pytest.raises(CxnbError, match=r"'income'.*did you mean 'annual_income'.*available.*spending_score") as e:
        segmentation_features(mall_run, ["income", "spending_score"])
    assert "\n" not in str(e.value)
    with pytest.raises(CxnbError, match="'gender' is not numeric"):
        segmentation_features(mall_run, ["gender"])


def test_small_segments_are_merged_or_suppressed():
    labels = pd.Series([1] * 50 + [2] * 30 + [3] * 6 + [4] * 5, index=[f"c{i}" for i in range(91)])
    names = pd.DataFrame({"segment": [1, 2, 3, 4], "segment_name": ["A", "B", "C", "D"],
                          "label": ["甲", "乙", "丙", "丁"], "action": ["x"] * 4})
    summary = segment_summary(labels, names, min_size=10, language="zh")
    assert list(summary["segment_name"]) == ["A", "B", OTHER] and list(summary["customers"]) == [50, 30, 11]
    assert list(summary["label"]) == ["甲", "乙", "其他"]
    assert set(reported_names(labels.iloc[:86], names, min_size=10)) == {"A", "B"}
    export = segments_export(labels, names, min_size=10)
    assert len(export) == 91 and set(export["segment"]) == {1, 2, OTHER}
    assert (export.loc[export["segment"] == OTHER, "segment_name"] == OTHER).sum() == 11
    assert set(segments_export(labels, names, min_size=10, language="zh")["segment_name"]) == {"甲", "乙", "其他"}
    assert "3、4" in suppression_note(labels, 10, "zh") and "[3, 4]" not in suppression_note(labels, 10)


def test_helpers():
    assert scree_components(np.array([3.3, 2.3, 2.0, 1.2, 1.1, 0.9])) == 3
    assert scree_components(np.array([1.05, 0.95])) == 1
    df = pd.DataFrame({"skewed": np.exp(np.linspace(0, 5, 100)), "flat": np.linspace(0, 1, 100),
                       "negative": np.exp(np.linspace(0, 5, 100)) - 10})
    assert skewed_features(df) == ["skewed"]
    assert len(naming_rules_table()) >= 5


def test_computed_message_keys_exist_in_every_language():
    keys = [f"seg.rule.{r.key}.{part}" for r in NAMING_RULES for part in ("name", "action")]
    keys += [f"feature.{f}" for f in LABELLED_FEATURES] + list(STABILITY_KINDS.values())
    keys += [f"seg.col.{c}" for c in ("order", "segment", "when", "action", "mean", "median")]
    for lang in LANGUAGES:
        assert not set(keys) - set(catalogue(lang)), lang
        names = {str(r.name(lang)) for r in NAMING_RULES}
        assert len(names) == len(NAMING_RULES), f"two naming rules share a name in {lang}"
    assert "标准差" in naming_rules_table("zh").iloc[0, 2]


def _clean_demo():
    demo = generate_demo()
    tx = demo.transactions.dropna(subset=["customer_id"])
    tx = tx[(tx["quantity"] > 0) & (tx["price"] > 0)].drop_duplicates()
    tx = tx.assign(amount=tx["quantity"] * tx["price"], timestamp=pd.to_datetime(tx["timestamp"]))
    return customer_profiles(tx, demo.items), demo.truth


@pytest.mark.slow
def test_demo_finds_the_four_planted_segments():
    profiles, truth = _clean_demo()
    features = segmentation_features(profiles)
    seg = fit_segments(features)
    assert seg.k == 4
    planted = truth.set_index("customer_id").loc[seg.labels.index, "segment_code"]
    assert adjusted_rand_score(planted, seg.labels) >= 0.8
    names = name_segments(standardized_centroids(features, seg))
    assert {"High-value loyal", "Big-ticket buyers", "Recently joined", "Occasional low-spend"} == set(
        names["segment_name"])
    pd.testing.assert_series_equal(assign_segments(profiles, seg.model), seg.labels)


def test_choose_k_takes_the_more_stable_of_near_best_silhouettes():
    from cxnb.segment import choose_k

    scores = pd.DataFrame({"k": [3, 4, 5, 6], "silhouette": [0.40, 0.38, 0.30, 0.37],
                           "stability": [0.71, 0.95, np.nan, 0.60]})
    assert choose_k(scores) == 4  # 0.38 is within 90% of 0.40 and reproduces better; k = 5 is too far off
    assert choose_k(scores.assign(stability=[0.95, 0.95, np.nan, 0.6])) == 3  # a tie goes to the silhouette
    assert choose_k(scores.drop(columns="stability")) == 3


def test_skewed_data_without_clusters_is_called_a_partition_in_both_languages():
    from cxnb.segment import explain_k_choice, structure_strength

    rng = np.random.default_rng(3)
    features = pd.DataFrame({"monetary": rng.lognormal(4, 1, 3000), "frequency": rng.lognormal(1, 0.8, 3000),
                             "days_since_last_order": rng.exponential(120, 3000)},
                            index=pd.Index([f"C{i}" for i in range(3000)], name="customer_id"))
    seg = fit_segments(features, "auto", (3, 8))
    best = seg.scores["silhouette"].max()
    assert best < 0.5 and structure_strength(best) in {"weak", "none"}
    assert "not as groups discovered" in explain_k_choice(seg) or "no natural clusters" in explain_k_choice(seg)
    assert "不是在数据中发现的天然群体" in explain_k_choice(seg, "zh") or "没有自然分群" in explain_k_choice(seg, "zh")
    assert seg.k >= 3 and seg.scores["stability"].notna().any()


def test_planted_blobs_are_called_clear_groups():
    from cxnb.segment import explain_k_choice

    rng = np.random.default_rng(5)
    centres = np.array([[0, 0], [8, 0], [0, 8], [8, 8]])
    x = np.vstack([c + rng.normal(0, 0.7, (300, 2)) for c in centres])
    features = pd.DataFrame(x + 20, columns=["a", "b"], index=pd.RangeIndex(len(x), name="customer_id"))
    seg = fit_segments(features, "auto", (3, 8))
    assert seg.k == 4 and "clearly separated groups" in explain_k_choice(seg)
