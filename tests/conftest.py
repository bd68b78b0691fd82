"""Shared fixtures: paths, small parameter files, and one full demo run reused by the end-to-end tests."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """A file under ../shared/data, skipping the test when it is not on this machine."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available here: {path}")
    return path


def write_params(folder: Path, body: str, name: str = "client.yaml") -> Path:
    """Write a parameter file (dedented YAML) into ``folder``; returns its path."""
    path = folder / name
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _secret(monkeypatch):
    """Client runs need a pseudonymization key; tests use a fixed one unless they remove it."""
    monkeypatch.setenv("CXNB_SECRET", "test-secret")


@pytest.fixture(scope="session")
def demo_report(tmp_path_factory) -> Path:
    """One complete demo run (all stages), shared by the end-to-end tests; run with MPLBACKEND=Agg, as on a
    server or CI, where the charts must still reach the report."""
    from cxnb.report import run_report

    os.environ.pop("CXNB_SECRET", None)
    backend = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "Agg"
    try:
        out = tmp_path_factory.mktemp("reports") / "demo"
        return run_report(ROOT / "params" / "demo.yaml", out=out)
    finally:
        if backend is None:
            os.environ.pop("MPLBACKEND")
        else:
            os.environ["MPLBACKEND"] = backend


@pytest.fixture(scope="session")
def zh_demo_report(tmp_path_factory) -> Path:
    """One complete demo run in Chinese (all stages), shared by the language and browser tests."""
    from cxnb.report import run_report

    params = tmp_path_factory.mktemp("zh") / "demo_zh.yaml"
    params.write_text((ROOT / "params" / "demo.yaml").read_text(encoding="utf-8").replace("language: en", "language: zh")
                      .replace("client: demo", "client: demo-zh"), encoding="utf-8")
    backend = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "Agg"
    try:
        return run_report(params, out=tmp_path_factory.mktemp("reports") / "demo-zh")
    finally:
        if backend is None:
            os.environ.pop("MPLBACKEND")
        else:
            os.environ["MPLBACKEND"] = backend


def recommendation_entry(decision: dict, k: int = 10, **models: dict) -> dict:
    """A complete ``recommendation`` entry of metrics.json around a ``decision`` (its missing fields filled in),
    with ``models`` as {name: {"precision": …, "coverage": …}} (scores not given are 0), validated."""
    from cxnb.recommend.metrics import RecommendationMetrics

    def scores(given: dict) -> dict:
        return {f"{m}@{k}": given.get(m, 0.0) for m in ("precision", "recall", "ndcg", "map", "hit_rate")} | {
            m: given.get(m, 0.0) for m in ("coverage", "diversity", "novelty")}

    n = decision.get("n_customers", 900)
    export = decision.get("model") if decision.get("verdict") == "better" else "popularity"
    decision = {"model": None, "metric": "precision", "k": k, "difference": None, "ci_low": None, "ci_high": None,
                "n_customers": n, "personal": None, "baseline": None, "export_model": export, "n_resampled": n,
                "resamples": 2000} | decision
    entry = {name: scores(given) for name, given in models.items()} | {
        "k": k, "split": "time", "n_users_evaluated": n, "n_items": 500, "best_model": decision["model"] or "popularity",
        "hyperparameters": {name: {} for name in models}, "n_test_items_unseen_in_train": 0,
        "diversity_rerank": {"skipped": "the items have no category"}, "cold_start": {"n_customers": 0},
        "decision": decision, "events": {"used": False, "reason": "off", "weights": {}}}
    return RecommendationMetrics.model_validate(entry).as_json()


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The demo's prepared data as a notebook opens it (no stage run), shared by the stage tests."""
    from cxnb.context import open_run

    return open_run(ROOT / "params" / "demo.yaml", tmp_path_factory.mktemp("demo_run"))


def segmentation_entry(**fields) -> dict:
    """A complete ``segmentation`` entry of metrics.json, ``fields`` set and the rest filled in, validated."""
    from cxnb.segment.metrics import SegmentationMetrics

    sizes = fields.get("sizes", {"0": 100, "1": 300})
    entry = {"k": len(sizes), "k_chosen_by": "silhouette", "k_range": [2, 6], "k_range_requested": [3, 10],
             "silhouette": 0.4, "structure": "clear", "stability_ari": 0.9, "stability_ari_seeds": None,
             "stability_ari_bootstrap": None, "sizes": sizes, "names": {s: s for s in sizes},
             "features": ["frequency"], "log_features": [], "pca_components": 0,
             "customers": sum(sizes.values())} | fields
    return SegmentationMetrics.model_validate(entry).as_json()


def journey_entry(**fields) -> dict:
    """A complete ``customer_journey`` entry (funnel steps given by name and customers), validated."""
    from cxnb.journey.metrics import JourneyMetrics

    step = {"step_conversion": None, "overall_conversion": None, "overall_ci_low": None, "overall_ci_high": None,
            "median_hours_from_start": None, "ever_customers": 0, "events": 0}
    if fields.get("funnel"):
        fields["funnel"] = [step | {"ever_customers": s["customers"], "events": s["customers"]} | s
                            for s in fields["funnel"]]
    entry = {"period": "month", "last_period_partial": False, "cohorts": 0, "retention": {}} | fields
    return JourneyMetrics.model_validate(entry).as_json()


def value_entry(**fields) -> dict:
    """A complete ``customer_value`` entry, ``fields`` set and the rest filled in, validated."""
    from cxnb.value.metrics import ValueMetrics

    score = {"predicted": 100.0, "actual": 100.0, "error_share": 0.0, "rmse": 1.0, "mae": 1.0}
    entry = {"model": "bg_nbd", "model_name": "BG/NBD", "models_compared": ["bg_nbd"],
             "calibration_end": "2024-06-30", "holdout_start": "2024-07-01", "holdout_days": 180,
             "backtest_customers": 1000, "holdout": {"bg_nbd": score}, "holdout_revenue": {"bg_nbd": score},
             "beats_past_rate": True, "p_active_shown": False, "p_active_auc": {}, "calibration_parameters": {},
             "parameters": {}, "spend_parameters": {}, "spend_customers": 1000, "spend_frequency_correlation": None,
             "customers": 5000, "horizon_days": 365, "clv_months": 12, "discount_rate": 0.01,
             "expected_purchases": 1.0, "total_clv": 500000.0, "mean_clv": 100.0, "concentration": None} | fields
    return ValueMetrics.model_validate(entry).as_json()
