"""Customer profiles and RFM (cxnb.profile)."""

from __future__ import annotations

import pandas as pd
import pytest

from cxnb.profile import RFM_SEGMENT_RULES, customer_profiles, rfm_scores, rfm_segment_name


def _tx() -> pd.DataFrame:
    rows = [  # customer, order, timestamp, item, amount
        ("a", "o1", "2024-01-01 10:00", "x", 10.0),
        ("a", "o1", "2024-01-01 10:00", "y", 5.0),
        ("a", "o2", "2024-01-11 09:00", "x", 20.0),
        ("a", "o3", "2024-01-31 12:00", "z", 15.0),
        ("b", "o4", "2024-01-20 08:00", "z", 100.0),
        ("c", "o5", "2024-02-05 00:00", "x", 7.0),
    ]
    df = pd.DataFrame(rows, columns=["customer_id", "order_id", "timestamp", "item_id", "amount"])
    df["timestamp"] = pd.to_datetime(df["timestamp"])
    return df


ITEMS = pd.DataFrame({"item_id": ["x", "y", "z"], "category": ["food", "food", "toys"]})


def test_profile_values_by_hand():
    p = customer_profiles(_tx(), ITEMS, as_of="2024-02-10").set_index("customer_id")
    a = p.loc["a"]
    assert a["frequency"] == 3
    assert a["monetary"] == pytest.approx(50.0)
    assert a["avg_order_value"] == pytest.approx(50 / 3)
    assert a["days_since_last_order"] == pytest.approx(9.5)  # 2024-01-31 12:00 -> 2024-02-10
    assert a["tenure_days"] == pytest.approx(40 - 10 / 24)  # 2024-01-01 10:00 -> 2024-02-10
    assert a["mean_interpurchase_days"] == pytest.approx((30 + 2 / 24) / 2)
    assert a["n_items"] == 3
    assert a["share_food"] == pytest.approx(35 / 50)
    assert a["favourite_category"] == "food"
    assert p.loc["b", "favourite_category"] == "toys"
    assert pd.isna(p.loc["b", "mean_interpurchase_days"])


def test_as_of_excludes_later_lines():
    p = customer_profiles(_tx(), as_of="2024-01-15").set_index("customer_id")
    assert set(p.index) == {"a"}
    assert p.loc["a", "frequency"] == 2
    assert p.loc["a", "monetary"] == pytest.approx(35.0)


def test_same_day_orders_without_order_ids_count_once():
    tx = _tx().drop(columns="order_id")
    p = customer_profiles(tx, as_of="2024-02-10").set_index("customer_id")
    assert p.loc["a", "frequency"] == 3  # three distinct days


def test_rfm_scores_by_hand():
    profiles = pd.DataFrame({
        "customer_id": list("abcdefghij"),
        "days_since_last_order": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        "frequency": [10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
        "monetary": [5, 5, 5, 5, 5, 50, 50, 50, 50, 50],
    })
    rfm = rfm_scores(profiles).set_index("customer_id")
    assert list(rfm["r_score"]) == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert list(rfm["f_score"]) == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert rfm.loc["a", "rfm_segment"] == "Champions"
    assert rfm.loc["e", "rfm_segment"] == "Need attention"
    assert rfm.loc["j", "rfm_segment"] == "Hibernating"
    assert rfm.loc["a", "rfm_code"] == "551"


def test_every_rf_cell_has_exactly_one_segment():
    import re

    for r in range(1, 6):
        for f in range(1, 6):
            hits = [n for n, pat, _ in RFM_SEGMENT_RULES if re.fullmatch(pat, f"{r}{f}")]
            assert len(hits) == 1, (r, f, hits)
            assert rfm_segment_name(r, f) == hits[0]


def test_rfm_scores_with_heavy_ties_use_every_level():
    import numpy as np

    from cxnb.profile import levels_note

    rng = np.random.default_rng(0)
    n = 20_000
    profiles = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)],
                             "days_since_last_order": rng.exponential(100, n).round(),
                             "frequency": np.minimum(rng.geometric(0.55, n), 30),  # 55% one order
                             "monetary": rng.lognormal(4, 1, n)})
    rfm = rfm_scores(profiles)
    for col in ("r_score", "f_score", "m_score"):
        assert sorted(rfm[col].unique()) == [1, 2, 3, 4, 5], col
    assert rfm.groupby("f_score")["customer_id"].size().min() > 0.04 * n
    assert rfm.loc[profiles["frequency"] == 1, "f_score"].nunique() == 1  # ties share a score
    by_value = pd.DataFrame({"f": profiles["frequency"], "s": rfm["f_score"]}).groupby("f")["s"].agg(["min", "max"])
    assert (by_value["max"].shift() <= by_value["min"]).iloc[1:].all()  # more orders never score lower
    assert levels_note(rfm) == ""


def test_rfm_scores_with_three_distinct_values_are_spread_and_stated():
    from cxnb.profile import levels_note

    profiles = pd.DataFrame({"customer_id": list("abcdef"), "days_since_last_order": [1, 2, 3, 4, 5, 6],
                             "frequency": [1, 1, 2, 2, 3, 3], "monetary": [1, 2, 3, 4, 5, 6]})
    rfm = rfm_scores(profiles)
    assert list(rfm["f_score"]) == [1, 1, 3, 3, 5, 5]
    assert levels_note(rfm) == ("F uses only 3 score levels: the customers have only 3 distinct values, "
                                "scored 1, 3, 5.")
    assert "F 只用了 3 个得分档" in levels_note(rfm, "zh")


def test_demo_metrics_read_back_through_their_model(demo_run):
    from cxnb.profile import NeedsMetrics, run_stage

    result = run_stage(demo_run)
    metrics = result.metrics()
    assert NeedsMetrics.model_validate(metrics.as_json()) == metrics
    assert sum(metrics.rfm_segments.values()) == metrics.customers == len(result.profiles)
    assert sum(metrics.rfm_segment_share_revenue.values()) == pytest.approx(1, abs=1e-3)
    assert metrics.top_segment == max(metrics.rfm_segments, key=metrics.rfm_segments.get)


def test_the_stage_suppresses_every_group_under_the_privacy_threshold(demo_run):
    """Segments, grid cells and taste rows under privacy.min_group_size never leave the package."""
    from cxnb.context import Run
    from cxnb.privacy import OTHER
    from cxnb.profile import run_stage, taste_table

    privacy = demo_run.params.privacy.model_copy(update={"min_group_size": 500})
    strict = Run(demo_run.params.model_copy(update={"privacy": privacy}), demo_run.run_dir)
    result = run_stage(strict)
    sizes = result.rfm["rfm_segment"].value_counts()
    assert (result.summary["customers"] >= 500).all() and (sizes < 500).any()
    assert OTHER in set(result.summary["rfm_segment"]) or sizes[sizes < 500].sum() < 500
    cells = result.grid.to_numpy(dtype="float64", na_value=float("nan")).ravel()
    shown = cells[cells == cells]  # the cells that show their count
    assert result.grid_masked and ((shown == 0) | (shown >= 500)).all()
    assert set(result.taste.index) <= set(result.summary["rfm_segment"])
    assert not set(taste_table(result.taste, "zh").index) & set(result.taste.index) - {OTHER}
    assert result.metrics().rfm_segments == dict(zip(result.summary["rfm_segment"], result.summary["customers"], strict=True))


def test_segment_names_of_arrays_match_the_rules_and_reject_scores_out_of_range():
    import numpy as np

    from cxnb.profile.rfm import rfm_segment_names

    r, f = np.repeat(np.arange(1, 6), 5), np.tile(np.arange(1, 6), 5)
    assert rfm_segment_names(r, f) == [rfm_segment_name(a, b) for a, b in zip(r, f, strict=True)]
    assert rfm_segment_names(np.array([], dtype=int), np.array([], dtype=int)) == []
    with pytest.raises(ValueError, match="1..5"):
        rfm_segment_names(np.array([0]), np.array([3]))
