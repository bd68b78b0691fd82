"""The executive summary (cxnb.summary) and the handover bundle (cxnb.bundle)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cxnb.summary import findings, format_value, headline_figures
from tests.conftest import journey_entry, recommendation_entry, segmentation_entry, value_entry

GAINS = {"share_targeted": [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
         "gain": [0.12, 0.22, 0.41, 0.57, 0.69, 0.79, 0.87, 0.93, 0.97, 0.99, 1.0]}
NO_RULE = {"recency_rule_days": None, "recency_rule_direction": None, "recency_rule_auc": None,
           "recency_rule_auc_ci": None}
RULE = {"recency_rule_days": 91, "recency_rule_direction": "recent", "recency_rule_auc": 0.87,
        "recency_rule_auc_ci": [0.85, 0.89]}


def _model(auc, grade, gain=0.03, low=0.02, high=0.04, lift=2.2):
    """One model's entry of metrics.json (``ModelScores``), the figures the index reads set."""
    return {"auc": auc, "auc_ci": [auc - 0.02, auc + 0.02], "grade": grade, "top_decile_lift": lift,
            "auc_gain_vs_rule": gain, "gain_ci_low": low, "gain_ci_high": high, "gains": GAINS, "accuracy": 0.8,
            "precision": 0.7, "recall": 0.8, "f1": 0.75, "brier": 0.12, "auc_cv_mean": auc, "auc_cv_sd": 0.01}


def _prediction(logit, decision_tree, random_forest, **figures):
    """A ``behavior_prediction`` entry of metrics.json (``PredictionMetrics``)."""
    return {"logit": logit, "decision_tree": decision_tree, "random_forest": random_forest, "n_train": 3750,
            "n_test": 1250, "base_rate": 0.41, "label_source": "horizon", "threshold": 0.41, "logit_method": "mle",
            "excluded_features": [], "leaking_features": {}, "samples": {}, **RULE, **figures}


METRICS = {
    "data_quality": {"customers": 5000, "orders": 38385, "rows_read": 95093, "rows_kept": 94683, "rows_removed": 410,
                     "revenue": 2506771.79, "first_date": "2023-01-01", "last_date": "2024-12-31"},
    "requirement_analysis": {"customers": 5000, "champions_share_revenue": 0.48, "median_orders": 5.0,
                             "median_days_since_last_order": 143.3, "median_monetary": 250.0,
                             "top_segment": "Hibernating", "rfm_segments": {"Champions": 600, "Hibernating": 1450},
                             "rfm_segment_share_revenue": None},
    "behavior_prediction": _prediction(_model(0.84, "A", None, None, None, lift=3.1),
                                       _model(0.80, "A", None, None, None, lift=2.5),
                                       _model(0.86, "A", None, None, None, lift=3.3), base_rate=0.265, **NO_RULE),
    "segmentation": segmentation_entry(k=4, silhouette=0.41, stability_ari=0.95, sizes={"0": 100, "1": 300}),
    "recommendation": recommendation_entry(
        {"verdict": "better", "model": "item_cf", "k": 10, "difference": 0.041, "ci_low": 0.02, "ci_high": 0.06,
         "n_customers": 900, "personal": 0.141, "baseline": 0.10},
        popularity={"precision": 0.10, "coverage": 0.02}, item_cf={"precision": 0.141, "coverage": 0.35}),
}


def test_findings_are_sentences_built_from_the_metrics():
    f = findings(METRICS, "en")
    assert f["data_quality"][0] == ("The data covers 5,000 customers who placed 38,385 orders between 2023-01-01 "
                                    "and 2024-12-31, for a revenue of 2,506,772.")
    assert "12% of customers, the Champions, bring 48% of revenue." in f["requirement_analysis"]
    assert f["behavior_prediction"][0] == ("Targeting the top tenth of customers by predicted probability reaches "
                                           "3.3× as many buyers as a random mailing (random forest, AUC 0.86).")
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
    metrics = {"recommendation": recommendation_entry(decision, popularity={"precision": 0.2},
                                                      ease={"precision": 0.188})}
    said = findings(metrics, "en")["recommendation"]
    assert said == ["Bestsellers beat personalized recommendations (EASE) for this client (precision@10 0.200 vs "
                    "0.188; difference -1.2 points, 95% interval -2.0 to -0.4, 700 customers), so the export keeps "
                    "bestsellers."]
    unclear = {**metrics["recommendation"], "decision": {**metrics["recommendation"]["decision"],
                                                         "verdict": "no_difference", "ci_high": 0.01}}
    said = findings({"recommendation": unclear}, "zh")["recommendation"]
    assert len(said) == 1 and "并不比畅销榜明显更好" in said[0] and "包含零" in said[0]


def test_a_recommendation_entry_without_its_decision_is_refused():
    entry = {k: v for k, v in METRICS["recommendation"].items() if k != "decision"}
    with pytest.raises(ValidationError, match="decision"):
        findings({"recommendation": entry}, "en")


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
    weak = findings({"segmentation": segmentation_entry(**base, structure="weak")}, "en")["segmentation"]
    assert any("only weak natural clusters" in s for s in weak)
    clear = findings({"segmentation": segmentation_entry(**{**base, "structure": "clear", "silhouette": 0.61})},
                     "zh")["segmentation"]
    assert not any("自然分群" in s for s in clear)


# --- index.html: headline charts and "What to do next" -------------------------------------------------------

FULL = {
    "data_quality": METRICS["data_quality"],
    "requirement_analysis": {**METRICS["requirement_analysis"],
                             "rfm_segments": {"Champions": 760, "Hibernating": 1500, "At risk": 430,
                                              "Can't lose them": 74, "Loyal": 880},
                             "rfm_segment_share_revenue": {"Champions": 0.31, "Hibernating": 0.08, "At risk": 0.12,
                                                           "Can't lose them": 0.04, "Loyal": 0.3}},
    "behavior_prediction": _prediction(_model(0.91, "A"), _model(0.89, "A"), _model(0.90, "A")),
    "recommendation": METRICS["recommendation"],
    "customer_journey": journey_entry(period="month", cohorts=23, retention={"period_1": 0.36, "period_3": 0.32},
                                      retention_curve=[0.36, 0.35, 0.32, 0.31, 0.30],
                                      funnel=[{"name": "view", "customers": 9000}, {"name": "cart", "customers": 5900},
                                              {"name": "purchase", "customers": 4500}]),
    "customer_value": value_entry(customers=5000, horizon_days=365, concentration=0.64, mean_clv=120.5,
                                  concentration_curve={"share_customers": GAINS["share_targeted"],
                                                       "share_value": [0.25, 0.41, 0.64, 0.78, 0.87, 0.92, 0.96,
                                                                       0.98, 0.99, 1.0, 1.0]}),
}


def _index(tmp_path, metrics, language="en", min_group_size=None):
    """Write index.html from ``metrics`` with the demo parameters; returns the parsed page."""
    from bs4 import BeautifulSoup

    from cxnb.config import load_params
    from cxnb.summary import write_index
    from tests.conftest import ROOT

    params = load_params(ROOT / "params" / "demo.yaml")
    privacy = params.privacy.model_copy(update={"min_group_size": min_group_size or params.privacy.min_group_size})
    params = params.model_copy(update={"language": language, "privacy": privacy})
    path = write_index(tmp_path, params, metrics)
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _charts(soup) -> dict:
    return {fig["data-chart"]: fig.find("img") for fig in soup.select("figure.chart")}


def _actions(soup) -> list[str]:
    return [li.get_text() for li in soup.select("section.actions li")]


def test_index_shows_a_png_chart_with_alt_text_for_each_stage_with_data(tmp_path):
    import base64

    charts = _charts(_index(tmp_path, FULL))
    assert set(charts) == {"rfm", "gains", "funnel", "value"}
    for img in charts.values():
        assert img["src"].startswith("data:image/png;base64,")
        png = base64.b64decode(img["src"].split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
        assert len(img["alt"]) > 40
    assert "Champions: 15% of customers, 31% of revenue" in charts["rfm"]["alt"]
    assert "top 10% of customers by score reaches 22% of all buyers" in charts["gains"]["alt"]
    assert "purchase: 4,500 (50% of the first step)" in charts["funnel"]["alt"]
    assert "top 20% of customers hold 64%" in charts["value"]["alt"]


def test_retention_curve_replaces_the_missing_funnel_and_absent_data_gives_no_chart(tmp_path):
    journey = {**FULL["customer_journey"], "funnel": None}
    metrics = {**FULL, "customer_journey": journey, "behavior_prediction": {"skipped": "too few buyers"},
               "customer_value": {"skipped": "no amounts"}}
    charts = _charts(_index(tmp_path, metrics))
    assert set(charts) == {"rfm", "retention"}
    assert "36% after one month, 30% after 5" in charts["retention"]["alt"]
    soup = _index(tmp_path, {"data_quality": METRICS["data_quality"]})
    assert soup.select("section.charts") == [] and soup.select("img") == []


def test_no_chart_and_no_action_for_a_client_under_min_group_size(tmp_path):
    soup = _index(tmp_path, FULL, min_group_size=6000)
    assert soup.select("img") == [] and soup.select("section.actions") == []
    assert "too few to report on" in soup.get_text()


def test_charts_leave_out_groups_under_min_group_size(tmp_path):
    from cxnb.predict.metrics import PredictionMetrics
    from cxnb.profile.metrics import NeedsMetrics
    from cxnb.summary.charts import gains_points, rfm_rows

    charts = _charts(_index(tmp_path, FULL, min_group_size=500))
    alt = charts["rfm"]["alt"]
    assert "Champions" in alt and "At risk" not in alt and "Can't lose them" not in alt
    assert [r[0] for r in rfm_rows(NeedsMetrics.model_validate(FULL["requirement_analysis"]), 500)] == ["Hibernating", "Loyal", "Champions"]
    prediction = PredictionMetrics.model_validate(FULL["behavior_prediction"])
    shares = gains_points(prediction, 100)[1]
    assert shares[:3] == [0.0, 0.1, 0.2]  # the top 5% of 1,250 held-out customers is 62, under 100
    assert gains_points(prediction, 300) is None  # not even the top 20% (250) could be shown
    assert "gains" not in _charts(_index(tmp_path, FULL, min_group_size=300))
    assert "At risk" not in " ".join(_actions(_index(tmp_path, FULL, min_group_size=500)))


def test_actions_follow_the_verdict_and_the_grade_with_their_evidence(tmp_path):
    said = _actions(_index(tmp_path, FULL))
    assert 3 <= len(said) <= 5
    assert said[0].startswith("Send the personal recommendation lists (item-item collaborative filtering)")
    assert "95% interval +2.0 to +6.0" in said[0]
    assert said[1].startswith("Target the top tenth of customers ranked by the logistic regression")
    assert "grade A: AUC 0.91, 95% interval 0.89–0.93" in said[1]
    assert "64%" in said[2] and "Protect the top 20%" in said[2]
    assert any('"At risk"' in s and "12% of" in s for s in said)
    assert all("%" in s for s in said)

    worse = {**FULL["recommendation"], "decision": {**FULL["recommendation"]["decision"], "verdict": "worse",
                                                    "difference": -0.01, "ci_low": -0.02, "ci_high": -0.004}}
    graded_b = {**FULL["behavior_prediction"], "logit": _model(0.88, "B", 0.005, -0.003, 0.012),
                "random_forest": _model(0.87, "B"), "decision_tree": _model(0.85, "C")}
    said = _actions(_index(tmp_path, {**FULL, "recommendation": worse, "behavior_prediction": graded_b}))
    assert said[0].startswith("Keep the bestseller lists") and "-1.0 points" in said[0]
    assert said[1].startswith("Select customers with the simple rule (those who bought in the last 91 days)")
    assert "grade B: AUC gain +0.005, 95% interval -0.003 to +0.012" in said[1]

    graded_c = {**FULL["behavior_prediction"], **{m: _model(0.52, "C") for m in ("logit", "decision_tree",
                                                                                 "random_forest")}}
    said = _actions(_index(tmp_path, {**FULL, "behavior_prediction": graded_c}, language="zh"))
    assert said[0].startswith("发送个性化推荐清单") and "95% 区间 +2.0 至 +6.0" in said[0]
    assert said[1].startswith("暂不使用定向模型") and "等级 C" in said[1] and "包含 0.5" in said[1]


def test_chinese_index_has_chinese_captions_and_bullets(tmp_path):
    soup = _index(tmp_path, {**FULL, "recommendation": {**FULL["recommendation"], "decision": {
        **FULL["recommendation"]["decision"], "verdict": "no_difference", "ci_low": -0.01}}}, language="zh")
    captions = [c.get_text() for c in soup.select("figure.chart figcaption")]
    assert captions[0] == "各 RFM 细分的客户与收入" and len(captions) == 4
    assert "冠军客户" in _charts(soup)["rfm"]["alt"]
    said = _actions(soup)
    assert said[0].startswith("继续使用畅销榜") and "包含零" in said[0]
    assert said[1].startswith("按逻辑回归的得分触达前 10% 的客户")


def test_no_action_for_a_skipped_stage_or_missing_evidence(tmp_path):
    from cxnb.summary import actions

    metrics = {"data_quality": METRICS["data_quality"], "recommendation": {"skipped": "no item ids"},
               "behavior_prediction": {"skipped": "too few buyers"}, "customer_value": value_entry(concentration=None)}
    assert actions(metrics, "en") == []
    spread = actions({"customer_value": value_entry(concentration=0.3, horizon_days=365)}, "en")
    assert spread == ["Treat the customer base broadly: predicted value is spread out, the top 20% of customers hold "
                      "only 30% of the value predicted for the next 365 days."]


def test_hostile_names_are_escaped_in_alt_text(tmp_path):
    hostile = '"><script>alert(1)</script>'
    needs = {**FULL["requirement_analysis"], "rfm_segments": {hostile: 900, "Champions": 700},
             "rfm_segment_share_revenue": {hostile: 0.2, "Champions": 0.3}}
    journey = journey_entry(**{**FULL["customer_journey"], "funnel": [{"name": "view", "customers": 900},
                                                                      {"name": f"<b>{hostile}", "customers": 400}]})
    soup = _index(tmp_path, {**FULL, "requirement_analysis": needs, "customer_journey": journey})
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in page and soup.find("script") is None and soup.find("b") is None
    charts = _charts(soup)
    assert hostile in charts["rfm"]["alt"] and f"<b>{hostile}" in charts["funnel"]["alt"]


def test_the_index_reads_each_entry_through_its_stage_model():
    """An entry the stage models do not accept (a misspelt or missing figure) is an error, not a silent blank."""
    import pytest
    from pydantic import ValidationError

    rows = dict((k, v) for k, _, v in headline_figures(FULL)["behavior_prediction"])
    assert rows == {"logit.auc": 0.91, "decision_tree.auc": 0.89, "random_forest.auc": 0.9,
                    "logit.top_decile_lift": 2.2, "base_rate": 0.41}
    assert dict((k, v) for k, _, v in headline_figures(FULL)["data_quality"])["rows_removed"] == 410
    for stage, typo in (("behavior_prediction", "base_rte"), ("requirement_analysis", "median_order"),
                        ("data_quality", "row_kept")):
        entry = {**FULL[stage], typo: 1}
        with pytest.raises(ValidationError):
            findings({**FULL, stage: entry}, "en")


def test_stage_curves_for_the_index():
    import numpy as np

    from cxnb.predict.evaluate import gains_at
    from cxnb.value.metrics import concentration_curve

    y = np.array([1] * 20 + [0] * 80)
    perfect = gains_at(y, -np.arange(100.0))
    assert perfect["gain"][:3] == [0.25, 0.5, 1.0] and perfect["share_targeted"][-1] == 1.0
    reverse = gains_at(y, np.arange(100.0))
    assert reverse["gain"][5] == 0.0 and reverse["gain"][-1] == 1.0
    curve = concentration_curve(np.array([10.0] * 10 + [0.0] * 90))
    assert curve.share_value[1] == 1.0 and curve.share_value[0] == 0.5
    assert concentration_curve(np.zeros(10)) is None
