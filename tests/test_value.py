"""Customer value: published CDNOW figures through the kit's own path, a planted BG/NBD process recovered, the
backtest against naive predictors, skips, determinism and the demo."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cxnb import value as cv
from cxnb.config import ValueConfig, load_params
from cxnb.constants import COL_CUSTOMER
from cxnb.context import open_run
from cxnb.engine import from_duckdb
from cxnb.errors import ConfigError, StageSkipped
from cxnb.summary import findings
from tests.conftest import ROOT, shared_data, write_params

PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "v": 15.44}


def _published_summary() -> pd.DataFrame:
    d = pd.read_csv(shared_data("cdnow-sample", "cdnow_customers_summary_with_transactions.csv"))
    return pd.DataFrame({COL_CUSTOMER: d["ID"].astype(str).str.zfill(4), "frequency": d["x"], "recency": d["t_x"],
                         "T": d["T"], "monetary_value": d["zbar"].where(d["x"] > 0)})


# ----------------------------------------------------------------------------- published figures

@pytest.mark.realdata
def test_bgnbd_on_the_published_summary_gives_the_published_parameters_and_conditional_expectation():
    summary = _published_summary()
    model = cv.fit_purchases("bg_nbd", summary)
    for name, value in PUBLISHED_BGNBD.items():
        assert model.params[name] == pytest.approx(value, abs=0.005), name
    one = pd.DataFrame({COL_CUSTOMER: ["x"], "frequency": [2], "recency": [30.43], "T": [38.86]})
    assert model.expected_purchases(one, 39)[0] == pytest.approx(1.226, abs=0.001)


@pytest.mark.realdata
def test_gamma_gamma_on_the_946_repeat_buyers_gives_the_published_parameters():
    spend = cv.fit_spend(_published_summary())
    assert spend.customers == 946
    for name, value in PUBLISHED_GG.items():
        assert spend.params[name] == pytest.approx(value, abs=0.01), name
    assert abs(spend.correlation) < 0.3  # the model's assumption holds on CDNOW


@pytest.mark.realdata
@pytest.mark.slow
def test_pareto_nbd_on_the_published_summary_gives_the_published_parameters():
    model = cv.fit_purchases("pareto_nbd", _published_summary())
    for name, value in PUBLISHED_PARETO.items():
        assert model.params[name] == pytest.approx(value, abs=0.005), name


@pytest.mark.realdata
@pytest.mark.parametrize("kind", ["bg_nbd", "mbg_nbd", "gamma_gamma"])
def test_the_weighted_distinct_rows_fit_finds_the_library_map_fit_on_every_customer(kind):
    """Fitting on distinct (frequency, recency, T) or (frequency, spend) rows weighted by their customers finds
    the optimum PyMC-Marketing's own ``fit(method="map")`` finds on one row per customer, to 1e-6."""
    summary = _published_summary()
    clv = cv.clv_library()
    if kind == "gamma_gamma":
        ours = cv.fit_spend(summary).params
        data = cv.repeat_buyers(summary)[[COL_CUSTOMER, "frequency", "monetary_value"]]
        library = clv.GammaGammaModel(model_config=_flat(("p", "q", "v")))
    else:
        ours = cv.fit_purchases(kind, summary).params
        data = summary[[COL_CUSTOMER, "frequency", "recency", "T"]]
        cls = clv.BetaGeoModel if kind == "bg_nbd" else clv.ModifiedBetaGeoModel
        library = cls(model_config=_flat(("r", "alpha", "a", "b")))
    library.fit(data=data, method="map", progressbar=False)
    for name, value in ours.items():
        assert value == pytest.approx(float(library.idata.posterior[name].values.ravel()[0]), rel=1e-6), name


def _flat(names) -> dict:
    from pymc_extras.prior import Prior

    return {name: Prior("HalfFlat") for name in names}


def test_unique_rows_weights_and_positions_rebuild_the_frame():
    frame = pd.DataFrame({"frequency": [1, 0, 1, 2, 0], "recency": [3.0, 0.0, 3.0, 5.0, 0.0], "T": [9.0, 4.0, 9.0, 9.0, 4.0]})
    rows, codes = cv.unique_rows(frame, ["frequency", "recency", "T"])
    assert len(rows) == 3 and rows["weight"].sum() == len(frame)
    pd.testing.assert_frame_equal(rows.loc[codes, ["frequency", "recency", "T"]].reset_index(drop=True), frame)


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory):
    """The CDNOW sample through params/cdnow.yaml, prepared and valued by the stage (ids pseudonymized)."""
    shared_data("cdnow-sample", "CDNOW_sample.txt")
    with pytest.MonkeyPatch.context() as mp:  # module scope: the autouse secret fixture is not active yet
        mp.setenv("CXNB_SECRET", "test-secret")
        run = open_run(load_params(ROOT / "params" / "cdnow.yaml"), tmp_path_factory.mktemp("cdnow"))
        return run, cv.run_stage(run)


@pytest.mark.realdata
def test_kit_path_reproduces_the_published_calibration_summary(tmp_path):
    shared_data("cdnow-sample", "CDNOW_sample.txt")
    params = load_params(ROOT / "params" / "cdnow.yaml")
    params.privacy.pseudonymize_ids = False
    run = open_run(params, tmp_path / "run")
    days = cv.purchase_days(from_duckdb(run.path("transactions")))
    split = cv.split_periods(days, run.cutoff, params.analysis.value.holdout_days)
    assert split.holdout_weeks == 39 and str(split.calibration_end.date()) == "1997-09-30"
    ours = cv.btyd_summary(days, split.calibration_end).merge(_published_summary(), on=COL_CUSTOMER,
                                                               suffixes=("", "_published"))
    # Cleaning drops the 8 customers whose only purchase was $0.00; everyone else matches the published summary.
    assert len(ours) == 2357 - 8
    assert (ours["frequency"] == ours["frequency_published"]).all()
    assert np.abs(ours["recency"] - ours["recency_published"]).max() < 0.005  # published to 2 decimals
    assert np.abs(ours["T"] - ours["T_published"]).max() < 0.005


@pytest.mark.realdata
def test_kit_path_bgnbd_parameters_are_the_published_ones_and_the_backtest_beats_the_naive_predictors(cdnow):
    _, result = cdnow
    bt = result.backtest
    fitted = bt.models["bg_nbd"].params
    for name, value in PUBLISHED_BGNBD.items():  # 8 $0.00 one-time buyers fewer than the paper: within 0.01
        assert fitted[name] == pytest.approx(value, abs=0.01), name
    assert bt.models["pareto_nbd"].params["r"] == pytest.approx(PUBLISHED_PARETO["r"], abs=0.01)
    # Duplicate lines are dropped by cleaning (no order ids in CDNOW), so spend moves a little.
    for name, value in PUBLISHED_GG.items():
        assert bt.spend.params[name] == pytest.approx(value, rel=0.02), name
    chosen = bt.scores[bt.chosen]
    assert chosen["rmse"] < bt.scores["past_rate"]["rmse"] and chosen["rmse"] < bt.scores["zero"]["rmse"]
    assert abs(chosen["error_share"]) < abs(bt.scores["past_rate"]["error_share"])
    assert chosen["actual"] == bt.holdout["purchases"].sum() > 1500
    assert bt.scores["bg_nbd"]["predicted"] == pytest.approx(1653, abs=5)  # the figure the issue quotes


@pytest.mark.realdata
def test_bgnbd_p_active_ranks_one_time_buyers_wrongly_and_is_never_shown_when_worse_than_recency(cdnow):
    run, result = cdnow
    bt = result.backtest
    once = bt.one_time_buyers("bg_nbd")
    assert once["mean_p_active"] == 1.0 and once["bought_again"] < 0.2
    assert bt.auc["bg_nbd"] < 0.5 < bt.auc["pareto_nbd"]
    assert result.show_p_active == (bt.auc[result.model.kind] >= bt.auc["recency_rule"])
    cv.export(run, result)
    exported = pd.read_csv(run.run_dir / "exports" / "customer_value.csv")
    assert ("p_active" in exported.columns) == result.show_p_active
    assert ("p_active" in cv.decile_table(result).columns.str.lower().tolist()) == result.show_p_active


@pytest.mark.realdata
def test_cdnow_forward_value_and_metrics(cdnow):
    run, result = cdnow
    c = result.customers
    assert len(c) == 2349 and c[COL_CUSTOMER].str.fullmatch(r"[0-9a-f]{16}").all()  # pseudonyms, not '0001'
    assert (c["clv"] >= 0).all() and c["clv"].is_monotonic_decreasing
    assert (c.groupby("clv_decile")["clv"].min().diff().dropna() < 0).all()  # decile 1 is the most valuable
    assert 0.2 < result.concentration < 1
    m = result.metrics().as_json()
    assert m["model"] in m["models_compared"] and m["beats_past_rate"] is True
    assert m["total_clv"] == pytest.approx(c["clv"].sum(), rel=1e-6) and m["clv_months"] == 12
    undiscounted = (c["expected_purchases"] * c["expected_spend"]).sum()
    assert m["total_clv"] < undiscounted  # discounting at 10% a year lowers the value
    assert set(result.segments["rfm"]["group"]) <= {"Champions", "Loyal", "Potential loyalists", "New customers",
                                                    "Promising", "Need attention", "About to sleep",
                                                    "Can't lose them", "At risk", "Hibernating"}
    assert (result.segments["rfm"]["customers"] >= run.params.privacy.min_group_size).all()


# ----------------------------------------------------------------------------- a planted process

def _simulate_bgnbd(n: int, r: float, alpha: float, a: float, b: float, weeks: float, seed: int) -> pd.DataFrame:
    """Purchase days of ``n`` customers following BG/NBD (rate ~ Gamma(r, alpha) per week, dropout ~ Beta(a, b) after
    each repeat purchase), born over the first 12 weeks and watched until ``weeks``."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    birth = rng.integers(0, 12 * 7, n)
    rows = []
    for i in range(n):
        t = birth[i] / 7
        rows.append((i, t))
        while True:  # alive after the first purchase; may drop out after each repeat purchase
            t += rng.exponential(1 / lam[i])
            if t >= weeks:
                break
            rows.append((i, t))
            if rng.random() < p[i]:
                break
    df = pd.DataFrame(rows, columns=["c", "week"])
    days = pd.Timestamp("2020-01-01") + pd.to_timedelta(np.floor(df["week"] * 7), unit="D")
    out = pd.DataFrame({COL_CUSTOMER: df["c"].map("c{:05d}".format), "day": days,
                        "spend": rng.gamma(6.0, 5.0, len(df))})
    return out.drop_duplicates([COL_CUSTOMER, "day"]).sort_values([COL_CUSTOMER, "day"], ignore_index=True)


def test_a_planted_bgnbd_process_is_recovered_and_beats_the_naive_predictors():
    truth = {"r": 0.5, "alpha": 4.0, "a": 0.8, "b": 2.5}
    days = _simulate_bgnbd(4000, **truth, weeks=104, seed=7)
    config = ValueConfig(models=["bg_nbd"], holdout_days=364)
    cutoff = pd.Timestamp("2020-01-01") + pd.Timedelta(days=364)
    backtest, _, model, _, _ = cv.value_from_days(days, cutoff, config, 90)
    fitted = backtest.models["bg_nbd"].params
    assert fitted["r"] == pytest.approx(truth["r"], rel=0.2)
    assert fitted["alpha"] == pytest.approx(truth["alpha"], rel=0.25)
    assert fitted["a"] / (fitted["a"] + fitted["b"]) == pytest.approx(truth["a"] / (truth["a"] + truth["b"]), rel=0.25)
    s = backtest.scores
    assert s["bg_nbd"]["rmse"] < s["past_rate"]["rmse"] and abs(s["bg_nbd"]["error_share"]) < 0.15
    track = backtest.tracking
    assert abs(track["expected"].iloc[-1] / track["actual"].iloc[-1] - 1) < 0.15
    assert model.kind == "bg_nbd" and model.customers == days[COL_CUSTOMER].nunique()


# ----------------------------------------------------------------------------- small pieces

def test_summary_counts_one_purchase_per_day_and_repeat_spend_only():
    days = pd.DataFrame({COL_CUSTOMER: ["a", "a", "a", "b"],
                         "day": pd.to_datetime(["2021-01-01", "2021-01-08", "2021-01-22", "2021-01-15"]),
                         "spend": [100.0, 10.0, 30.0, 5.0]})
    s = cv.btyd_summary(days, pd.Timestamp("2021-01-29")).set_index(COL_CUSTOMER)
    assert s.loc["a", "frequency"] == 2 and s.loc["a", "recency"] == 3 and s.loc["a", "T"] == 4
    assert s.loc["a", "monetary_value"] == 20  # the first purchase's 100 is not a repeat purchase
    assert s.loc["b", "frequency"] == 0 and np.isnan(s.loc["b", "monetary_value"]) and s.loc["b", "T"] == 2
    assert cv.past_rate(s.reset_index(), 8).tolist() == [4.0, 0.0]


def test_purchase_days_sum_the_lines_of_a_day(tmp_path):
    tx = pd.DataFrame({COL_CUSTOMER: ["a", "a", "b"], "timestamp": pd.to_datetime(["2021-01-01 09:00",
                       "2021-01-01 17:00", "2021-01-02 10:00"]), "amount": [1.5, 2.5, 4.0]})
    days = cv.purchase_days(from_duckdb(tx))
    assert days.to_dict("list") == {COL_CUSTOMER: ["a", "b"], "day": list(pd.to_datetime(["2021-01-01", "2021-01-02"])),
                                    "spend": [4.0, 4.0]}


def test_top_share_and_scores():
    assert cv.top_share(np.array([10.0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 0.2) == 1.0
    assert cv.top_share(np.ones(10), 0.2) == pytest.approx(0.2)
    s = cv.scores(np.array([0.0, 2.0]), np.array([1.0, 1.0]))
    assert s == {"predicted": 2.0, "actual": 2.0, "error_share": 0.0, "rmse": 1.0, "mae": 1.0}


def test_too_few_repeat_buyers_is_a_stated_skip():
    days = pd.DataFrame({COL_CUSTOMER: [f"c{i}" for i in range(200)],
                         "day": pd.Timestamp("2021-01-01") + pd.to_timedelta(np.arange(200) % 300, unit="D"),
                         "spend": 1.0})
    with pytest.raises(StageSkipped, match="bought on more than one day"):
        cv.value_from_days(days, None, ValueConfig(), 90)


def test_no_amounts_is_a_stated_skip(tmp_path):
    (tmp_path / "o.csv").write_text("c,d\n1,2021-01-01\n1,2021-02-01\n2,2021-01-05\n")
    params = load_params(write_params(tmp_path, """
        client: t
        privacy: {pseudonymize_ids: false, min_group_size: 1}
        data:
          transactions: {source: o.csv, columns: {customer_id: c, timestamp: d}}
        """))
    run = open_run(params, tmp_path / "run")
    with pytest.raises(StageSkipped, match="no prices or amounts"):
        cv.check(run)


def test_value_config_defaults_and_unknown_keys(tmp_path):
    assert ValueConfig().horizon_days == 365 and ValueConfig().discount_rate == 0.10
    assert ValueConfig().holdout_days is None
    (tmp_path / "o.csv").write_text("c,d,a\n1,2021-01-01,3\n")
    path = write_params(tmp_path, """
        client: t
        data:
          transactions: {source: o.csv, columns: {customer_id: c, timestamp: d, amount: a}}
        analysis:
          value: {horizon_day: 30}
        """)
    with pytest.raises(ConfigError, match="analysis.value.horizon_day.*did you mean 'horizon_days'"):
        load_params(path)


def test_index_findings_for_customer_value():
    from tests.conftest import value_entry

    held = {"predicted": 1653.4, "actual": 1882.0, "error_share": -0.1215, "rmse": 1.0, "mae": 1.0}
    m = {"customer_value": value_entry(concentration=0.62, horizon_days=365, mean_clv=30.19, model="bg_nbd",
                                       model_name="BG/NBD", holdout={"bg_nbd": held})}
    said = findings(m, "en", currency="USD")["customer_value"]
    assert said[0].startswith("The top 20% of customers hold 62%") and "$30.19" in said[0]
    assert "expected 1,653 repeat purchases, customers made 1,882 (-12%)" in said[1]
    assert len(findings(m, "zh")["customer_value"]) == 2


# ----------------------------------------------------------------------------- the demo

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    run = open_run(ROOT / "params" / "demo.yaml", tmp_path_factory.mktemp("demo"))
    return run, cv.run_stage(run)


def test_demo_fit_is_sensible(demo):
    _, result = demo
    bt = result.backtest
    assert bt.chosen in ("bg_nbd", "mbg_nbd")
    assert bt.scores[bt.chosen]["rmse"] < min(bt.scores["past_rate"]["rmse"], bt.scores["zero"]["rmse"])
    assert bt.auc["expected_purchases"] > 0.75
    assert abs(result.spend.correlation) < 0.3
    assert result.customers["clv"].gt(0).all() and 0.3 < result.concentration < 0.95
    by = bt.by_frequency()
    assert by[bt.chosen].is_monotonic_increasing and by["actual"].is_monotonic_increasing


def test_demo_tables_and_plots_in_both_languages(demo):
    import matplotlib

    matplotlib.use("Agg")
    _, result = demo
    for lang in ("en", "zh"):
        assert "**" in cv.backtest_sentences(result, lang) and cv.p_active_sentences(result, lang)
        assert len(cv.frequency_table(result, lang)) == 8
        assert len(cv.models_table(result, lang)) == len(result.backtest.models) + 2
        assert len(cv.decile_table(result, lang)) == 10
        assert len(cv.top_customers_table(result, lang)) == 20
        for plot in (cv.plot_frequency_backtest, cv.plot_tracking, cv.plot_concentration):
            assert plot(result, lang).get_title()
    import matplotlib.pyplot as plt

    plt.close("all")


def test_stage_is_deterministic(demo, tmp_path):
    run, result = demo
    again = cv.run_stage(run)
    assert json.dumps(again.metrics().as_json(), sort_keys=True) == json.dumps(result.metrics().as_json(),
                                                                                sort_keys=True)
    pd.testing.assert_frame_equal(cv.value_export(again), cv.value_export(result))


def test_a_candidate_whose_forecasts_are_undefined_is_left_out_and_none_left_skips_the_stage(monkeypatch):
    """A fit run off to the edge (every customer buying at one rate: r, α → ∞, a → 0) forecasts NaN; it is not
    compared, and when no candidate is left the stage says why, naming the fitted parameters."""
    from cxnb.value.models import PurchaseModel

    forecast = PurchaseModel.expected_purchases
    broken = {"bg_nbd"}

    def undefined_for_broken(self, summary, weeks):
        out = forecast(self, summary, weeks)
        return np.full(len(out), np.nan) if self.kind in broken else out

    monkeypatch.setattr(PurchaseModel, "expected_purchases", undefined_for_broken)
    days = _simulate_bgnbd(2000, r=0.5, alpha=4.0, a=0.8, b=2.5, weeks=104, seed=7)
    cutoff = pd.Timestamp("2020-01-01") + pd.Timedelta(days=364)
    config = ValueConfig(models=["bg_nbd", "mbg_nbd"], holdout_days=364)
    backtest, *_ = cv.value_from_days(days, cutoff, config, 90)
    assert list(backtest.models) == ["mbg_nbd"] and backtest.chosen == "mbg_nbd"
    assert "bg_nbd" not in backtest.predictions
    broken.add("mbg_nbd")
    with pytest.raises(StageSkipped, match=r"BG/NBD: r = [0-9.e+]+, alpha = "):
        cv.value_from_days(days, cutoff, config, 90)
    with pytest.raises(StageSkipped, match="购买模型"):
        cv.value_from_days(days, cutoff, config, 90, language="zh")
