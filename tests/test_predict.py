"""Behaviour prediction: labels without leakage, planted effects recovered, honest checks and fallbacks."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from cxnb.config import PredictionConfig
from cxnb.demo import PROPENSITY, generate_demo
from cxnb.errors import CxnbError, DataError, StageSkipped
from cxnb.predict import (
    FeatureEncoder,
    PredictionMetrics,
    auc_ci,
    binary_label,
    check_classes,
    fit_logit,
    given_dataset,
    grade_intro,
    grade_sentences,
    horizon_dataset,
    horizon_labels,
    performance_frame,
    predict_behavior,
    resolve_label_source,
    score_customers,
    top_reasons,
    tree_rules,
)
from cxnb.predict.baselines import fit_recency_rule, paired_auc_gain
from cxnb.predict.evaluate import rank_auc
from cxnb.profile import customer_profiles
from cxnb.summary import findings


def _texts(notes, language="en") -> list[str]:
    """The notes (messages) as the report of ``language`` shows them."""
    return [n.text(language) for n in notes]

TELCO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "telco-churn" / \
    "WA_Fn-UseC_-Telco-Customer-Churn.csv"


def clean(transactions: pd.DataFrame) -> pd.DataFrame:
    tx = transactions.dropna(subset=["customer_id"])
    tx = tx[(tx["quantity"] > 0) & (tx["price"] > 0)].drop_duplicates().copy()
    tx["amount"] = tx["quantity"] * tx["price"]
    tx["timestamp"] = pd.to_datetime(tx["timestamp"])
    return tx.reset_index(drop=True)


@pytest.fixture(scope="module")
def demo():
    return generate_demo(n_customers=3000, n_items=200)


@pytest.fixture(scope="module")
def demo_data(demo):
    customers = demo.customers.drop(columns=["name", "email", "phone"])
    return horizon_dataset(clean(demo.transactions), demo.info["cutoff"], demo.info["horizon_days"], demo.items,
                           customers)


@pytest.fixture(scope="module")
def demo_result(demo_data):
    return predict_behavior(demo_data, PredictionConfig())


def test_horizon_label_counts_buyers_in_window_only():
    tx = pd.DataFrame({"customer_id": ["a", "a", "b", "c", "d"],
                       "timestamp": pd.to_datetime(["2024-01-01", "2024-02-10", "2024-01-05", "2024-04-20",
                                                    "2024-01-20"])})
    y = horizon_labels(tx, "2024-02-01", 30)
    # a bought inside [Feb 1, Mar 2); b did not; c has no history before the cutoff; d only before.
    assert y.to_dict() == {"a": 1, "b": 0, "d": 0}


def test_features_ignore_everything_after_cutoff(demo):
    tx = clean(demo.transactions)
    cutoff = pd.Timestamp(demo.info["cutoff"])
    before = horizon_dataset(tx, cutoff, 90, demo.items)
    after = tx["timestamp"] >= cutoff
    mutated = tx.copy()
    mutated.loc[after, "quantity"] *= 7
    mutated.loc[after, "amount"] *= 7
    mutated.loc[after, "item_id"] = tx["item_id"].iloc[0]
    extra = mutated[after].head(500).assign(customer_id="NEW", timestamp=cutoff + pd.Timedelta(days=200))
    changed = horizon_dataset(pd.concat([mutated, extra], ignore_index=True), cutoff, 90, demo.items)
    pd.testing.assert_frame_equal(before.frame, changed.frame)
    pd.testing.assert_series_equal(before.y, changed.y)


def test_logit_recovers_planted_signs_and_attribute_effect(demo_result):
    table = demo_result.logit.table.set_index("term")
    assert demo_result.logit.method == "mle"
    assert np.sign(table.loc["frequency", "coef"]) == np.sign(PROPENSITY["log_frequency"])
    assert np.sign(table.loc["days_since_last_order", "coef"]) == np.sign(PROPENSITY["recency_months"])
    assert table.loc["channel=app", "coef"] > 0 and table.loc["channel=app", "p_value"] < 0.01
    # The planted app effect (0.9 on the log-odds) lies inside the 95% CI of the odds ratio.
    assert table.loc["channel=app", "or_ci_low"] < np.exp(PROPENSITY["channel_app"]) < table.loc["channel=app",
                                                                                                 "or_ci_high"]
    # Recency: planted -0.45 per 30 days; the fit is per 1 sd of days.
    per_30_days = table.loc["days_since_last_order", "coef"] / demo_result.logit.scale["days_since_last_order"] * 30
    assert per_30_days == pytest.approx(PROPENSITY["recency_months"], abs=0.1)


def test_held_out_auc_close_to_true_propensity_auc(demo, demo_data, demo_result):
    truth = demo.truth.set_index("customer_id")["true_propensity"]
    ids = demo_data.frame.loc[demo_result.y_test.index, "customer_id"]
    true_auc = roc_auc_score(demo_result.y_test, truth.loc[ids])
    assert abs(demo_result.scores["logit"]["auc"] - true_auc) <= 0.02
    for model in ("decision_tree", "random_forest"):
        assert demo_result.scores[model]["auc"] > true_auc - 0.05


def test_statsmodels_equals_sklearn_unpenalized(demo_result):
    model = demo_result.logit
    Z = model.design(demo_result.X_train)
    sk = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(Z, demo_result.y_train)
    np.testing.assert_allclose(sk.coef_[0], model.params[model.columns].to_numpy(), atol=1e-4)
    assert sk.intercept_[0] == pytest.approx(model.params["const"], abs=1e-4)


def test_metrics_have_the_contract_keys(demo_result):
    metrics = demo_result.metrics()
    for model, m in metrics.models().items():
        assert set(metrics.as_json()[model]) >= {"auc", "auc_ci", "auc_cv_mean", "auc_cv_sd", "accuracy", "precision",
                                                 "recall", "f1", "brier", "top_decile_lift", "grade", "gains"}
        assert m.auc_ci[0] < m.auc < m.auc_ci[1]
        assert m.top_decile_lift > 1.5
        gains = m.gains  # the index page's gains curve: rising to 1, its 10% point is the top-decile lift
        assert len(gains.gain) == len(gains.share_targeted) <= 20 and gains.gain[-1] == 1.0
        assert np.all(np.diff(gains.gain) >= 0)
        assert gains.gain[gains.share_targeted.index(0.1)] == pytest.approx(m.top_decile_lift / 10, rel=0.01)
    assert metrics.n_train + metrics.n_test == len(demo_result.data.y)
    assert metrics.label_source == "horizon"
    assert 0 < metrics.base_rate < 1


def test_metrics_read_back_through_their_model(demo_result):
    """What metrics.json holds is what the index page reads: the JSON entry validates into the same model."""
    metrics = demo_result.metrics()
    again = PredictionMetrics.model_validate(metrics.as_json())
    assert again.as_json() == metrics.as_json()
    assert again.best_model() == max(again.usable(), key=lambda m: again.models()[m].auc)
    with pytest.raises(ValueError):
        PredictionMetrics.model_validate({**metrics.as_json(), "unknown": 1})


def test_tree_rules_partition_training_customers(demo_result):
    rules = tree_rules(demo_result.tree, demo_result.X_train, demo_result.y_train, demo_result.encoder.labels(), "buy")
    assert rules["customers"].sum() == len(demo_result.y_train)
    assert rules["rule"].str.match(r"^if .+ then \d+% buy \(n=\d+\)$").all()
    weighted = (rules["rate"] * rules["customers"]).sum() / rules["customers"].sum()
    assert weighted == pytest.approx(demo_result.y_train.mean())
    assert rules["rule"].str.contains("days since last order").any()
    scores = demo_result.tree.depth_scores.set_index("max_depth")
    assert demo_result.tree.depth <= scores["cv_auc_mean"].idxmax()


def test_scores_cover_customers_with_deciles_and_reasons(demo_result):
    scores = score_customers(demo_result)
    assert len(scores) == len(demo_result.data.score_frame)
    assert scores["customer_id"].is_unique
    assert scores["probability"].between(0, 1).all()
    assert scores.groupby("decile")["probability"].mean().is_monotonic_decreasing
    assert scores["decile"].value_counts().between(len(scores) // 10 - 1, len(scores) // 10 + 1).all()
    assert scores["top_reasons"].str.contains(r"\((?:raises|lowers)\)").all()


def test_rules_and_reasons_read_in_chinese(demo_result):
    labels = demo_result.encoder.labels("zh")
    rules = tree_rules(demo_result.tree, demo_result.X_train, demo_result.y_train, labels, "在 90 天内购买", "zh")
    assert rules["rule"].str.match(r"^若 .+，则 \d+% 的客户在 90 天内购买（n=\d+）$").all()
    assert rules["rule"].str.contains("距上次购买天数").any()
    assert not rules["rule"].str.contains(r"\b(?:if|then|and|days)\b").any()
    reasons = top_reasons(demo_result.logit, demo_result.X_test.head(50), labels, 3, "zh")
    assert reasons.str.fullmatch(r"[^;]+（(?:提高|降低)）(?:；[^;]+（(?:提高|降低)）){2}").all()
    scores = score_customers(demo_result, language="zh")
    assert scores["top_reasons"].str.contains("（提高）|（降低）").all() and list(scores.columns)[:3] == [
        "customer_id", "probability", "decile"]


def test_notes_and_skip_reasons_read_in_chinese():
    X, y = _synthetic()
    X["leak"] = y * 2.0 + 0.1 * X["x2"].abs()
    X["const"] = 3.0
    notes = _texts(fit_logit(X, y).notes, "zh")
    assert any("完全分离" in n and "leak" in n and "正则化" in n for n in notes)
    assert any("恒定" in n and "const" in n for n in notes)
    assert not any(word in " ".join(notes) for word in ("Dropped", "Maximum", "fell back"))
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(60)], "charges": ["1.5", " ", "3"] * 20})
    assert _texts(FeatureEncoder().fit(frame).notes, "zh") == ["“charges”：20 个缺失值（空白或非数字文本）用中位数 2.25 填补。"]
    with pytest.raises(StageSkipped, match="只有 5 位正例客户"):
        check_classes(pd.Series([1] * 5 + [0] * 295), "满足 churn = 1", language="zh")


def test_bootstrap_auc_uses_the_same_auc_as_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.round(y * 0.3 + rng.random(300), 1)  # ties included
    assert rank_auc(y, p) == pytest.approx(roc_auc_score(y, p))
    low, high = auc_ci(y, p, seed=1)
    assert low < roc_auc_score(y, p) < high


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning", "ignore:The BCa confidence interval")
def test_bootstrap_interval_equals_scipy_bootstrap_of_the_rank_auc():
    """The interval from draw counts is scipy's percentile bootstrap of the rank AUC, to the last bit (ties, a
    rare class and a batch that does not divide the resamples included)."""
    from scipy.stats import bootstrap
    rng = np.random.default_rng(3)
    for n, share in ((40, 0.2), (700, 0.5), (3001, 0.07)):
        y = (rng.random(n) < share).astype(int)
        p = np.round(y * 0.4 + rng.random(n), 2)
        for seed in (0, 42):
            res = bootstrap((y, p), rank_auc, paired=True, vectorized=True, batch=200, n_resamples=1000,
                            confidence_level=0.95, method="percentile", rng=seed)
            # exact, NaN where both meet a resample without positives
            np.testing.assert_array_equal(auc_ci(y, p, seed), [res.confidence_interval.low,
                                                                res.confidence_interval.high])


def test_batched_permutation_importance_equals_sklearn(monkeypatch, demo_result):
    from sklearn.inspection import permutation_importance

    from cxnb.predict.trees import IMPORTANCE_REPEATS, forest_importance, forest_proba
    X, y = demo_result.X_test, demo_result.y_test
    ref = permutation_importance(demo_result.forest, X, y, scoring="roc_auc", n_repeats=IMPORTANCE_REPEATS,
                                 random_state=demo_result.seed, n_jobs=1)
    ours = forest_importance(demo_result.forest, X, y, demo_result.seed).set_index("term").loc[X.columns]
    assert ours["auc_drop"].tolist() == ref.importances_mean.tolist()
    assert ours["auc_drop_sd"].tolist() == ref.importances_std.tolist()
    monkeypatch.setattr(importlib.import_module("cxnb.predict.trees"), "PREDICT_MIN_ROWS", 100)  # rows split in 2
    assert np.array_equal(forest_proba(demo_result.forest, X, 2), demo_result.forest.predict_proba(X)[:, 1])


# ----------------------------------------------------------------------------- grades against simple rules


def test_demo_models_beat_the_recency_rule_and_get_grade_a(demo_result):
    metrics = demo_result.metrics()
    assert metrics.recency_rule_direction == "recent"
    assert 14 <= metrics.recency_rule_days <= 365
    assert 0.6 < metrics.recency_rule_auc < metrics.logit.auc
    logit = metrics.logit
    assert logit.grade == "A"
    assert logit.auc_gain_vs_rule >= 0.01 and 0 < logit.gain_ci_low < logit.auc_gain_vs_rule < logit.gain_ci_high
    assert logit.auc_gain_vs_rule == pytest.approx(logit.auc - metrics.recency_rule_auc)
    sentence = grade_sentences(demo_result)[0]
    assert sentence.startswith("logistic regression: grade A") and "use the model" in sentence
    assert f"{metrics.recency_rule_days} days" in grade_intro(demo_result)
    table = performance_frame(demo_result)
    assert table["model"].str.contains(f"bought in the last {metrics.recency_rule_days} days").any()
    sentences = findings({"behavior_prediction": metrics.as_json()}, "en")["behavior_prediction"]
    assert any("beats the simple rule" in s and "95% interval" in s for s in sentences)


def _independent_customers(n=800, seed=3):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "x1": rng.normal(size=n),
                         "x2": rng.gamma(2.0, size=n), "plan": rng.choice(["basic", "pro", "max"], n),
                         "label": rng.integers(0, 2, n)})


@pytest.fixture(scope="module")
def independent_result():
    return predict_behavior(given_dataset(_independent_customers(), "label", 1))


def test_label_independent_of_features_gets_grade_c_said_plainly(independent_result):
    result = independent_result
    for model in ("logit", "decision_tree", "random_forest"):
        low, high = result.scores[model]["auc_ci"]
        assert low <= 0.5 <= high and result.scores[model]["grade"] == "C"
    assert result.rule is None and result.metrics().recency_rule_days is None
    assert all("grade C" in s and "includes 0.5" in s and "not worth using" in s for s in grade_sentences(result))
    zh = grade_sentences(result, "zh")
    assert all("评级 C" in s and "包含 0.5" in s and "不值得使用" in s for s in zh)
    for language, words in (("en", "not worth using"), ("zh", "不值得使用")):
        sentences = findings({"behavior_prediction": result.metrics().as_json()}, language)["behavior_prediction"]
        assert any(words in s for s in sentences)
        assert not any("×" in s or "倍" in s for s in sentences)


def _recency_labelled(n=1000, seed=5, days=60):
    """Customers labelled exactly 'bought in the last ``days`` days' (as of the end of the data)."""
    rng = np.random.default_rng(seed)
    orders = rng.poisson(2.0, n) + 1
    ids = np.repeat([f"c{i}" for i in range(n)], orders)
    tx = pd.DataFrame({"customer_id": ids, "timestamp": pd.Timestamp("2024-01-01")
                       + pd.to_timedelta(rng.integers(0, 366, len(ids)), unit="D"),
                       "item_id": "i1", "quantity": 1.0, "price": 10.0, "amount": 10.0})
    profiles = customer_profiles(tx)
    customers = pd.DataFrame({"customer_id": profiles["customer_id"],
                              "active": (profiles["days_since_last_order"] <= days).astype(int)})
    return given_dataset(customers, "active", 1, transactions=tx)


@pytest.fixture(scope="module")
def recency_data():
    return _recency_labelled()


def test_label_that_is_the_recency_rule_gives_grade_b(recency_data):
    result = predict_behavior(recency_data, PredictionConfig(keep=["days_since_last_order"]))
    assert result.rule.direction == "recent" and 55 <= result.rule.days <= 65
    assert result.rule_scores["auc"] > 0.99
    assert "days_since_last_order" in result.encoder.columns
    for model in ("logit", "decision_tree", "random_forest"):
        assert result.scores[model]["grade"] == "B"
        assert result.scores[model]["auc_gain_vs_rule"] < 0.01
    assert all("grade B" in s and "use the rule" in s and "95% interval" in s for s in grade_sentences(result))
    assert any("'days_since_last_order'" in n and "kept" in n for n in _texts(result.notes))
    sentences = findings({"behavior_prediction": result.metrics().as_json()}, "en")["behavior_prediction"]
    assert any("does as well" in s and "use the rule" in s for s in sentences)


def test_recency_that_equals_the_label_is_flagged_as_a_leak_by_default(recency_data):
    result = predict_behavior(recency_data)
    assert "days_since_last_order" not in result.encoder.columns
    assert result.metrics().excluded_features == ["days_since_last_order"]
    assert result.metrics().leaking_features["days_since_last_order"] > 0.99
    assert result.rule_scores["auc"] > 0.99  # the rule itself still uses recency


def test_planted_leaking_column_is_excluded_and_named_unless_kept():
    customers = _independent_customers()
    rng = np.random.default_rng(1)
    flip = rng.random(len(customers)) < 0.01
    customers["refund_code"] = np.where(flip, 1 - customers["label"], customers["label"]) * 5.0 + rng.random(
        len(customers))
    data = given_dataset(customers, "label", 1)
    result = predict_behavior(data)
    assert "refund_code" not in result.encoder.columns and "refund_code" not in result.logit.columns
    assert result.excluded == ["refund_code"]
    assert any("'refund_code'" in n and "left out" in n and "keep it in the models" in n for n in _texts(result.notes))
    assert result.scores["logit"]["grade"] == "C"  # without the leak nothing is left to predict with
    kept = predict_behavior(data, PredictionConfig(keep=["refund_code"], exclude=["plan", "nope"]))
    assert "refund_code" in kept.encoder.columns and not any(c.startswith("plan") for c in kept.encoder.columns)
    assert kept.scores["logit"]["auc"] > 0.95
    notes = _texts(kept.notes)
    assert any("'refund_code'" in n and "kept" in n for n in notes)
    assert any("Left out of the models" in n and "plan" in n for n in notes)
    assert any("nope" in n for n in notes)


def test_grades_and_gains_are_deterministic_for_a_seed(recency_data):
    config = PredictionConfig(keep=["days_since_last_order"], seed=7)
    first, second = (predict_behavior(recency_data, config).metrics() for _ in range(2))
    assert first == second
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    a, b = y + rng.normal(size=500), y + 2 * rng.normal(size=500)
    assert paired_auc_gain(y, a, b, seed=1) == paired_auc_gain(y, a, b, seed=1)
    assert paired_auc_gain(y, a, b, seed=1) != paired_auc_gain(y, a, b, seed=2)
    gain, low, high = paired_auc_gain(y, a, b, seed=1)
    assert gain == pytest.approx(rank_auc(y, a) - rank_auc(y, b))
    assert 0 < low < gain < high
    _, low_200, high_200 = paired_auc_gain(y, a, b, seed=1, max_customers=200)  # fewer customers, wider interval
    assert high_200 - low_200 > 1.3 * (high - low)
    assert paired_auc_gain(y, a, a, seed=1) == (0.0, 0.0, 0.0)


def test_recency_rule_direction_follows_the_training_label():
    recency = np.arange(100.0)
    rule = fit_recency_rule(recency, (recency > 40).astype(int))  # churn-like: long-lapsed are the positives
    assert rule.direction == "lapsed" and rule.days in (40, 41)
    assert rule.predict(np.array([10.0, 70.0, np.inf])).tolist() == [0, 1, 1]
    assert rule.describe("en") == f"have not ordered in the last {rule.days} days"


# ----------------------------------------------------------------------------- what breaks a logit


def _synthetic(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)})
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-X["x1"]))).astype(int))
    return X, y


def test_perfect_separation_falls_back_to_regularized_fit_with_note():
    X, y = _synthetic()
    X["leak"] = y * 2.0 + 0.1 * X["x2"].abs()
    model = fit_logit(X, y)
    assert model.method == "regularized"
    assert any("separation" in n and "leak" in n and "regularized" in n for n in _texts(model.notes))
    assert model.table["p_value"].isna().all()
    assert np.isfinite(model.predict_proba(X)).all()


def test_constant_and_collinear_columns_are_dropped_with_notes():
    X, y = _synthetic()
    X["const"] = 3.0
    X["x3"] = 2 * X["x1"] - X["x2"]
    model = fit_logit(X, y)
    assert model.method == "mle"
    assert set(model.columns) == {"x1", "x2"}
    assert any("constant" in n and "const" in n for n in _texts(model.notes))
    assert any("exact combination" in n and "x3" in n for n in _texts(model.notes))
    assert set(model.vif["term"]) == {"x1", "x2"}


def test_label_with_one_class_is_a_one_line_error_naming_the_column():
    with pytest.raises(DataError, match=r"label column 'Churn' has only one value \('No'\)") as err:
        binary_label(pd.Series(["No"] * 50), "Churn", "No")
    assert "\n" not in str(err.value)


def test_label_without_the_positive_value_lists_the_values_found():
    with pytest.raises(DataError, match=r"'Churn' has no value 'Yes'.*values found: 'N', 'Y'"):
        binary_label(pd.Series(["Y", "N", "N"]), "Churn", "Yes")


def test_label_positive_matches_across_types_and_is_inferred_for_flags():
    assert binary_label(pd.Series([1, 0, 1]), "flag", "1").tolist() == [1, 0, 1]
    assert binary_label(pd.Series(["yes", "No", None]), "flag", "Yes").tolist()[:2] == [1, 0]
    assert binary_label(pd.Series(["true", "false"]), "flag").tolist() == [1, 0]
    with pytest.raises(DataError, match="set data.customers.positive"):
        binary_label(pd.Series(["gold", "silver"]), "tier")


def test_tiny_class_skips_the_stage_with_a_reason():
    X, _ = _synthetic(n=300)
    y = pd.Series([1] * 5 + [0] * 295)
    frame = X.assign(customer_id=[f"c{i}" for i in range(300)])
    data = given_dataset(frame.assign(label=y), "label", 1)
    with pytest.raises(StageSkipped, match="only 5 positive customers"):
        predict_behavior(data)


def test_label_source_resolution():
    assert resolve_label_source("auto", "Churn", False) == "given"
    assert resolve_label_source("auto", None, True) == "horizon"
    with pytest.raises(StageSkipped):
        resolve_label_source("auto", None, False)
    with pytest.raises(CxnbError):
        resolve_label_source("given", None, True)


def test_encoder_parses_numeric_text_drops_ids_and_uses_most_common_reference():
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(60)],
                          "charges": ["1.5", " ", "3"] * 20,
                          "plan": ["basic"] * 40 + ["pro"] * 15 + ["max"] * 5,
                          "code": [f"x{i}" for i in range(60)]})
    enc = FeatureEncoder().fit(frame)
    X = enc.transform(frame)
    assert list(X.columns) == ["charges", "plan=pro"]  # 'max' (5 customers) counted with the reference level, with a note
    assert X["charges"].iloc[1] == pytest.approx(2.25)
    assert enc.reference_["plan"] == "basic"
    assert any("'code'" in n and "not used" in n for n in _texts(enc.notes))
    assert any("'charges': 20 missing" in n for n in _texts(enc.notes))


# ----------------------------------------------------------------------------- real data


@pytest.mark.realdata
@pytest.mark.slow
def test_telco_churn_logit_cv_auc_and_strongest_effects():
    if not TELCO.exists():
        pytest.skip(f"{TELCO} not found")
    customers = pd.read_csv(TELCO, dtype=str).rename(columns={"customerID": "customer_id"})
    result = predict_behavior(given_dataset(customers, "Churn", "Yes"))
    logit = result.scores["logit"]
    assert logit["auc_cv_mean"] >= 0.83
    assert logit["auc"] >= 0.80
    strongest = " ".join(result.logit.table["term"].head(6))
    for word in ("Contract", "tenure", "Charges"):
        assert word in strongest
    assert result.metrics().label_source == "given"
    assert any("TotalCharges" in n and "median" in n for n in _texts(result.notes))


@pytest.mark.parametrize("labels, said", [([1] * 300, "only 0 negative customers"),
                                          ([0] * 300, "only 0 positive customers"),
                                          ([0] * 297 + [1] * 3, "only 3 positive customers"),
                                          ([1] * 296 + [0] * 4, "only 4 negative customers")])
def test_a_missing_or_small_class_is_named_correctly(labels, said):
    with pytest.raises(StageSkipped, match=said):
        check_classes(pd.Series(labels), "bought in the next 90 days")


# ----------------------------------------------------------------------------- scale: samples and vectorised loops


def _reference_reasons(model, X, labels, n=3, language="en"):
    """The per-customer loop the vectorised ``top_reasons`` replaces."""
    from cxnb.i18n import t

    def reason(col, value, contribution):
        if "=" in col:
            var, level = col.split("=", 1)
            text = t("bp.reason.level_is" if value == 1 else "bp.reason.level_not", language, variable=var,
                     level=level)
        else:
            shown = f"{value:.0f}" if abs(value) >= 10 else f"{value:.3g}"
            text = t("bp.reason.value", language, feature=labels.get(col, col), value=shown)
        return t("bp.reason.raises" if contribution > 0 else "bp.reason.lowers", language, text=text)

    contrib, values, out = model.contributions(X), X[model.columns], []
    for i in range(len(contrib)):
        row = contrib.iloc[i]
        top = row.abs().sort_values(ascending=False, kind="mergesort").index[:n]
        out.append(t("bp.reason.sep", language).join(reason(c, values.iloc[i][c], row[c]) for c in top))
    return out


@pytest.mark.parametrize("language", ["en", "zh"])
def test_vectorised_reasons_equal_the_per_customer_reference(demo_result, language):
    X = demo_result.X_test.head(300).copy()
    X.iloc[:20] = X.iloc[0].to_numpy()  # repeated customers: ties in value, same reasons
    X.iloc[20:40, 0] = demo_result.logit.center.iloc[0]  # a contribution of exactly 0 ties with other columns
    labels = demo_result.encoder.labels(language)
    fast = top_reasons(demo_result.logit, X, labels, 3, language)
    assert fast.tolist() == _reference_reasons(demo_result.logit, X, labels, 3, language)
    assert fast.index.equals(X.index)
    assert top_reasons(demo_result.logit, X, labels, 1, language).tolist() == \
        _reference_reasons(demo_result.logit, X, labels, 1, language)


def test_horizon_label_is_the_same_set_test_as_before(demo):
    tx = clean(demo.transactions)
    y = horizon_labels(tx, demo.info["cutoff"], 90)
    cutoff = pd.Timestamp(demo.info["cutoff"])
    window = tx[(tx["timestamp"] >= cutoff) & (tx["timestamp"] < cutoff + pd.Timedelta(days=90))]
    assert y.dtype == "int64" and y.index.is_monotonic_increasing
    assert set(y[y == 1].index) == set(window["customer_id"]) & set(y.index)
    assert set(y.index) == set(tx.loc[tx["timestamp"] < cutoff, "customer_id"])


def _small_caps(monkeypatch, cv=1000, bootstrap=400, importance=300, forest=1000):
    evaluate, trees = (importlib.import_module(f"cxnb.predict.{m}") for m in ("evaluate", "trees"))
    monkeypatch.setattr(evaluate, "CV_MAX_CUSTOMERS", cv)
    monkeypatch.setattr(evaluate, "MAX_BOOTSTRAP_CUSTOMERS", bootstrap)
    monkeypatch.setattr(trees, "IMPORTANCE_MAX_CUSTOMERS", importance)
    monkeypatch.setattr(trees, "FOREST_MAX_SAMPLES", forest)


def test_demo_is_not_sampled_and_says_nothing_about_samples(demo_result):
    assert demo_result.samples == {} and demo_result.metrics().samples == {}
    assert not any("sample" in n for n in _texts(demo_result.notes))


def test_sampled_diagnostics_agree_with_the_full_run_and_are_stated(monkeypatch, demo_data, demo_result):
    _small_caps(monkeypatch)
    sampled = predict_behavior(demo_data, PredictionConfig())
    n, n_test = len(demo_data.y), len(sampled.y_test)
    assert sampled.samples == {"cv": 1000, "bootstrap": 400, "importance": 300, "forest_tree": 1000}
    for model in ("logit", "decision_tree", "random_forest"):
        full, part = demo_result.scores[model], sampled.scores[model]
        assert part["auc"] == pytest.approx(full["auc"], abs=0.02)
        assert part["auc_cv_mean"] == pytest.approx(full["auc_cv_mean"], abs=0.02)
        assert part["auc_ci"][0] < part["auc"] < part["auc_ci"][1]
    # The logit is fitted on all training customers: identical; its interval comes from 400 customers: wider.
    assert sampled.scores["logit"]["auc"] == demo_result.scores["logit"]["auc"]
    width = [r.scores["logit"]["auc_ci"][1] - r.scores["logit"]["auc_ci"][0] for r in (demo_result, sampled)]
    assert width[1] > width[0]
    assert sampled.logit.table["coef"].equals(demo_result.logit.table["coef"])
    assert sampled.forest.n_estimators == 100 and sampled.forest.max_samples == 1000
    assert sampled.tree.model.min_samples_leaf == demo_result.tree.model.min_samples_leaf  # refit on everyone
    note = [s for s in _texts(sampled.notes) if "random sample" in s]
    assert len(note) == 1
    assert f"on {n:,} customers" in note[0] and "cross-validated AUCs and the decision-tree depth search on 1,000 " \
        "customers" in note[0] and f"bootstrap intervals on 400 of the {n_test:,} held-out" in note[0]
    assert "permutation importance on 300 held-out customers with 3 repeats" in note[0]
    assert f"all {len(sampled.y_train):,} training customers" in note[0] and "bootstrap sample of 1,000" in note[0]
    importance = sampled.importance().set_index("term")["auc_drop"]
    full_importance = demo_result.importance().set_index("term")["auc_drop"]
    assert importance.idxmax() == full_importance.idxmax()


def test_sample_sentence_reads_in_chinese():
    from cxnb.predict.pipeline import diagnostic_samples, sample_note
    samples = diagnostic_samples(250_000, 187_500, 62_500)
    assert samples == {"cv": 20_000, "bootstrap": 20_000, "importance": 5_000, "forest_tree": 10_000}
    zh = sample_note(samples, 250_000, 187_500, 62_500, 7).text("zh")
    assert "随机样本" in zh and "20,000 位客户" in zh and "62,500 位保留测试客户中的 20,000 位" in zh
    assert "5,000 位保留测试客户，重复 3 次" in zh and "187,500 位训练客户" in zh and "（7）" in zh
    assert not any(word in zh for word in ("sample", "customers", "trees"))
    only_forest = sample_note(diagnostic_samples(14_000, 10_500, 3_500), 14_000, 10_500, 3_500, 7).text("en")
    assert "each of the random forest's 100 trees" in only_forest and "every check uses all customers" in only_forest


def test_sampled_run_is_deterministic_for_a_seed(monkeypatch, recency_data):
    _small_caps(monkeypatch, cv=400, bootstrap=150, importance=120, forest=300)
    config = PredictionConfig(keep=["days_since_last_order"], seed=3)
    first, second = (predict_behavior(recency_data, config) for _ in range(2))
    assert first.samples == {"cv": 400, "bootstrap": 150, "importance": 120, "forest_tree": 300}
    assert first.metrics() == second.metrics()
    pd.testing.assert_frame_equal(first.importance(), second.importance())
    other = predict_behavior(recency_data, PredictionConfig(keep=["days_since_last_order"], seed=4))
    assert other.metrics().random_forest.auc_cv_mean != first.metrics().random_forest.auc_cv_mean


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_decision_tree_drawing_has_no_overlapping_boxes_and_says_what_it_shows(language):
    import matplotlib

    matplotlib.use("Agg")
    from sklearn.tree import DecisionTreeClassifier

    from cxnb.predict.plots import plot_tree_levels
    from cxnb.viz import set_theme

    set_theme()
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"share of spend on household and garden goods": rng.random(4000),
                      "days since last order": rng.integers(0, 400, 4000), "channel=app": rng.integers(0, 2, 4000),
                      "orders": rng.integers(1, 30, 4000)})
    y = (0.6 * X["channel=app"] + 0.6 * X["share of spend on household and garden goods"] + X["orders"] / 60
         + 0.3 * rng.random(4000) > 0.9).astype(int)
    tree = DecisionTreeClassifier(max_depth=5, min_samples_leaf=20, random_state=0).fit(X, y)
    labels = {"share of spend on household and garden goods": "家居与园艺消费占比" if language == "zh" else
              "share of spend on household and garden goods"}
    fig = plot_tree_levels(tree, labels, max_depth=3, language=language)
    fig.canvas.draw()  # places the boxes around their text
    renderer = fig.canvas.get_renderer()
    boxes = [text.get_bbox_patch().get_window_extent(renderer) for text in fig.axes[0].texts
             if text.get_bbox_patch() is not None and "\n" in text.get_text()]
    assert len(boxes) == 15  # root + 2 + 4 + 8: every node of the first four levels
    overlaps = [(i, j) for i in range(len(boxes)) for j in range(i) if boxes[i].overlaps(boxes[j])]
    assert not overlaps, overlaps
    axes_box = fig.axes[0].get_window_extent(renderer)
    assert all(axes_box.x0 <= b.x0 and b.x1 <= axes_box.x1 for b in boxes)  # nothing cut at the edges
    text = " ".join(t.get_text().replace("\n", " ") for t in fig.axes[0].texts)
    assert "channel" in text and labels[X.columns[0]] in text and "%" in text
    assert "value" not in text and "samples" not in text  # scikit-learn's own node text is gone


def test_paired_gains_of_several_models_equal_one_call_per_model():
    from cxnb.predict.baselines import paired_auc_gains

    rng = np.random.default_rng(5)
    y = rng.random(3_000) < 0.3
    probs = {name: y * shift + rng.random(3_000) for name, shift in (("a", 0.2), ("b", 0.5), ("c", 0.0))}
    baseline = y * 0.1 + rng.random(3_000)
    together = paired_auc_gains(y, probs, baseline, seed=2, n_resamples=300, max_customers=2_000)
    for name, prob in probs.items():
        assert together[name] == paired_auc_gain(y, prob, baseline, seed=2, n_resamples=300, max_customers=2_000)
    assert together["b"][0] > together["a"][0] > 0 > together["c"][0]
    assert all(low <= gain <= high for gain, low, high in together.values())


def test_text_columns_parse_as_numbers_value_by_value():
    from cxnb.predict.features import _as_number

    values = pd.Series([" 1", "2.5", None, "", "3", "x"] * 5 + ["4"] * 100, dtype=object)
    parsed = _as_number(values)
    assert parsed.dtype == "float64" and parsed.index.equals(values.index)
    assert parsed.iloc[:6].tolist()[:2] == [1.0, 2.5] and parsed.iloc[[2, 3, 5]].isna().all()
    assert _as_number(pd.Series(["web", "app", "3"] * 10)) is None
