"""Client tables and plain sentences of the customer-value stage, in the report language."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cxnb import formats
from cxnb.constants import COL_CUSTOMER
from cxnb.i18n import t
from cxnb.value.backtest import NAIVE
from cxnb.value.models import MODEL_NAMES
from cxnb.value.pipeline import ValueResult

WEAK_CORRELATION = 0.3   # |r| below this: spend per purchase and frequency are nearly independent


def _col(key: str, language: str) -> str:
    return t(f"cv.col.{key}", language)


def predictor_name(name: str, language: str = "en") -> str:
    """A model's name (BG/NBD ...) or a naive predictor's description."""
    return MODEL_NAMES.get(name) or t(f"cv.naive.{name}", language)


def _signed(share: float, language: str) -> str:
    if share is None or not math.isfinite(share):
        return "–"
    return ("+" if share > 0 else "") + formats.percent(share, language)


def _n(x: float, language: str, decimals: int = 0) -> str:
    return formats.number(x, language, decimals)


def backtest_sentences(result: ValueResult, language: str = "en") -> str:
    """What the chosen model expected in the holdout and what customers did, beside the two naive predictors."""
    bt = result.backtest
    s, naive, zero = bt.scores[bt.chosen], bt.scores["past_rate"], bt.scores["zero"]
    values = dict(model=predictor_name(bt.chosen), customers=_n(len(bt.calibration), language),
                  start=bt.split.cutoff.date(), end=bt.split.holdout_end.date() - pd.Timedelta(days=1),
                  days=bt.split.holdout_days, expected=_n(s["predicted"], language), actual=_n(s["actual"], language),
                  error=_signed(s["error_share"], language), naive=_n(naive["predicted"], language),
                  naive_error=_signed(naive["error_share"], language), rmse=f"{s['rmse']:.2f}",
                  naive_rmse=f"{naive['rmse']:.2f}", zero_rmse=f"{zero['rmse']:.2f}", mae=f"{s['mae']:.2f}",
                  zero_mae=f"{zero['mae']:.2f}")
    better = s["rmse"] < naive["rmse"] and s["rmse"] < zero["rmse"]
    text = [t("cv.backtest_summary", language, **values), t("cv.backtest_naive", language, **values),
            t("cv.backtest_better" if better else "cv.backtest_not_better", language, **values)]
    if zero["mae"] <= s["mae"]:
        text.append(t("cv.backtest_zero_mae", language, **values))
    return "\n\n".join(text)


def choice_sentence(result: ValueResult, language: str = "en") -> str:
    """Why this model: the lowest per-customer error of the candidates on the holdout."""
    bt = result.backtest
    others = [f"{predictor_name(k)} {bt.scores[k]['rmse']:.3f}" for k in bt.models if k != bt.chosen]
    key = "cv.choice" if others else "cv.choice_single"
    return t(key, language, model=predictor_name(bt.chosen), rmse=f"{bt.scores[bt.chosen]['rmse']:.3f}",
             others=t("cv.list_sep", language).join(others))


def models_table(result: ValueResult, language: str = "en") -> pd.DataFrame:
    """Per candidate model and naive predictor: holdout purchases predicted and actual, error, RMSE, MAE, and how
    well its P(active) ranks who bought again (AUC)."""
    bt = result.backtest
    rows = []
    for name in [*bt.models, *NAIVE]:
        s = bt.scores[name]
        label = predictor_name(name, language) + (f" ({t('cv.chosen', language)})" if name == bt.chosen else "")
        auc = bt.auc.get(name)
        rows.append({_col("predictor", language): label, _col("predicted", language): _n(s["predicted"], language),
                     _col("actual", language): _n(s["actual"], language),
                     _col("error", language): _signed(s["error_share"], language),
                     _col("rmse", language): s["rmse"], _col("mae", language): s["mae"],
                     _col("auc", language): auc if auc is not None and math.isfinite(auc) else np.nan})
    return pd.DataFrame(rows)


def frequency_table(result: ValueResult, language: str = "en") -> pd.DataFrame:
    """Mean holdout purchases per calibration frequency (0..7+): actual, the chosen model and the past rate."""
    by = result.backtest.by_frequency()
    top = by["frequency"].max()
    return pd.DataFrame({
        _col("calibration_purchases", language): [f"{f}+" if f == top and f >= 7 else str(f) for f in by["frequency"]],
        _col("customers", language): by["customers"],
        _col("actual_mean", language): by["actual"],
        predictor_name(result.backtest.chosen, language): by[result.backtest.chosen],
        predictor_name("past_rate", language): by["past_rate"],
    })


def revenue_table(result: ValueResult, language: str = "en") -> pd.DataFrame:
    """Holdout revenue: the chosen model with Gamma-Gamma spend, the past spend rate and zero, against actual."""
    rev = result.backtest.revenue
    money = lambda v: formats.money(v, result.currency, language)  # noqa: E731
    return pd.DataFrame([{_col("predictor", language): predictor_name(result.backtest.chosen) + " × Gamma-Gamma"
                          if name == "model" else predictor_name(name, language),
                          _col("predicted", language): money(s["predicted"]), _col("actual", language): money(s["actual"]),
                          _col("error", language): _signed(s["error_share"], language),
                          _col("rmse", language): s["rmse"]} for name, s in rev.items()])


def p_active_sentences(result: ValueResult, language: str = "en") -> str:
    """Whether the report shows P(active), with the backtest figures behind the decision (and BG/NBD's flaw)."""
    bt = result.backtest
    kind = result.model.kind
    text = []
    if "bg_nbd" in bt.models:
        once = bt.one_time_buyers("bg_nbd")
        if once["customers"]:
            text.append(t("cv.bgnbd_flaw", language, n=_n(once["customers"], language),
                          p=f"{once['mean_p_active']:.2f}", share=formats.percent(once["bought_again"], language),
                          auc=f"{bt.auc['bg_nbd']:.2f}"))
    values = dict(model=predictor_name(kind), auc=f"{bt.auc.get(kind, float('nan')):.2f}",
                  rule=f"{bt.auc['recency_rule']:.2f}", expected=f"{bt.auc['expected_purchases']:.2f}")
    if not math.isfinite(bt.auc["recency_rule"]):
        text.append(t("cv.p_active_unjudged", language, **values))
    else:
        text.append(t("cv.p_active_shown" if result.show_p_active else "cv.p_active_hidden", language, **values))
    return "\n\n".join(text)


def spend_sentences(result: ValueResult, language: str = "en") -> str:
    """The Gamma-Gamma fit and its check: spend per purchase nearly independent of how often customers buy."""
    sp = result.spend
    r = sp.correlation
    key = "cv.spend_independent" if math.isfinite(r) and abs(r) < WEAK_CORRELATION else "cv.spend_correlated"
    return "\n\n".join([
        t("cv.spend_fit", language, n=_n(sp.customers, language),
          mean=formats.money(sp.population_mean, result.currency, language, 2),
          **{k: f"{v:.3g}" for k, v in sp.params.items()}),
        t(key, language, r=f"{r:.2f}", limit=WEAK_CORRELATION)])


def parameters_table(result: ValueResult, language: str = "en") -> pd.DataFrame:
    """Every fitted parameter: on the calibration period (each candidate) and on the whole history (the chosen)."""
    rows = []
    for kind, m in result.backtest.models.items():
        for p, v in m.params.items():
            whole = result.model.params.get(p) if kind == result.model.kind else None
            rows.append({_col("model", language): MODEL_NAMES[kind], _col("parameter", language): p,
                         _col("calibration", language): v, _col("whole_history", language): whole})
    for p, v in result.backtest.spend.params.items():
        rows.append({_col("model", language): "Gamma-Gamma", _col("parameter", language): p,
                     _col("calibration", language): v, _col("whole_history", language): result.spend.params[p]})
    return pd.DataFrame(rows)


def forward_sentences(result: ValueResult, language: str = "en") -> str:
    """Expected purchases and discounted value over the horizon, and how concentrated the value is."""
    c = result.customers
    money = lambda v: formats.money(v, result.currency, language)  # noqa: E731
    values = dict(customers=_n(len(c), language), days=result.config.horizon_days, months=result.months,
                  purchases=_n(c["expected_purchases"].sum(), language), total=money(c["clv"].sum()),
                  mean=formats.money(c["clv"].mean(), result.currency, language, 2),
                  rate=formats.percent(result.config.discount_rate, language, 0),
                  share=formats.percent(result.concentration, language), end=result.split.last_day.date())
    return "\n\n".join(t(f"cv.forward_{k}", language, **values) for k in ("summary", "concentration"))


def decile_table(result: ValueResult, language: str = "en") -> pd.DataFrame:
    """Per CLV decile (1 = most valuable): customers, mean CLV, share of value, mean expected purchases, mean
    P(active) where the backtest supports it."""
    c = result.customers
    g = c.groupby("clv_decile")
    out = pd.DataFrame({_col("decile", language): g.size().index, _col("customers", language): g.size().to_numpy(),
                        _col("mean_clv", language): g["clv"].mean().to_numpy(),
                        _col("share_value", language): [formats.percent(x, language) for x in
                                                        g["clv"].sum() / c["clv"].sum()],
                        _col("expected_purchases", language): g["expected_purchases"].mean().to_numpy()})
    if result.show_p_active:
        out[_col("p_active", language)] = g["p_active"].mean().to_numpy()
    return out


def top_customers_table(result: ValueResult, language: str = "en", n: int = 20) -> pd.DataFrame:
    """The ``n`` most valuable customers (ids as in the prepared data: pseudonyms when privacy is on)."""
    c = result.customers.head(n)
    cols = {COL_CUSTOMER: "customer", "purchases": "purchases", "expected_purchases": "expected_purchases",
            "expected_spend": "expected_spend", "clv": "clv"}
    if result.show_p_active:
        cols["p_active"] = "p_active"
    return c[list(cols)].rename(columns={k: _col(v, language) for k, v in cols.items()})


def segment_table(result: ValueResult, group: str, language: str = "en") -> pd.DataFrame:
    """CLV per RFM or k-means segment (groups smaller than the privacy threshold are not shown)."""
    from cxnb.profile import rfm_label

    seg = result.segments[group]
    names = [rfm_label(g, language) for g in seg["group"]] if group == "rfm" else seg["group"]
    return pd.DataFrame({_col(f"segment_{group}", language): names, _col("customers", language): seg["customers"],
                         _col("mean_clv", language): seg["mean_clv"],
                         _col("share_value", language): [formats.percent(x, language) for x in seg["share_value"]],
                         _col("expected_purchases", language): seg["expected_purchases"]})


def cost_note(result: ValueResult, language: str = "en") -> str:
    """What the stage cost on this client: seconds to import the library, fit and predict."""
    s = result.seconds
    return t("cv.cost", language, customers=_n(len(result.customers), language), models=len(result.backtest.models),
             **{k: f"{v:.1f}" for k, v in s.items()}, total=f"{sum(s.values()):.1f}")
