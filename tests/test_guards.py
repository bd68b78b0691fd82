"""Parameters that meet too little data, small groups under privacy.min_group_size, and true privacy claims."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxnb.config import load_params
from cxnb.constants import COL_CUSTOMER
from cxnb.errors import CxnbError, StageSkipped
from cxnb.guards import check_population, customers_text, ids_note
from cxnb.i18n import LANGUAGES, catalogue
from cxnb.privacy import OTHER
from cxnb.profile import (
    needs_metrics,
    profile_export,
    rfm_grid,
    rfm_scores,
    rfm_segment_summary,
    rfm_suppression_note,
)
from cxnb.segment import (
    MAX_K,
    explain_k_choice,
    fit_segments,
    name_segments,
    names_table,
    segment_stability,
    segment_summary,
    segmentation_metrics,
    segments_export,
    shown_segments,
    standardized_centroids,
)
from cxnb.summary import findings, headline_figures
from tests.conftest import ROOT, segmentation_entry, write_params

MAPPING = "{customer_id: CustomerID, timestamp: InvoiceDate, amount: Amount}"
OWN_CATALOGUES = ("segmentation", "summary", "requirement_analysis", "behavior_prediction", "recommendation")
PSEUDONYM_WORDS = re.compile(r"\bpseudonym(s|i[sz]ed)?\b|假名|化名", re.IGNORECASE)  # not the key pseudonymize_ids


def _params(tmp_path, privacy: str = "", analysis: str = ""):
    (tmp_path / "o.csv").write_text("CustomerID,InvoiceDate,Amount\nA,2021-01-05,10\n")
    return load_params(write_params(tmp_path, f"""
        client: t
        data: {{transactions: {{source: o.csv, columns: {MAPPING}}}}}
        privacy: {{{privacy}}}
        analysis: {{{analysis}}}
    """))


def _blobs(n_per: int = 60, centres=((0, 0, 0), (6, 6, 0), (0, 6, 6)), seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = np.vstack([rng.normal(c, 0.5, size=(n_per, 3)) for c in centres])
    return pd.DataFrame(rows + 10, columns=["a", "b", "c"], index=[f"c{i}" for i in range(len(rows))])


def _profiles(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({COL_CUSTOMER: [f"c{i}" for i in range(n)],
                         "days_since_last_order": rng.integers(1, 400, n).astype(float),
                         "frequency": rng.integers(1, 30, n).astype(float),
                         "monetary": rng.gamma(2, 100, n)})


# ----------------------------------------------------------------------------------------------- privacy claims


def test_ids_sentence_follows_the_setting(tmp_path):
    on, off = _params(tmp_path), _params(tmp_path, "pseudonymize_ids: false")
    assert "pseudonym" in ids_note(on)
    assert "as given by the client" in ids_note(off) and not PSEUDONYM_WORDS.search(ids_note(off))
    assert "pseudonymisation is switched off" in ids_note(off) and "privacy." not in ids_note(off)


def test_no_unconditional_pseudonym_claim_in_stage_texts():
    """Only common.ids.pseudonymized may say ids are pseudonyms; the stage texts take it as {ids}."""
    for lang in LANGUAGES:
        claims = {k for k, v in catalogue(lang).items() if PSEUDONYM_WORDS.search(v)
                  and k.split(".")[0] in ("seg", "summary", "ra", "bp", "rec", "rfm", "common", "dq")}
        assert claims == {"common.ids.pseudonymized"}, (lang, claims)
        assert "{ids}" in catalogue(lang)["seg.export"] and "{ids}" in catalogue(lang)["dq.top"]
    for nb in ("01_data_quality", "02_requirement_analysis", "04_segmentation"):
        text = (ROOT / "notebooks" / f"{nb}.ipynb").read_text(encoding="utf-8")
        assert not PSEUDONYM_WORDS.search(text) and "ids_note(run.params)" in text, nb


# ----------------------------------------------------------------------------------------------- parameters vs data


def test_k_larger_than_the_customers_is_a_one_line_error():
    features = _blobs(20)
    with pytest.raises(CxnbError, match=r"analysis\.segmentation\.k = 80 .*set analysis\.segmentation\.k to 6 or"
                                         r" less, or k: auto") as e:
        fit_segments(features, k=80, min_group_size=10)
    assert "\n" not in str(e.value)
    with pytest.raises(CxnbError, match="k to 15 or less"):  # enough customers, but above the cap
        fit_segments(_blobs(100), k=16, min_group_size=10)


def test_k_that_leaves_segments_under_min_group_size_is_an_error():
    with pytest.raises(CxnbError, match="privacy.min_group_size 30 at most 6 segments"):
        fit_segments(_blobs(60), k=7, min_group_size=30)


def test_huge_k_range_is_clamped_stated_and_recorded():
    features = _blobs(60)
    seg = fit_segments(features, "auto", (2, 3000), min_group_size=20)
    assert seg.k_range == (2, 9) and seg.k_range_requested == (2, 3000)  # 180 customers // 20
    assert seg.scores["k"].max() == 9 and seg.k == 3
    said = explain_k_choice(seg)
    assert "narrowed from 2–3000 to 2–9" in said and "180 customers" in said
    stability = segment_stability(features, seg, runs=1)
    names = name_segments(standardized_centroids(features, seg))
    m = segmentation_metrics(seg, stability, segment_summary(seg.labels, names, 20)).as_json()
    assert m["k_range"] == [2, 9] and m["k_range_requested"] == [2, 3000]
    big = fit_segments(_blobs(400), "auto", (2, 3000), min_group_size=1)
    assert big.k_range == (2, MAX_K)


def test_unclamped_range_says_nothing_about_clamping():
    seg = fit_segments(_blobs(60), "auto", (2, 5), min_group_size=10)
    assert seg.k_range == seg.k_range_requested == (2, 5) and "narrowed" not in explain_k_choice(seg)


def test_range_above_what_fits_is_clamped_from_below_too():
    seg = fit_segments(_blobs(30), "auto", (8, 10), min_group_size=30)  # 90 // 30 = 3
    assert seg.k_range == (3, 3) and seg.k == 3


def test_min_group_size_above_the_customers_skips_with_the_reason(tmp_path):
    params = _params(tmp_path, "min_group_size: 10")
    with pytest.raises(StageSkipped, match=r"only 5 customers, fewer than the smallest group this report shows \(10\)"):
        check_population(5, params)
    with pytest.raises(StageSkipped, match=r"only 1 customer, fewer"):
        check_population(1, params)
    check_population(10, params)
    with pytest.raises(StageSkipped, match="fewer than two segments"):
        fit_segments(_blobs(5), min_group_size=10)


def test_plural():
    assert customers_text(1) == "1 customer" and customers_text(1234) == "1,234 customers"
    assert customers_text(1, "zh") == "1 位客户"


# ----------------------------------------------------------------------------------------------- RFM groups


def test_rfm_groups_under_the_threshold_are_merged_and_never_reported():
    profiles = _profiles(300)
    rfm = rfm_scores(profiles)
    sizes = rfm["rfm_segment"].value_counts()
    min_size = int(sizes.median()) + 1
    small = set(sizes.index[sizes < min_size])
    assert small and small != set(sizes.index)
    summary = rfm_segment_summary(profiles, rfm, min_size)
    assert not small & set(summary["rfm_segment"]) and (summary["customers"] >= min_size).all()
    assert summary.loc[summary["rfm_segment"] == OTHER, "customers"].sum() == sizes[list(small)].sum()
    m = needs_metrics(profiles, summary)
    assert min(m.rfm_segments.values()) >= min_size and m.top_segment not in small | {OTHER}
    assert set(m.rfm_segment_share_revenue) == set(m.rfm_segments)
    assert sum(m.rfm_segment_share_revenue.values()) == pytest.approx(1, abs=1e-3)
    export = profile_export(profiles.assign(first_order=pd.Timestamp("2021-01-01"),
                                            last_order=pd.Timestamp("2021-02-01"), tenure_days=1.0,
                                            avg_order_value=1.0, mean_interpurchase_days=1.0), rfm, min_size, "zh")
    assert export["rfm_segment"].value_counts().index.isin([*sizes.index[sizes >= min_size], OTHER]).all()
    assert set(export.loc[export["rfm_segment"] == OTHER, "rfm_segment_name"]) == {"其他"}
    assert not export["rfm_segment_name"].str.contains("[A-Za-z]").any()
    note = rfm_suppression_note(rfm, min_size)
    assert all(name in note for name in small) and "'other'" in note


def test_rfm_other_is_dropped_when_it_is_still_too_small():
    profiles = _profiles(40)
    rfm = rfm_scores(profiles)
    summary = rfm_segment_summary(profiles, rfm, 30)
    assert summary.empty or (summary["customers"] >= 30).all()
    assert "even together" in rfm_suppression_note(rfm, 30) or OTHER in set(summary["rfm_segment"])


def test_rfm_grid_hides_small_cells():
    rfm = rfm_scores(_profiles(200))
    grid = rfm_grid(rfm, 10)
    shown = grid.stack().dropna()
    assert grid.isna().any().any() and ((shown == 0) | (shown >= 10)).all()


# ----------------------------------------------------------------------------------------------- k-means groups


def test_small_kmeans_segments_leave_no_trace():
    features = _blobs(60, centres=((0, 0, 0), (6, 6, 0), (0, 6, 6), (9, 0, 9)))
    features = features.iloc[:-52]  # the fourth blob keeps 8 customers
    seg = fit_segments(features, k=4, min_group_size=10)
    sizes = seg.labels.value_counts()
    assert sizes.min() < 10
    names = name_segments(standardized_centroids(features, seg))
    small = set(sizes.index[sizes < 10])
    assert not small & set(shown_segments(names, seg.labels, 10)["segment"])
    assert len(names_table(shown_segments(names, seg.labels, 10))) == 3
    export = segments_export(seg.labels, names, 10)
    assert not small & set(export["segment"]) and set(export["segment"]) == {1, 2, 3, OTHER}
    m = segmentation_metrics(seg, segment_stability(features, seg, runs=1), segment_summary(seg.labels, names, 10)).as_json()
    assert min(m["sizes"].values()) >= 10 and len(m["sizes"]) == 3


# ----------------------------------------------------------------------------------------------- index.html


def test_index_sentences_never_describe_small_groups():
    metrics = {"data_quality": {"customers": 12, "orders": 30, "rows_kept": 30, "rows_read": 30, "rows_removed": 0,
                                "revenue": 500.0, "first_date": "2021-01-01", "last_date": "2021-06-01"},
               "requirement_analysis": {"customers": 12, "top_segment": "Champions", "champions_share_revenue": 1.0,
                                        "rfm_segments": {"Champions": 1, "Hibernating": 11}, "median_orders": 2.0,
                                        "median_days_since_last_order": 3.0, "median_monetary": 40.0,
                                        "rfm_segment_share_revenue": {"Champions": 1.0, "Hibernating": 0.0}},
               "segmentation": segmentation_entry(k=2, silhouette=0.5, customers=12, sizes={"A": 11, "B": 1},
                                                  names={"A": "A", "B": "B"})}
    said = " ".join(sum(findings(metrics, "en", min_group_size=10).values(), []))
    assert "Champions" not in said and "100%" not in said and "1 customers" not in said
    assert 'largest is "A" with 92%' in said
    one = " ".join(findings(metrics, "en", min_group_size=1)["requirement_analysis"])
    assert "(1 customer)" in one


def test_client_under_the_threshold_gets_no_figures():
    metrics = {"data_quality": {"customers": 1, "orders": 3, "rows_kept": 3, "rows_read": 3, "rows_removed": 0,
                                "revenue": 123.45, "first_date": "2021-01-01", "last_date": "2021-06-01"}}
    said = findings(metrics, "en", min_group_size=10)
    assert said["data_quality"] == [
        "The data covers only 1 customer, fewer than the smallest group this report shows (10): too few to report on without "
        "identifying someone, so the report shows no figures about them."]
    figures = headline_figures(metrics, "en", min_group_size=10)
    assert [k for k, _, _ in figures["data_quality"]] == ["customers"]
    assert "1 customer who placed 3 orders" in findings(metrics, "en", min_group_size=1)["data_quality"][0]


def test_no_impossible_figures_in_sentences():
    decision = {"verdict": "better", "model": "item_cf", "k": 10, "difference": 0.02, "ci_low": 0.012,
                "ci_high": 0.028, "n_customers": 400, "personal": 0.02, "baseline": 0.0}
    from tests.conftest import recommendation_entry

    metrics = {"recommendation": recommendation_entry(decision, popularity={"precision": 0.0},
                                                      item_cf={"precision": 0.02}),
               "segmentation": segmentation_entry(k=2, silhouette=float("nan"), stability_ari=0.9)}
    said = " ".join(sum(findings(metrics, "en").values(), []))
    assert "∞" not in said and "inf" not in said and "0.020 vs 0.000, +2.0 percentage points" in said
    assert all(k != "silhouette" for k, _, _ in headline_figures(metrics)["segmentation"])


# ----------------------------------------------------------------------------------------------- end to end


def _tiny_client(tmp_path, customers: int, extra: str = "") -> Path:
    rows = [f"C{i},2021-{1 + j % 12:02d}-{1 + (i * 7 + j) % 27:02d},{10 + i + j}"
            for i in range(customers) for j in range(1 + i % 4)]
    folder = tmp_path / "client"
    folder.mkdir()
    (folder / "o.csv").write_text("CustomerID,InvoiceDate,Amount\n" + "\n".join(rows) + "\n")
    return write_params(folder, f"""
        client: tiny
        data: {{transactions: {{source: o.csv, columns: {MAPPING}}}}}
        {extra}
    """)


@pytest.mark.slow
@pytest.mark.parametrize("customers", [1, 5])
def test_tiny_client_reports_no_figures(tmp_path, customers):
    from cxnb.report import run_report

    out = run_report(_tiny_client(tmp_path, customers), out=tmp_path / "out",
                     only=["data_quality", "requirement_analysis", "segmentation"])
    metrics = json.loads((out / "metrics.json").read_text())
    for stage in ("requirement_analysis", "segmentation"):
        assert "too few to report on without identifying someone" in metrics[stage]["skipped"]
    assert metrics["data_quality"] == {"customers": customers,
                                       "figures_withheld": "fewer customers than privacy.min_group_size (10)"}
    index = (out / "index.html").read_text()
    assert "customers)" not in index and "revenue" not in index.lower() and "1 customers" not in index
    assert f"only {customers_text(customers)}" in index
    assert not (out / "exports" / "customer_profiles.csv").exists()


@pytest.mark.slow
def test_tiny_client_with_too_large_k_exits_with_one_line(tmp_path):
    from cxnb.report import run_report

    params = _tiny_client(tmp_path, 60, "analysis: {segmentation: {k: 7}}")
    with pytest.raises(CxnbError, match=r"analysis\.segmentation\.k = 7 is too large.*k to 6 or less"):
        run_report(params, out=tmp_path / "out", only=["segmentation"])


@pytest.mark.slow
def test_demo_with_a_high_threshold_and_raw_ids(tmp_path):
    """min_group_size 1000 puts most RFM segments and k-means segment 4 (941 customers) under the threshold."""
    from cxnb.report import run_report

    text = (ROOT / "params" / "demo.yaml").read_text().replace("min_group_size: 10", "min_group_size: 1000")
    text = text.replace("pseudonymize_ids: true", "pseudonymize_ids: false")
    params = tmp_path / "demo.yaml"
    params.write_text(text)
    out = run_report(params, out=tmp_path / "out", only=["data_quality", "requirement_analysis", "segmentation"])
    metrics = json.loads((out / "metrics.json").read_text())
    ra, seg = metrics["requirement_analysis"], metrics["segmentation"]
    assert min(ra["rfm_segments"].values()) >= 1000 and ra["champions_share_revenue"] is None
    assert seg["k"] == 4 and seg["k_range"] == [3, 5] and min(seg["sizes"].values()) >= 1000
    assert len(seg["sizes"]) == 3
    segments = pd.read_csv(out / "exports" / "segments.csv", dtype=str)
    assert set(segments["segment"]) == {"1", "2", "3", OTHER}
    assert (segments["segment"] == OTHER).sum() == 941
    profiles = pd.read_csv(out / "exports" / "customer_profiles.csv")
    assert profiles["rfm_segment"].value_counts().min() >= 1000
    html = "".join((out / f"{nb}.html").read_text() for nb in ("01_data_quality", "02_requirement_analysis",
                                                               "04_segmentation"))
    assert "as given by the client" in html and not PSEUDONYM_WORDS.search(html)
    assert "narrowed from 3–10 to 3–5" in html
    index = (out / "index.html").read_text()
    assert "Champions" not in index and not re.search(r"\(\d{1,3} customers?\)", index)
