"""The built-in demo data (cxnb.demo)."""

from __future__ import annotations

import hashlib

from cxnb.demo import PROPENSITY, generate_demo, write_demo_files


def _digest(folder) -> dict:
    paths = write_demo_files(folder)
    return {k: hashlib.sha256(open(p, "rb").read()).hexdigest() for k, p in paths.items()}


def test_same_seed_same_bytes(tmp_path):
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_shape_is_realistic():
    d = generate_demo()
    assert 4500 <= d.transactions["customer_id"].nunique() <= 5000
    assert 80_000 <= len(d.transactions) <= 130_000
    assert d.items["category"].nunique() == 10 and len(d.items) == 500
    days = (d.transactions["timestamp"].max()[:10], d.transactions["timestamp"].min()[:10])
    assert days == ("2024-12-31", "2023-01-01")
    assert {"name", "email", "phone", "signup_date", "region", "channel", "age_band"} <= set(d.customers.columns)


def test_planted_structure_is_present():
    d = generate_demo()
    t = d.truth
    assert t["segment"].nunique() == 4
    by_seg = t.groupby("segment")["frequency_at_cutoff"].mean()
    assert by_seg["loyal_high_value"] > 3 * by_seg["big_ticket"]
    assert PROPENSITY["channel_app"] > 0
    buy_rate = t.groupby("channel_app")["bought_in_horizon"].mean()
    assert buy_rate[1] > buy_rate[0]
