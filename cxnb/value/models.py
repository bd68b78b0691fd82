"""The purchase models (BG/NBD, MBG/NBD, Pareto/NBD) and the Gamma-Gamma spend model, from PyMC-Marketing.

Every model is fitted by MAP with flat (``HalfFlat``) priors, which is maximum likelihood: on the CDNOW sample it
gives the published parameters. PyMC-Marketing is imported on first use (it takes seconds), with PyTensor's
compile cache in the user's cache folder, never in a report folder.
"""

from __future__ import annotations

import logging
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxnb.constants import COL_CUSTOMER

COMPILE_DIR = Path.home() / ".cache" / "cxnb" / "pytensor"
MODEL_NAMES = {"bg_nbd": "BG/NBD", "mbg_nbd": "MBG/NBD", "pareto_nbd": "Pareto/NBD"}
PARAMETERS = {"bg_nbd": ("r", "alpha", "a", "b"), "mbg_nbd": ("r", "alpha", "a", "b"),
              "pareto_nbd": ("r", "alpha", "s", "beta")}
SPEND_PARAMETERS = ("p", "q", "v")
WEEKS_PER_MONTH = 4.345  # PyMC-Marketing's factor for time_unit="W"
TRIPLE = ["frequency", "recency", "T"]        # all a purchase model's likelihood and predictions read
SPEND_COLUMNS = ["frequency", "monetary_value"]
PURCHASE_INPUTS = ("recency", "frequency", "T", "weight")
OBJECTIVE_INPUTS = {"bg_nbd": PURCHASE_INPUTS, "mbg_nbd": PURCHASE_INPUTS, "pareto_nbd": PURCHASE_INPUTS,
                    "gamma_gamma": ("frequency", "monetary_value", "weight", "distinct_x", "customers_x")}
MAX_EVALUATIONS = 5000  # pm.find_MAP's maxeval


def _compile_dir_flags() -> str:
    """PYTENSOR_FLAGS with the compile cache under ~/.cache/cxnb unless the user set one."""
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "compiledir" in flags:
        return flags
    return ",".join(f for f in (flags, f"compiledir={COMPILE_DIR}") if f)


def clv_library():
    """``pymc_marketing.clv``, imported with the compile cache kept out of the report folder."""
    os.environ["PYTENSOR_FLAGS"] = _compile_dir_flags()
    with quiet():
        import pymc_marketing.clv as clv
    return clv


@contextmanager
def quiet():
    """Silence the library's progress logging and its warnings about priors, ArviZ and sampling."""
    loggers = [logging.getLogger(n) for n in ("pymc", "pytensor", "pymc_marketing")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _flat_priors(names) -> dict:
    from pymc_extras.prior import Prior

    return {name: Prior("HalfFlat") for name in names}


def _per_customer(values, ids: pd.Series) -> np.ndarray:
    """A MAP prediction (chain × draw × customer) as one value per customer, in the order of ``ids``."""
    series = values.squeeze([d for d in ("chain", "draw") if d in values.dims], drop=True).to_series()
    return series.reindex(ids.to_numpy()).to_numpy(dtype="float64")


def unique_rows(frame: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """The distinct rows of ``frame[columns]`` (with ``weight``, how many rows each stands for, and a ``customer_id``
    0..n−1) and, for every row of ``frame``, the position of its distinct row."""
    groups = frame[columns].groupby(columns, sort=True, dropna=False)
    rows = groups.size().rename("weight").astype("float64").reset_index()
    return rows.assign(**{COL_CUSTOMER: np.arange(len(rows))}), groups.ngroup().to_numpy()


def _on_unique(frame: pd.DataFrame, columns: list[str], predict) -> np.ndarray:
    """``predict`` (a per-customer library prediction) evaluated once per distinct row of ``frame[columns]``."""
    rows, codes = unique_rows(frame, columns)
    with quiet():
        out = predict(rows)
    return _per_customer(out, rows[COL_CUSTOMER])[codes]


def _purchase_loglik(kind: str, theta, t_x, x, T, weight):
    """PyMC-Marketing's log-likelihood of ``kind`` summed over weighted rows, the parameters on the log scale
    (``PARAMETERS``)."""
    import pytensor.tensor as pt
    from pymc_marketing.clv.distributions import BetaGeoNBD, ModifiedBetaGeoNBD, ParetoNBD

    values = dict(zip(PARAMETERS[kind], (pt.exp(theta[i]) for i in range(4)), strict=True))
    observed = pt.stack([t_x, x], axis=1)
    if kind == "pareto_nbd":
        terms = ParetoNBD.logp(observed, values["r"], values["alpha"], values["s"], values["beta"], T)
    else:
        dist = BetaGeoNBD if kind == "bg_nbd" else ModifiedBetaGeoNBD
        terms = dist.logp(observed, values["a"], values["b"], values["r"], values["alpha"], T)
    return (weight * terms).sum()


def _spend_loglik(theta, x, z, weight, distinct_x, customers_x):
    """The Gamma-Gamma log-likelihood of mean spend ``z`` over ``x`` repeat purchases (Fader, Hardie & Lee 2005,
    eq. 1a, as PyMC-Marketing's GammaGammaModel writes it) summed over weighted rows, the parameters p, q, v on the
    log scale; the terms that depend on ``x`` alone are summed once per distinct ``x`` (with its customers)."""
    import pytensor.tensor as pt

    p, q, v = (pt.exp(theta[i]) for i in range(3))
    px = p * distinct_x
    by_x = (customers_x * (pt.gammaln(px + q) - pt.gammaln(px) + px * pt.log(distinct_x))).sum()
    by_row = (weight * ((p * x - 1) * pt.log(z) - (p * x + q) * pt.log(x * z + v))).sum()
    return by_x + by_row + weight.sum() * (q * pt.log(v) - pt.gammaln(q))


@cache
def _objective(kind: str):
    """The compiled negative log-likelihood of ``kind`` (or ``gamma_gamma``) and its gradient, with the data as
    inputs (``OBJECTIVE_INPUTS``): compiled once per process, its C code kept in PyTensor's cache across runs."""
    import pytensor
    import pytensor.tensor as pt

    theta = pt.vector("theta")
    inputs = [pt.vector(name) for name in OBJECTIVE_INPUTS[kind]]
    loglik = _spend_loglik(theta, *inputs) if kind == "gamma_gamma" else _purchase_loglik(kind, theta, *inputs)
    return pytensor.function([theta, *inputs], [-loglik, -pytensor.grad(loglik, theta)])


def maximum_likelihood(kind: str, data: dict[str, np.ndarray]) -> np.ndarray:
    """The maximum-likelihood parameters of ``kind`` on ``data`` (``OBJECTIVE_INPUTS``): L-BFGS-B on the log scale
    from 1, as ``pm.find_MAP`` does with flat priors (at most 5,000 evaluations)."""
    from scipy.optimize import minimize

    fn = _objective(kind)
    arrays = [np.asarray(data[name], dtype="float64") for name in OBJECTIVE_INPUTS[kind]]
    n = len(SPEND_PARAMETERS) if kind == "gamma_gamma" else len(PARAMETERS[kind])
    with quiet():
        result = minimize(lambda theta: fn(theta, *arrays), np.zeros(n), jac=True, method="L-BFGS-B",
                          options={"maxfun": MAX_EVALUATIONS})
    return np.exp(result.x)


def _with_point(model, params: dict[str, float]):
    """A library model carrying ``params`` as its one-draw posterior, as a MAP fit leaves it."""
    import arviz as az
    import xarray as xr

    posterior = xr.Dataset({k: (("chain", "draw"), [[v]]) for k, v in params.items()}, coords={"chain": [0], "draw": [0]})
    model.idata = az.InferenceData(posterior=posterior)
    return model


@dataclass
class PurchaseModel:
    """A fitted purchase model: which one, its parameters and the library object that predicts."""

    kind: str
    params: dict[str, float]
    customers: int
    model: Any = field(repr=False)

    @property
    def name(self) -> str:
        return MODEL_NAMES[self.kind]

    def expected_purchases(self, summary: pd.DataFrame, weeks: float) -> np.ndarray:
        """Expected purchases of each customer of ``summary`` in the next ``weeks``."""
        return _on_unique(summary, TRIPLE, lambda rows: self.model.expected_purchases(data=rows, future_t=weeks))

    def probability_active(self, summary: pd.DataFrame) -> np.ndarray:
        """Probability that each customer of ``summary`` is still active at the end of their history."""
        return _on_unique(summary, TRIPLE, lambda rows: self.model.expected_probability_alive(data=rows))

    def expected_new_customer(self, weeks: np.ndarray) -> np.ndarray:
        """Expected repeat purchases of a customer in the ``weeks`` after their first purchase."""
        grid = pd.DataFrame({COL_CUSTOMER: np.arange(len(weeks)), "t": np.asarray(weeks, dtype="float64")})
        with quiet():
            out = self.model.expected_purchases_new_customer(data=grid, t=grid["t"].to_numpy())
        return _per_customer(out, grid[COL_CUSTOMER])

    def lifetime_value(self, summary: pd.DataFrame, spend: np.ndarray, months: int, yearly_rate: float) -> np.ndarray:
        """Discounted value of each customer's purchases over ``months`` (monthly steps, ``yearly_rate`` per year):
        the discounted expected purchases of each distinct (frequency, recency, T) times the customer's spend."""
        clv = clv_library()
        monthly = (1 + yearly_rate) ** (1 / 12) - 1
        per_unit = _on_unique(summary, TRIPLE, lambda rows: clv.customer_lifetime_value(
            self.model, rows.assign(future_spend=1.0), future_t=months, discount_rate=monthly, time_unit="W"))
        return per_unit * np.asarray(spend, dtype="float64")


def fit_purchases(kind: str, summary: pd.DataFrame) -> PurchaseModel:
    """Fit ``kind`` (bg_nbd, mbg_nbd, pareto_nbd) to a BTYD summary by maximum likelihood, on its distinct
    (frequency, recency, T) rows weighted by their customers (the likelihood depends on nothing else)."""
    clv = clv_library()
    rows, _ = unique_rows(summary, TRIPLE)
    estimate = maximum_likelihood(kind, {name: rows[name].to_numpy() for name in PURCHASE_INPUTS})
    params = dict(zip(PARAMETERS[kind], estimate.tolist(), strict=True))
    cls = {"bg_nbd": clv.BetaGeoModel, "mbg_nbd": clv.ModifiedBetaGeoModel, "pareto_nbd": clv.ParetoNBDModel}[kind]
    model = cls(model_config=_flat_priors(PARAMETERS[kind]))
    with quiet():
        model.build_model(rows[[COL_CUSTOMER, *TRIPLE]])
    return PurchaseModel(kind, params, len(summary), _with_point(model, params))


@dataclass
class SpendModel:
    """The fitted Gamma-Gamma model of spend per purchase, and the frequency–spend check it rests on."""

    params: dict[str, float]
    customers: int
    correlation: float
    model: Any = field(repr=False)

    @property
    def population_mean(self) -> float:
        """Mean spend per purchase of a customer with no repeat purchase yet: p·v / (q − 1)."""
        p, q, v = (self.params[k] for k in SPEND_PARAMETERS)
        return p * v / (q - 1) if q > 1 else float("nan")

    def expected_spend(self, summary: pd.DataFrame) -> np.ndarray:
        """Expected spend per future purchase of each customer (the population mean for one-time buyers)."""
        data = pd.DataFrame({"frequency": summary["frequency"].to_numpy(),
                             "monetary_value": summary["monetary_value"].fillna(0.0).to_numpy()})
        return _on_unique(data, SPEND_COLUMNS, self.model.expected_customer_spend)


def repeat_buyers(summary: pd.DataFrame) -> pd.DataFrame:
    """The customers Gamma-Gamma is fitted on: at least one repeat purchase with a positive mean spend."""
    return summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]


def fit_spend(summary: pd.DataFrame) -> SpendModel:
    """Fit Gamma-Gamma to the repeat buyers' mean spend per repeat purchase by maximum likelihood, on their distinct
    (frequency, mean spend) rows weighted by their customers."""
    clv = clv_library()
    rep = repeat_buyers(summary)
    rows, _ = unique_rows(rep, SPEND_COLUMNS)
    by_x = rows.groupby("frequency")["weight"].sum()
    data = {name: rows[name].to_numpy() for name in ("frequency", "monetary_value", "weight")}
    estimate = maximum_likelihood("gamma_gamma", {**data, "distinct_x": by_x.index, "customers_x": by_x.to_numpy()})
    params = dict(zip(SPEND_PARAMETERS, estimate.tolist(), strict=True))
    model = _with_point(clv.GammaGammaModel(model_config=_flat_priors(SPEND_PARAMETERS)), params)
    x, z = rep["frequency"].to_numpy(), rep["monetary_value"].to_numpy()
    corr = float(np.corrcoef(x, z)[0, 1]) if len(rep) > 2 else float("nan")
    return SpendModel(params, len(rep), corr, model)
