"""The typed ``customer_value`` entry of metrics.json, written by the stage and read by the index page."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from cxnb.stage import StageMetrics

if TYPE_CHECKING:
    from cxnb.value.pipeline import ValueResult


class Score(StageMetrics):
    """A predictor's holdout totals and per-customer errors."""

    predicted: float
    actual: float
    error_share: float | None
    rmse: float
    mae: float


class ShareCurve(StageMetrics):
    """Share of the predicted value held by the top ``share_customers`` of customers (a Lorenz-style curve)."""

    share_customers: list[float]
    share_value: list[float]


CURVE_SHARES = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


class ValueMetrics(StageMetrics):
    model: str
    model_name: str
    models_compared: list[str]
    calibration_end: str
    holdout_start: str
    holdout_days: int
    backtest_customers: int
    holdout: dict[str, Score]              # each candidate model, past_rate and zero
    holdout_revenue: dict[str, Score]      # the chosen model × Gamma-Gamma, past_rate and zero
    beats_past_rate: bool                  # lower RMSE than the customer's past rate × holdout
    p_active_shown: bool
    p_active_auc: dict[str, float | None]  # each candidate model and the recency rule
    calibration_parameters: dict[str, dict[str, float]]
    parameters: dict[str, float]           # the chosen model refitted on the whole history
    spend_parameters: dict[str, float]
    spend_customers: int
    spend_frequency_correlation: float | None
    customers: int
    horizon_days: int
    clv_months: int
    discount_rate: float
    expected_purchases: float
    total_clv: float
    mean_clv: float
    concentration: float | None            # share of predicted value held by the top 20% of customers
    concentration_curve: ShareCurve | None = None


def concentration_curve(clv: np.ndarray) -> ShareCurve | None:
    """The value held by the top 5%, 10%, 20%, …, 100% of customers; None when no value is predicted."""
    from cxnb.value.pipeline import top_share

    shares = [top_share(clv, s) for s in CURVE_SHARES]
    return ShareCurve(share_customers=list(CURVE_SHARES), share_value=shares) if math.isfinite(shares[0]) else None


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def metrics_of(result: ValueResult) -> ValueMetrics:
    """The metrics of a computed customer-value stage."""
    bt, c = result.backtest, result.customers
    score = lambda s: Score(**{**s, "error_share": _finite(s["error_share"])})  # noqa: E731
    return ValueMetrics(
        model=result.model.kind, model_name=result.model.name, models_compared=list(bt.models),
        calibration_end=str(bt.split.calibration_end.date()), holdout_start=str(bt.split.cutoff.date()),
        holdout_days=bt.split.holdout_days, backtest_customers=len(bt.calibration),
        holdout={k: score(v) for k, v in bt.scores.items()},
        holdout_revenue={k: score(v) for k, v in bt.revenue.items()},
        beats_past_rate=bt.scores[bt.chosen]["rmse"] < bt.scores["past_rate"]["rmse"],
        p_active_shown=result.show_p_active, p_active_auc={k: _finite(v) for k, v in bt.auc.items()},
        calibration_parameters={k: m.params for k, m in bt.models.items()}, parameters=result.model.params,
        spend_parameters=result.spend.params, spend_customers=result.spend.customers,
        spend_frequency_correlation=_finite(result.spend.correlation),
        customers=len(c), horizon_days=result.config.horizon_days, clv_months=result.months,
        discount_rate=result.config.discount_rate, expected_purchases=float(c["expected_purchases"].sum()),
        total_clv=float(c["clv"].sum()), mean_clv=float(c["clv"].mean()), concentration=_finite(result.concentration),
        concentration_curve=concentration_curve(c["clv"].to_numpy()))
