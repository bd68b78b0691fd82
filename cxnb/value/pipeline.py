"""The customer-value stage: inputs, the backtest, the forward fit on the whole history, per-customer value."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from cxnb.config import ValueConfig, cutoff_instant
from cxnb.constants import COL_AMOUNT, COL_CUSTOMER
from cxnb.engine import from_duckdb
from cxnb.errors import StageSkipped
from cxnb.i18n import t
from cxnb.value.backtest import Backtest, run_backtest, undefined_fit
from cxnb.value.data import (
    WEEK_DAYS,
    Split,
    btyd_summary,
    daily_repeat_purchases,
    holdout_purchases,
    purchase_days,
    split_periods,
)
from cxnb.value.metrics import ValueMetrics, metrics_of
from cxnb.value.models import PurchaseModel, SpendModel, clv_library, fit_purchases, fit_spend

MIN_REPEAT_CUSTOMERS = 30   # repeat buyers in the calibration period needed to fit the models
MIN_HOLDOUT_DAYS = 7
TOP_SHARE = 0.2             # the concentration figure: value held by the top 20% of customers
DAYS_PER_MONTH = 365 / 12


@dataclass
class ValueResult:
    """Everything the customer-value report shows, computed once."""

    config: ValueConfig
    language: str
    min_group_size: int
    backtest: Backtest
    history: pd.DataFrame          # BTYD summary of the whole history
    model: PurchaseModel           # the chosen model, refitted on the whole history
    spend: SpendModel
    customers: pd.DataFrame        # the forward figures per customer
    months: int                    # CLV horizon in whole months
    currency: str | None = None
    segments: dict[str, pd.DataFrame] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def split(self) -> Split:
        return self.backtest.split

    @property
    def show_p_active(self) -> bool:
        """Whether P(active) is shown: only when the backtest found it ranks buyers at least as well as recency."""
        return self.backtest.p_active_trusted(self.model.kind)

    @property
    def concentration(self) -> float:
        """Share of the predicted value held by the top 20% of customers."""
        return top_share(self.customers["clv"].to_numpy(), TOP_SHARE)

    def metrics(self) -> ValueMetrics:
        """The ``customer_value`` entry of metrics.json."""
        return metrics_of(self)


def top_share(values: np.ndarray, share: float) -> float:
    """Share of the total held by the largest ``share`` of the values."""
    ordered = np.sort(values)[::-1]
    total = ordered.sum()
    return float(ordered[: max(1, int(round(share * len(ordered))))].sum() / total) if total > 0 else float("nan")


def check(run) -> None:
    """Raise StageSkipped unless the run has purchases with amounts (needed for value)."""
    lang = run.params.language
    if not run.has("transactions"):
        raise StageSkipped(t("cv.skip.no_transactions", lang))
    if COL_AMOUNT not in pq.read_schema(run.path("transactions")).names:
        raise StageSkipped(t("cv.skip.no_money", lang))


def check_repeat_buyers(calibration: pd.DataFrame, cutoff: pd.Timestamp, language: str) -> None:
    """Raise StageSkipped when too few customers bought more than once before the cutoff."""
    repeat = int((calibration["frequency"] > 0).sum())
    if repeat < MIN_REPEAT_CUSTOMERS:
        raise StageSkipped(t("cv.skip.few_repeat", language, n=repeat, customers=len(calibration),
                             cutoff=cutoff.date(), minimum=MIN_REPEAT_CUSTOMERS))


def check_split(split: Split, language: str) -> None:
    """Raise StageSkipped when the data leaves no calibration period or too short a holdout."""
    if split.cutoff <= split.first_day or split.holdout_days < MIN_HOLDOUT_DAYS:
        raise StageSkipped(t("cv.skip.no_holdout", language, first=split.first_day.date(), last=split.last_day.date(),
                             cutoff=split.cutoff.date(), minimum=MIN_HOLDOUT_DAYS))


def fit_candidates(kinds: list[str], summary: pd.DataFrame) -> dict[str, PurchaseModel]:
    """Every candidate purchase model fitted on ``summary``."""
    return {kind: fit_purchases(kind, summary) for kind in kinds}


def forward_table(history: pd.DataFrame, model: PurchaseModel, spend: SpendModel, config: ValueConfig,
                  months: int) -> pd.DataFrame:
    """Per customer: purchases so far, expected purchases and P(active), expected spend per purchase, discounted
    CLV over the horizon and its decile (1 = most valuable)."""
    weeks = config.horizon_days / WEEK_DAYS
    expected_spend = spend.expected_spend(history)
    out = pd.DataFrame({
        COL_CUSTOMER: history[COL_CUSTOMER].to_numpy(),
        "purchases": history["frequency"].to_numpy() + 1,
        "weeks_first_to_last": history["recency"].to_numpy(),
        "weeks_since_first": history["T"].to_numpy(),
        "expected_purchases": model.expected_purchases(history, weeks),
        "p_active": model.probability_active(history),
        "expected_spend": expected_spend,
        "clv": model.lifetime_value(history, expected_spend, months, config.discount_rate),
    })
    rank = out["clv"].rank(method="first", ascending=False)
    out["clv_decile"] = np.ceil(rank * 10 / len(out)).astype("int64").clip(1, 10)
    return out.sort_values(["clv", COL_CUSTOMER], ascending=[False, True], ignore_index=True)


def segment_value(customers: pd.DataFrame, groups: pd.DataFrame, column: str, min_group_size: int) -> pd.DataFrame:
    """Customers, mean and total CLV and share of value per group of ``column``; groups smaller than
    ``min_group_size`` are left out."""
    df = customers[[COL_CUSTOMER, "clv", "expected_purchases"]].merge(
        groups[[COL_CUSTOMER, column]].astype({COL_CUSTOMER: "str"}), on=COL_CUSTOMER, how="inner")
    g = df.groupby(column)
    out = pd.DataFrame({"customers": g.size(), "mean_clv": g["clv"].mean(), "total_clv": g["clv"].sum(),
                        "expected_purchases": g["expected_purchases"].mean()})
    out["share_value"] = out["total_clv"] / customers["clv"].sum()
    out = out[out["customers"] >= min_group_size]
    return out.sort_values("mean_clv", ascending=False).rename_axis("group").reset_index()


def _segments(run, customers: pd.DataFrame, min_group_size: int) -> dict[str, pd.DataFrame]:
    """CLV per RFM segment and, when the segmentation stage has run, per k-means segment."""
    from cxnb.context import EXPORTS_DIR
    from cxnb.profile import rfm_scores

    out = {"rfm": segment_value(customers, rfm_scores(run.profiles()), "rfm_segment", min_group_size)}
    kmeans = run.run_dir / EXPORTS_DIR / "segments.csv"
    if kmeans.exists():
        groups = pd.read_csv(kmeans, dtype={COL_CUSTOMER: "str"})
        out["kmeans"] = segment_value(customers, groups, "segment_name", min_group_size)
    return out


def value_from_days(days: pd.DataFrame, cutoff, config: ValueConfig, holdout_default: int,
                    language: str = "en") -> tuple[Backtest, pd.DataFrame, PurchaseModel, SpendModel, dict[str, float]]:
    """The backtest on the calibration/holdout split, then the chosen model and Gamma-Gamma refitted on the whole
    history; returns them with the seconds each step took."""
    seconds = {}
    t0 = time.perf_counter()
    clv_library()
    seconds["import"] = time.perf_counter() - t0
    split = split_periods(days, cutoff, config.holdout_days or holdout_default)
    check_split(split, language)
    calibration = btyd_summary(days, split.calibration_end)
    check_repeat_buyers(calibration, split.cutoff, language)
    holdout = holdout_purchases(days, split, calibration[COL_CUSTOMER])
    t0 = time.perf_counter()
    models = fit_candidates(config.models, calibration)
    cal_spend = fit_spend(calibration)
    daily = daily_repeat_purchases(days, split.cutoff, split.holdout_end)
    backtest = run_backtest(calibration, holdout, split, models, cal_spend, daily, language)
    seconds["backtest"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    history = btyd_summary(days, split.last_day)
    model = fit_purchases(backtest.chosen, history)
    spend = fit_spend(history)
    seconds["forward"] = time.perf_counter() - t0
    return backtest, history, model, spend, seconds


def run_stage(run, config: ValueConfig | None = None) -> ValueResult:
    """Backtest the candidate models, refit the chosen one on the whole history, value every customer."""
    check(run)
    config = config or run.params.analysis.value
    params = run.params
    days = purchase_days(from_duckdb(run.path("transactions")))
    backtest, history, model, spend, seconds = value_from_days(
        days, cutoff_instant(params.analysis.cutoff), config, params.analysis.horizon_days, language=params.language)
    t0 = time.perf_counter()
    months = max(1, round(config.horizon_days / DAYS_PER_MONTH))
    customers = forward_table(history, model, spend, config, months)
    if not np.isfinite(customers["expected_purchases"]).all():  # the refit on the whole history ran off the edge
        raise undefined_fit({model.kind: model}, params.language)
    seconds["predict"] = time.perf_counter() - t0
    result = ValueResult(config, params.language, params.privacy.min_group_size, backtest, history, model, spend,
                         customers, months, params.report.currency, seconds=seconds)
    result.segments = _segments(run, customers, params.privacy.min_group_size)
    return result
