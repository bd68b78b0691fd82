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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxnb.constants import COL_CUSTOMER, SEED

COMPILE_DIR = Path.home() / ".cache" / "cxnb" / "pytensor"
MODEL_NAMES = {"bg_nbd": "BG/NBD", "mbg_nbd": "MBG/NBD", "pareto_nbd": "Pareto/NBD"}
PARAMETERS = {"bg_nbd": ("r", "alpha", "a", "b"), "mbg_nbd": ("r", "alpha", "a", "b"),
              "pareto_nbd": ("r", "alpha", "s", "beta")}
SPEND_PARAMETERS = ("p", "q", "v")
WEEKS_PER_MONTH = 4.345  # PyMC-Marketing's factor for time_unit="W"


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


def _point(idata, names) -> dict[str, float]:
    return {n: float(np.asarray(idata.posterior[n]).reshape(-1)[0]) for n in names}


def _per_customer(values, ids: pd.Series) -> np.ndarray:
    """A MAP prediction (chain × draw × customer) as one value per customer, in the order of ``ids``."""
    series = values.squeeze([d for d in ("chain", "draw") if d in values.dims], drop=True).to_series()
    return series.reindex(ids.to_numpy()).to_numpy(dtype="float64")


def _rfm(summary: pd.DataFrame) -> pd.DataFrame:
    return summary[[COL_CUSTOMER, "frequency", "recency", "T"]].reset_index(drop=True)


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
        with quiet():
            out = self.model.expected_purchases(data=_rfm(summary), future_t=weeks)
        return _per_customer(out, summary[COL_CUSTOMER])

    def probability_active(self, summary: pd.DataFrame) -> np.ndarray:
        """Probability that each customer of ``summary`` is still active at the end of their history."""
        with quiet():
            out = self.model.expected_probability_alive(data=_rfm(summary))
        return _per_customer(out, summary[COL_CUSTOMER])

    def expected_new_customer(self, weeks: np.ndarray) -> np.ndarray:
        """Expected repeat purchases of a customer in the ``weeks`` after their first purchase."""
        grid = pd.DataFrame({COL_CUSTOMER: np.arange(len(weeks)), "t": np.asarray(weeks, dtype="float64")})
        with quiet():
            out = self.model.expected_purchases_new_customer(data=grid, t=grid["t"].to_numpy())
        return _per_customer(out, grid[COL_CUSTOMER])

    def lifetime_value(self, summary: pd.DataFrame, spend: np.ndarray, months: int, yearly_rate: float) -> np.ndarray:
        """Discounted value of each customer's purchases over ``months`` (monthly steps, ``yearly_rate`` per year)."""
        clv = clv_library()
        data = _rfm(summary).assign(future_spend=spend)
        monthly = (1 + yearly_rate) ** (1 / 12) - 1
        with quiet():
            out = clv.customer_lifetime_value(self.model, data, future_t=months, discount_rate=monthly, time_unit="W")
        return _per_customer(out, summary[COL_CUSTOMER])


def fit_purchases(kind: str, summary: pd.DataFrame, random_state: int = SEED) -> PurchaseModel:
    """Fit ``kind`` (bg_nbd, mbg_nbd, pareto_nbd) to a BTYD summary by maximum likelihood."""
    clv = clv_library()
    cls = {"bg_nbd": clv.BetaGeoModel, "mbg_nbd": clv.ModifiedBetaGeoModel, "pareto_nbd": clv.ParetoNBDModel}[kind]
    model = cls(model_config=_flat_priors(PARAMETERS[kind]))
    with quiet():
        model.fit(data=_rfm(summary), method="map", progressbar=False, seed=random_state)
    return PurchaseModel(kind, _point(model.idata, PARAMETERS[kind]), len(summary), model)


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
        data = pd.DataFrame({COL_CUSTOMER: summary[COL_CUSTOMER].to_numpy(), "frequency": summary["frequency"].to_numpy(),
                             "monetary_value": summary["monetary_value"].fillna(0.0).to_numpy()})
        with quiet():
            out = self.model.expected_customer_spend(data)
        return _per_customer(out, data[COL_CUSTOMER])


def repeat_buyers(summary: pd.DataFrame) -> pd.DataFrame:
    """The customers Gamma-Gamma is fitted on: at least one repeat purchase with a positive mean spend."""
    return summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]


def fit_spend(summary: pd.DataFrame, random_state: int = SEED) -> SpendModel:
    """Fit Gamma-Gamma to the repeat buyers' mean spend per repeat purchase by maximum likelihood."""
    clv = clv_library()
    rep = repeat_buyers(summary)
    data = pd.DataFrame({COL_CUSTOMER: rep[COL_CUSTOMER].to_numpy(), "frequency": rep["frequency"].to_numpy(),
                         "monetary_value": rep["monetary_value"].to_numpy()})
    model = clv.GammaGammaModel(model_config=_flat_priors(SPEND_PARAMETERS))
    with quiet():
        model.fit(data=data, method="map", progressbar=False, seed=random_state)
    corr = float(np.corrcoef(data["frequency"], data["monetary_value"])[0, 1]) if len(data) > 2 else float("nan")
    return SpendModel(_point(model.idata, SPEND_PARAMETERS), len(data), corr, model)
