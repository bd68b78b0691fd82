"""The calibration/holdout backtest: every candidate model and two naive predictors against what customers did.

The naive predictors are the customer's past rate × holdout length (repeat purchases per week of their history)
and zero for everyone; zero has a low mean absolute error on sparse data, so RMSE and totals are reported too.
P(active) is judged by how well it ranks who bought again in the holdout, beside the rule "fewest weeks since
the last purchase first"; it is shown only when it is not worse than that rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from cxnb.errors import StageSkipped
from cxnb.i18n import t
from cxnb.value.data import WEEK_DAYS, Split, frequency_bucket
from cxnb.value.models import PurchaseModel, SpendModel

NAIVE = ("past_rate", "zero")
MIN_AUC_CLASS = 5  # buyers and non-buyers needed to judge a ranking


def past_rate(summary: pd.DataFrame, weeks: float) -> np.ndarray:
    """The naive forecast: repeat purchases per week of each customer's history × ``weeks`` (0 without history)."""
    T = summary["T"].to_numpy(dtype="float64")
    rate = np.divide(summary["frequency"].to_numpy(dtype="float64"), T, out=np.zeros(len(T)), where=T > 0)
    return rate * weeks


def scores(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Totals, their relative error, RMSE and MAE of per-customer predictions."""
    total, expected = float(actual.sum()), float(predicted.sum())
    err = predicted - actual
    return {"predicted": expected, "actual": total, "error_share": (expected - total) / total if total else float("nan"),
            "rmse": float(np.sqrt(np.mean(err ** 2))), "mae": float(np.mean(np.abs(err)))}


def ranking_auc(bought: np.ndarray, score: np.ndarray) -> float:
    """AUC of ``score`` for who bought in the holdout (NaN when either group is too small to judge)."""
    n_pos = int(bought.sum())
    if min(n_pos, len(bought) - n_pos) < MIN_AUC_CLASS:
        return float("nan")
    return float(roc_auc_score(bought, score))


@dataclass
class Backtest:
    """Calibration summaries, holdout outcomes, every predictor's per-customer forecast and its scores."""

    split: Split
    calibration: pd.DataFrame          # BTYD summary at the calibration end
    holdout: pd.DataFrame              # customer_id, purchases, spend in the holdout
    models: dict[str, PurchaseModel]
    spend: SpendModel | None
    predictions: pd.DataFrame          # one column per model and naive predictor
    p_active: pd.DataFrame             # one column per model
    scores: dict[str, dict[str, float]]
    revenue: dict[str, dict[str, float]]
    auc: dict[str, float]              # P(active) of each model, the chosen model's expected purchases, recency
    chosen: str
    tracking: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def bought(self) -> np.ndarray:
        return (self.holdout["purchases"].to_numpy() > 0).astype(int)

    def p_active_trusted(self, kind: str) -> bool:
        """Whether ``kind``'s P(active) ranks holdout buyers at least as well as weeks since the last purchase."""
        own, rule = self.auc.get(kind, float("nan")), self.auc["recency_rule"]
        return bool(np.isfinite(own) and np.isfinite(rule) and own >= rule)

    def one_time_buyers(self, kind: str) -> dict[str, float]:
        """Customers with no repeat purchase: their mean P(active) under ``kind`` and the share who bought again."""
        once = self.calibration["frequency"].to_numpy() == 0
        return {"customers": int(once.sum()), "mean_p_active": float(self.p_active[kind][once].mean()) if once.any()
                else float("nan"), "bought_again": float(self.bought[once].mean()) if once.any() else float("nan")}

    def by_frequency(self, top: int = 7) -> pd.DataFrame:
        """Per calibration frequency 0..top+: customers, mean actual and mean predicted holdout purchases."""
        frame = self.predictions.assign(actual=self.holdout["purchases"].to_numpy(),
                                        frequency=frequency_bucket(self.calibration["frequency"], top))
        g = frame.groupby("frequency")
        out = g.mean().assign(customers=g.size())
        return out.reset_index()[["frequency", "customers", "actual", *self.predictions.columns]]


def backtest_scores(actual: np.ndarray, predictions: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The scores of every predictor (column of ``predictions``)."""
    return {name: scores(actual, predictions[name].to_numpy()) for name in predictions.columns}


def choose_model(model_scores: dict[str, dict[str, float]], kinds: list[str]) -> str:
    """The candidate with the lowest per-customer RMSE on the holdout (the first listed on a tie)."""
    return min(kinds, key=lambda k: (round(model_scores[k]["rmse"], 9), kinds.index(k)))


def revenue_scores(calibration: pd.DataFrame, holdout: pd.DataFrame, expected: np.ndarray, spend: SpendModel,
                   weeks: float) -> dict[str, dict[str, float]]:
    """Holdout revenue: expected purchases × Gamma-Gamma spend, against the past spend rate × holdout and zero."""
    actual = holdout["spend"].to_numpy(dtype="float64")
    T = calibration["T"].to_numpy(dtype="float64")
    repeat_spend = (calibration["monetary_value"].fillna(0.0) * calibration["frequency"]).to_numpy(dtype="float64")
    naive = np.divide(repeat_spend, T, out=np.zeros(len(T)), where=T > 0) * weeks
    model = expected * spend.expected_spend(calibration)
    return {"model": scores(actual, model), "past_rate": scores(actual, naive), "zero": scores(actual, 0 * actual)}


def tracking(model: PurchaseModel, daily: pd.DataFrame, split: Split) -> pd.DataFrame:
    """Weekly cumulative repeat purchases of the calibration customers, actual and expected by ``model`` (each
    customer counted from their first purchase), through calibration and holdout."""
    births = np.where(daily["day"] < split.cutoff, daily["first_purchases"], 0)
    days = np.arange(len(daily))
    expected_by_age = model.expected_new_customer(days / WEEK_DAYS)
    expected = np.convolve(births, expected_by_age)[: len(daily)]  # births per day × expected purchases by age
    out = pd.DataFrame({"day": daily["day"], "actual": np.cumsum(daily["repeat_purchases"].to_numpy()),
                        "expected": expected})
    weekly = out.groupby(days // WEEK_DAYS).last().reset_index(drop=True)
    return weekly.assign(holdout=weekly["day"] >= split.cutoff)


def undefined_fit(models: dict[str, PurchaseModel], language: str = "en") -> StageSkipped:
    """Why no value is predicted when every model's forecasts are undefined: a fit on customers who all buy at
    the same rate runs its parameters off to the edge, where the library's forecasts are NaN."""
    fitted = "; ".join(f"{m.name}: " + ", ".join(f"{k} = {v:,.3g}" for k, v in m.params.items())
                       for m in models.values())
    return StageSkipped(t("cv.skip.degenerate", language, fitted=fitted))


def run_backtest(calibration: pd.DataFrame, holdout: pd.DataFrame, split: Split, models: dict[str, PurchaseModel],
                 spend: SpendModel | None, daily: pd.DataFrame, language: str = "en") -> Backtest:
    """Score every fitted candidate whose forecasts are defined, and the naive predictors, on the holdout; choose
    the model; track it. StageSkipped when no candidate's forecasts are defined."""
    weeks = split.holdout_weeks
    forecasts = {k: m.expected_purchases(calibration, weeks) for k, m in models.items()}
    defined = {k: m for k, m in models.items() if np.isfinite(forecasts[k]).all()}
    if not defined:
        raise undefined_fit(models, language)
    models = defined
    predictions = pd.DataFrame({k: forecasts[k] for k in models})
    predictions["past_rate"] = past_rate(calibration, weeks)
    predictions["zero"] = 0.0
    actual = holdout["purchases"].to_numpy(dtype="float64")
    all_scores = backtest_scores(actual, predictions)
    chosen = choose_model(all_scores, list(models))
    p_active = pd.DataFrame({k: m.probability_active(calibration) for k, m in models.items()})
    bought = (actual > 0).astype(int)
    auc = {k: ranking_auc(bought, p_active[k].to_numpy()) for k in models}
    auc["expected_purchases"] = ranking_auc(bought, predictions[chosen].to_numpy())
    auc["recency_rule"] = ranking_auc(bought, -(calibration["T"] - calibration["recency"]).to_numpy())
    revenue = (revenue_scores(calibration, holdout, predictions[chosen].to_numpy(), spend, weeks)
               if spend is not None else {})
    bt = Backtest(split, calibration, holdout, models, spend, predictions, p_active, all_scores, revenue, auc, chosen)
    bt.tracking = tracking(models[chosen], daily, split)
    return bt

