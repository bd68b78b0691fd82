"""The executive summary (cxnb.summary) and the handover bundle (cxnb.bundle)."""

from __future__ import annotations

from cxnb.summary import findings, format_value, headline_figures

METRICS = {
    "data_quality": {"customers": 5000, "orders": 38385, "rows_read": 95093, "rows_kept": 94683, "rows_removed": 410,
                     "revenue": 2506771.79, "first_date": "2023-01-01", "last_date": "2024-12-31"},
    "requirement_analysis": {"customers": 5000, "champions_share_revenue": 0.48, "median_orders": 5.0,
                             "median_days_since_last_order": 143.3, "top_segment": "Hibernating",
                             "rfm_segments": {"Champions": 600, "Hibernating": 1450}},
    "behavior_prediction": {"logit": {"auc": 0.84, "top_decile_lift": 3.1}, "random_forest": {"auc": 0.86},
                            "base_rate": 0.265, "label_source": "horizon"},
    "segmentation": {"k": 4, "silhouette": 0.41, "stability_ari": 0.95, "sizes": {"0": 100, "1": 300}},
    "recommendation": {"k": 10, "popularity": {"precision@10": 0.10, "coverage": 0.02},
                       "item_cf": {"precision@10": 0.141, "coverage": 0.35},
                       "decision": {"verdict": "better", "model": "item_cf", "metric": "precision", "k": 10,
                                    "difference": 0.041, "ci_low": 0.02, "ci_high": 0.06, "n_customers": 900,
                                    "personal": 0.141, "baseline": 0.10}},
}


def test_findings_are_sentences_built_from_the_metrics():
    f = findings(METRICS, "en")
    assert f["data_quality"][0] == ("The data covers 5,000 customers who placed 38,385 orders between 2023-01-01 "
                                    "and 2024-12-31, for a revenue of 2,506,772.")
    assert "12% of customers, the Champions, bring 48% of revenue." in f["requirement_analysis"]
    assert f["behavior_prediction"][0].startswith("Targeting the top tenth of customers by predicted probability "
                                                  "reaches 3.1× as many buyers as a random mailing")
    assert "random forest" in f["behavior_prediction"][1]
    assert f["segmentation"][0] == "Customers fall into 4 segments (silhouette 0.41)."
    assert f["recommendation"][0] == ("Personalized recommendations (item-item collaborative filtering) beat "
                                      "bestsellers: precision@10 0.141 vs 0.100, +4.1 percentage points per "
                                      "customer (95% interval +2.0 to +6.0, 900 customers).")
    assert f["recommendation"][1] == "Personalized lists use 35% of the catalogue."


def test_given_label_findings_do_not_talk_of_buyers():
    metrics = {"behavior_prediction": {**METRICS["behavior_prediction"], "label_source": "given"}}
    sentences = findings(metrics, "en")["behavior_prediction"]
    assert all("buyer" not in s for s in sentences)
    assert "with the outcome" in sentences[0]


def test_findings_say_so_when_bestsellers_win():
    decision = {"verdict": "worse", "model": "ease", "k": 10, "difference": -0.012, "ci_low": -0.02,
                "ci_high": -0.004, "n_customers": 700, "personal": 0.188, "baseline": 0.2}
    metrics = {"recommendation": {"k": 10, "popularity": {"precision@10": 0.2}, "ease": {"precision@10": 0.188},
                                  "decision": decision}}
    said = findings(metrics, "en")["recommendation"]
    assert said == ["Bestsellers beat personalized recommendations (EASE) for this client (precision@10 0.200 vs "
                    "0.188; difference -1.2 points, 95% interval -2.0 to -0.4, 700 customers), so the export keeps "
                    "bestsellers."]
    unclear = {**metrics["recommendation"], "decision": {**decision, "verdict": "no_difference", "ci_high": 0.01}}
    said = findings({"recommendation": unclear}, "zh")["recommendation"]
    assert len(said) == 1 and "并不比畅销榜明显更好" in said[0] and "包含零" in said[0]


def test_no_recommendation_claim_without_a_decision():
    metrics = {"recommendation": {"k": 10, "popularity": {"precision@10": 0.1}, "ease": {"precision@10": 0.3}}}
    assert findings(metrics, "en")["recommendation"] == []


def test_chinese_findings():
    f = findings(METRICS, "zh")
    assert f["segmentation"][0] == "客户可分为 4 个细分（轮廓系数 0.41）。"
    assert "冠军客户" in f["requirement_analysis"][0]


def test_skipped_stage_has_no_findings():
    assert findings({"recommendation": {"skipped": "no item ids"}}, "en")["recommendation"] == []


def test_headline_values_are_formatted_consistently():
    rows = dict((k, v) for k, _, v in headline_figures(METRICS)["segmentation"])
    assert rows == {"k": 4, "silhouette": 0.41, "stability_ari": 0.95}
    assert format_value(2506771.79) == "2,506,772"
    assert format_value(0.41) == "0.41"


def test_segment_structure_is_stated_when_the_clusters_are_weak():
    from cxnb.summary import findings

    base = {"k": 3, "silhouette": 0.31, "sizes": {"A": 500, "B": 400, "C": 300}, "names": {}, "customers": 1200,
            "stability_ari": 0.9}
    weak = findings({"segmentation": {**base, "structure": "weak"}}, "en")["segmentation"]
    assert any("only weak natural clusters" in s for s in weak)
    clear = findings({"segmentation": {**base, "structure": "clear", "silhouette": 0.61}}, "zh")["segmentation"]
    assert not any("自然分群" in s for s in clear)
