"""Customer journey: planted funnels, retention and lifecycle are recovered; purchases-only logs get no funnel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxnb import journey as cj
from cxnb.engine import from_duckdb
from cxnb.journey.periods import is_partial, period_index, period_label, period_start

HOUR = pd.Timedelta(hours=1)


def _log(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["customer_id", "timestamp", "event_type"])
    return df.astype({"timestamp": "datetime64[us]"})


@pytest.fixture(scope="module")
def planted_funnel() -> pd.DataFrame:
    """20,000 viewers; 40% add to cart within 48 h; half of those buy within 48 h after, 10% of the rest a
    month later (outside the window)."""
    rng = np.random.default_rng(0)
    rows = []
    for c in range(20_000):
        t0 = pd.Timestamp("2021-01-01") + pd.Timedelta(days=float(rng.uniform(0, 300)))
        rows.append((f"c{c}", t0, "view"))
        if rng.random() < 0.4:
            t1 = t0 + float(rng.uniform(1, 48)) * HOUR
            rows.append((f"c{c}", t1, "cart"))
            if rng.random() < 0.5:
                rows.append((f"c{c}", t1 + float(rng.uniform(1, 48)) * HOUR, "purchase"))
            elif rng.random() < 0.2:
                rows.append((f"c{c}", t1 + pd.Timedelta(days=30), "purchase"))
    return _log(rows)


def test_planted_funnel_rates_are_recovered_within_one_point(planted_funnel):
    steps = cj.funnel_table(from_duckdb(planted_funnel), cj.Funnel())
    assert steps["customers"].iloc[0] == 20_000
    assert steps["step_conversion"].iloc[1] == pytest.approx(0.40, abs=0.01)
    assert steps["step_conversion"].iloc[2] == pytest.approx(0.50, abs=0.01)
    # Late purchases count as "ever" but not within the window.
    assert steps["ever_customers"].iloc[2] > steps["customers"].iloc[2] + 500
    row = steps.iloc[2]
    assert row["overall_ci_low"] < row["overall_conversion"] < row["overall_ci_high"]
    assert row["overall_ci_high"] - row["overall_ci_low"] < 0.015
    # Median hours from the view to the purchase: cart after U(1, 48) h, purchase U(1, 48) h later -> about 49 h.
    assert row["median_hours_from_start"] == pytest.approx(49, rel=0.05)


def test_funnel_is_ordered_and_windowed():
    t0 = pd.Timestamp("2021-03-01")
    log = _log([("a", t0, "view"), ("a", t0 + HOUR, "cart"), ("a", t0 + 2 * HOUR, "purchase"),  # converts
                ("b", t0, "cart"), ("b", t0 + HOUR, "view"), ("b", t0 + 2 * HOUR, "purchase"),  # cart before view
                ("c", t0, "view"), ("c", t0 + HOUR, "favourite"), ("c", t0 + 8 * 24 * HOUR, "purchase"),  # too late
                ("d", t0, "view")])
    steps = cj.funnel_table(from_duckdb(log), cj.Funnel(window_days=7))
    assert steps["customers"].tolist() == [4, 2, 1]
    assert steps["ever_customers"].tolist() == [4, 3, 3]
    assert steps["drop_off"].tolist() == [0, 2, 1]


def test_funnel_by_group_hides_small_groups(planted_funnel):
    log = planted_funnel.assign(grp=np.where(planted_funnel["customer_id"].str[-1].isin(list("01234")), "a", "b"))
    log.loc[log["customer_id"] == "c7", "grp"] = "tiny"
    by = cj.funnel_by(from_duckdb(log), cj.Funnel(), "grp", min_customers=10)
    assert set(by["grp"]) == {"a", "b"}
    for _, g in by.groupby("grp"):
        assert g["step_conversion"].iloc[1] == pytest.approx(0.40, abs=0.02)


def test_top_paths_follow_first_occurrence():
    t0 = pd.Timestamp("2021-03-01")
    log = _log([("a", t0, "view"), ("a", t0 + HOUR, "cart"), ("a", t0 + 2 * HOUR, "purchase"),
                ("a", t0 + 3 * HOUR, "view"), ("b", t0, "view"), ("b", t0 + HOUR, "purchase"),
                ("c", t0, "view"), ("d", t0, "view"), ("d", t0 + HOUR, "cart"), ("d", t0 + 2 * HOUR, "purchase")])
    paths = cj.top_paths(from_duckdb(log))
    assert paths.set_index("path")["customers"].to_dict() == {
        "view → cart → purchase": 2, "view": 1, "view → purchase": 1}
    assert paths["share"].sum() == pytest.approx(1.0)


@pytest.fixture(scope="module")
def planted_cohorts() -> pd.DataFrame:
    """Six monthly cohorts of 1,000 customers; each buys again k months later with probability R[k]."""
    rng = np.random.default_rng(1)
    rows = []
    for m in range(6):
        start = pd.Timestamp(2021, 1 + m, 1)
        for c in range(1000):
            rows.append((f"m{m}c{c}", start + pd.Timedelta(days=float(rng.uniform(0, 27))), 10.0))
            for k, p in RETENTION.items():
                if rng.random() < p:
                    when = start + pd.DateOffset(months=k) + pd.Timedelta(days=float(rng.uniform(0, 27)))
                    rows.append((f"m{m}c{c}", when, 5.0))
    tx = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"]).astype({"timestamp": "datetime64[us]"})
    return tx[tx["timestamp"] < "2021-08-10"]  # the data stops on 9 August: August is partial


RETENTION = {1: 0.30, 2: 0.20, 3: 0.15, 4: 0.12, 5: 0.10}


def test_planted_retention_is_recovered(planted_cohorts):
    eng = from_duckdb(planted_cohorts)
    counts = cj.cohort_counts(eng)
    last = int(period_index_of("2021-08-09"))
    table = cj.retention_table(counts, last)
    avg = cj.average_retention(table, complete_until=last - 1).set_index("offset")["retention"]
    for k, p in RETENTION.items():
        assert avg[k] == pytest.approx(p, abs=0.02), k
    assert is_partial(last, "month", pd.Timestamp("2021-08-09 18:00"))
    assert not is_partial(last - 1, "month", pd.Timestamp("2021-08-09 18:00"))
    revenue = table[table["offset"] == 1]["revenue_retention"]
    assert (revenue.dropna() < 0.5 * 0.30 + 0.05).all()  # returning purchases are half the first one


def period_index_of(day: str) -> int:
    ts = pd.Timestamp(day)
    return ts.year * 12 + ts.month - 1


def test_lifecycle_counts_each_status():
    days = {"a": ["2021-01-05", "2021-02-05", "2021-03-05"],   # new, returning, returning
            "b": ["2021-01-10", "2021-03-10"],                 # new, (dormant in Feb), resurrected
            "c": ["2021-02-01"]}                               # new in Feb, dormant in Mar
    tx = pd.DataFrame([(c, pd.Timestamp(d)) for c, ds in days.items() for d in ds], columns=["customer_id", "timestamp"])
    lc = cj.lifecycle_counts(from_duckdb(tx.astype({"timestamp": "datetime64[us]"}))).set_index("period")
    jan, feb, mar = (period_index_of(f"2021-0{m}-01") for m in (1, 2, 3))
    assert lc.loc[jan, ["new", "returning", "resurrected", "dormant"]].tolist() == [2, 0, 0, 0]
    assert lc.loc[feb, ["new", "returning", "resurrected", "dormant"]].tolist() == [1, 1, 0, 1]
    assert lc.loc[mar, ["new", "returning", "resurrected", "dormant"]].tolist() == [0, 1, 1, 1]
    assert lc.index.max() == mar  # no dormant-only period after the data


def test_periods_are_consecutive_integers():
    eng = from_duckdb(pd.DataFrame({"timestamp": pd.to_datetime(["1970-01-05 00:00", "1970-01-11 23:00",
                                                                  "1970-01-12 00:00", "2021-03-15 00:00"])}))
    t = eng.table
    out = eng.frame(t.mutate(w=period_index(t.timestamp, "week"), m=period_index(t.timestamp, "month")))
    assert out["w"].tolist()[:3] == [0, 0, 1]
    assert period_start(int(out["w"].iloc[3]), "week") == pd.Timestamp("2021-03-15")
    assert period_label(int(out["m"].iloc[3]), "month") == "2021-03"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    from cxnb.context import open_run
    from tests.conftest import ROOT

    return open_run(ROOT / "params" / "demo.yaml", tmp_path_factory.mktemp("journey-demo"))


def test_demo_planted_funnel_is_recovered(demo_run):
    from cxnb.demo import FUNNEL

    result = cj.run_stage(demo_run)
    steps = result.steps.set_index("step")
    buyers = int(demo_run.quality["tables"]["transactions"]["summary"]["customers"])
    visitors = FUNNEL["visitors"]
    assert steps.loc[1, "customers"] == buyers + visitors
    buyer_step2 = FUNNEL["buyer_cart"] + (1 - FUNNEL["buyer_cart"]) * FUNNEL["buyer_favourite"]
    planted2 = (buyers * buyer_step2 + visitors * FUNNEL["visitor_step2"]) / (buyers + visitors)
    planted3 = buyers * buyer_step2 / (buyers * buyer_step2 + visitors * FUNNEL["visitor_step2"])
    assert steps.loc[2, "step_conversion"] == pytest.approx(planted2, abs=0.01)
    assert steps.loc[3, "step_conversion"] == pytest.approx(planted3, abs=0.01)
    lo, hi = FUNNEL["buyer_view_hours"]
    assert steps.loc[3, "median_hours_from_start"] == pytest.approx((lo + hi) / 2, rel=0.05)
    # Event-level ratios differ from customer-level rates: many views per purchase.
    assert steps.loc[3, "events_per_first_step_event"] > steps.loc[3, "overall_conversion"] + 0.3
    paths = result.paths.set_index("path")["share"]
    assert paths.idxmax() == "view → cart → purchase"
    metrics = result.metrics().as_json()
    assert metrics["funnel"][2]["customers"] == steps.loc[3, "customers"]
    assert set(result.by_group) == {"category", "segment"}


def test_demo_orders_count_purchases_only(demo_run):
    tx = demo_run.transactions()
    events = pd.read_parquet(demo_run.path("events"))
    assert "event_type" not in tx.columns
    assert set(events["event_type"]) == {"view", "cart", "favourite", "purchase"}
    assert (events["event_type"] == "purchase").sum() == len(tx)
    counts = demo_run.quality["tables"]["transactions"]["event_types"]
    assert counts["view"] > counts["purchase"] / 2
    from cxnb.quality import quality_metrics

    dq = quality_metrics(demo_run.quality)  # events are kept, not counted as lines removed by cleaning
    assert dq.rows_read == counts["purchase"] and dq.rows_read - dq.rows_removed == dq.rows_kept
    assert dq.event_lines == sum(counts.values()) - counts["purchase"]


def test_purchases_only_client_gets_retention_and_a_reason(tmp_path):
    from cxnb.context import open_run
    from cxnb.i18n import t
    from tests.conftest import write_params

    rows = [f"c{i % 40},2021-{1 + i % 6:02d}-{1 + i % 27:02d},{10 + i % 7}" for i in range(400)]
    (tmp_path / "o.csv").write_text("CustomerID,InvoiceDate,Amount\n" + "\n".join(rows) + "\n")
    params = write_params(tmp_path, "client: t\nprivacy: {min_group_size: 2}\ndata: {transactions: {source: o.csv, "
                                    "columns: {customer_id: CustomerID, timestamp: InvoiceDate, amount: Amount}}}\n")
    result = cj.run_stage(open_run(params, tmp_path / "run"))
    assert result.no_funnel == "purchases_only" and result.steps is None
    assert not result.retention.empty and not result.lifecycle.empty
    for lang in ("en", "zh"):
        assert t(f"cj.no_funnel.{result.no_funnel}", lang)
    metrics = result.metrics().as_json()
    assert metrics["funnel"] is None
    curve = metrics["retention_curve"]  # the index page's retention chart: period 1 onward, as in `retention`
    assert 2 <= len(curve) <= 12 and curve[0] == metrics["retention"]["period_1"]
    assert all(0 <= x <= 1 for x in curve)


def test_event_values_map_a_client_log(tmp_path):
    from cxnb.context import open_run
    from tests.conftest import write_params

    lines = ["u1,2021-03-01 10:00,pv", "u1,2021-03-01 10:05,cart", "u1,2021-03-01 11:00,buy",
             "u2,2021-03-02 09:00,pv", "u2,2021-03-02 09:01,fav", "u3,2021-03-03 12:00,pv", "u3,2021-03-03 12:30,buy",
             "u3,2021-03-05 12:30,share"]
    (tmp_path / "b.csv").write_text("user,time,behavior\n" + "\n".join(lines) + "\n")
    params = write_params(tmp_path, """
        client: t
        privacy: {min_group_size: 1}
        data:
          transactions:
            source: b.csv
            columns: {customer_id: user, timestamp: time, event_type: behavior}
            event_values: {pv: view, cart: cart, fav: favourite, buy: purchase}
        """)
    run = open_run(params, tmp_path / "run")
    assert len(run.transactions()) == 2  # two purchases: the orders
    assert run.quality["tables"]["transactions"]["event_types"] == {"view": 3, "purchase": 2, "cart": 1,
                                                                     "favourite": 1, "share": 1}
    steps = cj.run_stage(run).steps
    assert steps["customers"].tolist() == [3, 2, 1]


def test_a_log_without_purchases_is_a_clear_error(tmp_path, capsys):
    from cxnb.cli import main
    from tests.conftest import write_params

    (tmp_path / "b.csv").write_text("user,time,behavior\nu1,2021-03-01,pv\nu2,2021-03-02,buy\n")
    params = write_params(tmp_path, "client: t\ndata: {transactions: {source: b.csv, columns: {customer_id: user, "
                                    "timestamp: time, event_type: behavior}}}\n")
    assert main(["validate", str(params)]) == 2
    err = capsys.readouterr().err.strip()
    assert "no line has the event type 'purchase' (found 'buy', 'pv')" in err or \
        "no line has the event type 'purchase' (found 'pv', 'buy')" in err
    assert "data.transactions.event_values" in err and err.count("\n") == 0
