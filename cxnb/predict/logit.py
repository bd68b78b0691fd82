"""statsmodels logistic regression with the checks that keep its table honest: constant and collinear
columns dropped, VIF shown, separation detected with a regularized fallback."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from statsmodels.discrete.discrete_model import Logit
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning
from statsmodels.tools.tools import add_constant
from threadpoolctl import threadpool_limits

from cxnb.i18n import Joined, Message, t
from cxnb.predict.features import binary_columns, log_columns

COLLINEAR_R2 = 1 - 1e-8
HIGH_VIF = 10.0
SEVERE_VIF = 100.0
SEPARATION_COEF = 10.0
MIN_EVENTS_PER_FEATURE = 10


@dataclass
class LogitModel:
    """A fitted logistic regression on log-transformed, standardized features (dummies stay 0/1)."""

    columns: list[str]
    log_columns: list[str]
    center: pd.Series
    scale: pd.Series
    params: pd.Series
    method: str
    table: pd.DataFrame
    vif: pd.DataFrame
    notes: list[Message] = field(default_factory=list)
    result: object = None

    def design(self, X: pd.DataFrame) -> pd.DataFrame:
        """The regression design (without the constant) for natural-unit features ``X``."""
        return _standardize(X[self.columns], self.log_columns, self.center, self.scale)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probability of the positive class."""
        eta = self.params["const"] + self.design(X).to_numpy() @ self.params[self.columns].to_numpy()
        return 1 / (1 + np.exp(-eta))

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per-customer contribution of each feature to the log-odds (numerics vs the training mean,
        categories vs their reference level)."""
        return self.design(X).mul(self.params[self.columns], axis=1)


def _standardize(X: pd.DataFrame, logged: list[str], center: pd.Series, scale: pd.Series) -> pd.DataFrame:
    out = X.astype("float64").copy()
    for col in logged:
        out[col] = np.log1p(out[col])
    return (out - center) / scale


def _scaling(X: pd.DataFrame, logged: list[str]) -> tuple[pd.Series, pd.Series]:
    """Centre and scale: mean/sd for numerics, 0/1 for binary columns (so odds ratios read level vs reference)."""
    out = X.copy()
    for col in logged:
        out[col] = np.log1p(out[col])
    binary = binary_columns(X)
    center = out.mean().where(~out.columns.isin(binary), 0.0)
    scale = out.std(ddof=0).where(~out.columns.isin(binary), 1.0)
    return center, scale


def collinear_columns(Z: pd.DataFrame) -> list[str]:
    """Columns that (almost) exactly equal a linear combination of the columns before them and a constant."""
    kept = [np.ones(len(Z))]
    dropped = []
    for col in Z.columns:
        v = Z[col].to_numpy(dtype="float64")
        A = np.column_stack(kept)
        resid = v - A @ np.linalg.lstsq(A, v, rcond=None)[0]
        total = ((v - v.mean()) ** 2).sum()
        if total == 0 or 1 - (resid ** 2).sum() / total > COLLINEAR_R2:
            dropped.append(col)
        else:
            kept.append(v)
    return dropped


def vif_table(Z: pd.DataFrame) -> pd.DataFrame:
    """Variance inflation factor of each design column (with a constant in the design): 1 / (1 − R²) of the column
    on the others, read off the diagonal of the inverse covariance matrix (equals statsmodels'
    ``variance_inflation_factor``, without one regression per column)."""
    cov = np.atleast_2d(np.cov(Z.to_numpy(dtype="float64"), rowvar=False))
    try:
        precision = np.linalg.inv(cov)
    except np.linalg.LinAlgError:
        precision = np.linalg.pinv(cov)
    vif = np.diag(cov) * np.diag(precision)
    return pd.DataFrame({"term": Z.columns, "vif": vif}).sort_values("vif", ascending=False, ignore_index=True)


def severe_vif_columns(Z: pd.DataFrame) -> list[str]:
    """Columns removed one at a time, highest VIF first, until every VIF is at most ``SEVERE_VIF``."""
    dropped: list[str] = []
    while Z.shape[1] > 1:
        vif = vif_table(Z)
        if vif["vif"].iloc[0] <= SEVERE_VIF:
            break
        dropped.append(vif["term"].iloc[0])
        Z = Z.drop(columns=dropped[-1])
    return dropped


def _mle(y: pd.Series, Z: pd.DataFrame):
    """statsmodels Logit fit; returns (result, ``bp.problem`` key of the reason it failed, or None)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = Logit(y.to_numpy(), add_constant(Z, has_constant="add")).fit(
                method="newton", maxiter=100, disp=0)
        except np.linalg.LinAlgError:
            return None, "singular"
    if any(issubclass(w.category, PerfectSeparationWarning) for w in caught):
        return result, "separation"
    big = result.params.drop("const").abs()
    if not result.mle_retvals.get("converged", True) or any(issubclass(w.category, ConvergenceWarning)
                                                            for w in caught):
        return result, "not_converged"
    if (big > SEPARATION_COEF).any() or not np.isfinite(result.bse).all():
        return result, "quasi_separation"
    return result, None


def _regularized(y: pd.Series, Z: pd.DataFrame, seed: int) -> pd.Series:
    model = LogisticRegression(C=1.0, max_iter=2000, random_state=seed).fit(Z.to_numpy(), y.to_numpy())
    return pd.Series(np.r_[model.intercept_, model.coef_[0]], index=["const", *Z.columns])


def _separating(result, Z: pd.DataFrame) -> list[str]:
    if result is None:
        return []
    big = result.params.drop("const").abs()
    return list(big[big > SEPARATION_COEF].sort_values(ascending=False).index) or [big.idxmax()]


def coefficient_table(params: pd.Series, result, Z: pd.DataFrame, units: dict[str, Message],
                      y: pd.Series) -> pd.DataFrame:
    """Coefficient, odds ratio with 95% CI, p-value and average marginal effect per feature (``unit``: the size
    of one step, a message)."""
    terms = list(Z.columns)
    table = pd.DataFrame({"term": terms, "unit": [units[t] for t in terms], "coef": params[terms].to_numpy()})
    table["odds_ratio"] = np.exp(table["coef"])
    if result is not None:
        ci = result.conf_int().loc[terms]
        table["or_ci_low"] = np.exp(ci[0].to_numpy())
        table["or_ci_high"] = np.exp(ci[1].to_numpy())
        table["p_value"] = result.pvalues[terms].to_numpy()
    else:
        table["or_ci_low"] = table["or_ci_high"] = table["p_value"] = np.nan
    # Average marginal effect dp/dx averaged over the customers (as statsmodels' get_margeff(at="overall")).
    p = 1 / (1 + np.exp(-(params["const"] + Z.to_numpy() @ params[terms].to_numpy())))
    table["ame"] = table["coef"] * float(np.mean(p * (1 - p)))
    order = table["coef"].abs().sort_values(ascending=False, kind="mergesort").index
    return table.loc[order].reset_index(drop=True)


def _units(X: pd.DataFrame, logged: list[str], binary: list[str], scale: pd.Series) -> dict[str, Message]:
    units = {}
    for col in X.columns:
        if col in binary:
            units[col] = Message("bp.unit.flag" if "=" not in col else "bp.unit.level")
        elif col in logged:
            units[col] = Message("bp.unit.log_sd", factor=f"{np.exp(scale[col]):.3g}")
        else:
            units[col] = Message("bp.unit.sd", size=f"{scale[col]:.3g}")
    return units


def fit_logit(X: pd.DataFrame, y: pd.Series, labels: dict[str, Message | str] | None = None,
              log_transform: bool = True, seed: int = 0, with_vif: bool = True) -> LogitModel:
    """Fit a statsmodels Logit on natural-unit features ``X``; checks and fallbacks are stated in ``notes``
    (messages naming the features by ``labels``)."""
    with threadpool_limits(1, user_api="blas"):  # many small solves: BLAS threads only add contention
        return _fit_logit(X, y, labels or {}, log_transform, seed, with_vif)


def _fit_logit(X: pd.DataFrame, y: pd.Series, labels: dict[str, Message | str], log_transform: bool, seed: int,
               with_vif: bool) -> LogitModel:
    notes = []

    def names(cols) -> Joined:
        return Joined((labels.get(c, c) for c in cols), "bp.list_sep")

    constant = [c for c in X.columns if X[c].nunique() <= 1]
    if constant:
        notes.append(Message("bp.note.dropped_constant", columns=names(constant)))
    X = X.drop(columns=constant)
    logged = log_columns(X) if log_transform else []
    if logged:
        notes.append(Message("bp.note.log_transformed", columns=names(logged)))
    center, scale = _scaling(X, logged)
    Z = _standardize(X, logged, center, scale)
    collinear = collinear_columns(Z)
    if collinear:
        notes.append(Message("bp.note.dropped_collinear", columns=names(collinear)))
        Z = Z.drop(columns=collinear)
    severe = severe_vif_columns(Z)
    if severe:
        notes.append(Message("bp.note.dropped_severe_vif", vif=f"{SEVERE_VIF:g}", columns=names(severe)))
        Z = Z.drop(columns=severe)
    columns = list(Z.columns)
    vif = vif_table(Z) if with_vif and columns else pd.DataFrame(columns=["term", "vif"])
    high = vif[vif["vif"] > HIGH_VIF]
    if len(high):
        notes.append(Message("bp.note.high_vif", vif=f"{HIGH_VIF:g}", columns=names(high["term"])))
    events = int(min(y.sum(), len(y) - y.sum()))
    if events < MIN_EVENTS_PER_FEATURE * max(len(columns), 1):
        notes.append(Message("bp.note.few_events", events=f"{events:,}", features=len(columns),
                             per_feature=MIN_EVENTS_PER_FEATURE))
    result, problem = _mle(y, Z)
    if problem:
        culprits = _separating(result, Z)
        key = "bp.note.mle_failed_driven" if culprits else "bp.note.mle_failed"
        notes.append(Message(key, problem=Message(f"bp.problem.{problem}"), columns=names(culprits)))
        params, result, method = _regularized(y, Z, seed), None, "regularized"
    else:
        params, method = pd.Series(result.params, index=["const", *columns]), "mle"
    units = _units(X[columns], logged, binary_columns(X[columns]), scale)
    table = coefficient_table(params, result, Z, units, y)
    return LogitModel(columns, [c for c in logged if c in columns], center[columns], scale[columns], params,
                      method, table, vif, notes, result)


def top_reasons(model: LogitModel, X: pd.DataFrame, labels: dict[str, str], n: int = 3,
                language: str = "en") -> pd.Series:
    """The ``n`` features that move each customer's log-odds most (ties in column order), as readable text in
    ``language``."""
    contrib = model.contributions(X).to_numpy()
    values = X[model.columns].to_numpy(dtype="float64")
    top = np.argsort(-np.abs(contrib), axis=1, kind="stable")[:, :n]
    picked = [np.take_along_axis(a, top, axis=1) for a in (values, contrib)]
    sep = t("bp.reason.sep", language)
    texts = [_reason_texts(model.columns, top[:, j], picked[0][:, j], picked[1][:, j] > 0, labels, language)
             for j in range(top.shape[1])]
    out = [sep.join(parts) for parts in zip(*texts, strict=True)] if texts else [""] * len(X)
    return pd.Series(out, index=X.index, name="top_reasons")


def _template(key: str, language: str, slot: str, **values) -> tuple[str, str]:
    """Message ``key`` in ``language`` split around its ``{slot}`` placeholder."""
    before, after = t(key, language, **values, **{slot: "\x00"}).split("\x00")
    return before, after


def _value_texts(name: str, unique: np.ndarray, labels: dict[str, str], language: str) -> list[str]:
    """What a reason says of feature ``name`` at each of the ``unique`` values, e.g. "frequency 4"."""
    if "=" in name:
        var, level = name.split("=", 1)
        texts = {True: t("bp.reason.level_is", language, variable=var, level=level),
                 False: t("bp.reason.level_not", language, variable=var, level=level)}
        return [texts[bool(v == 1)] for v in unique]
    before, after = _template("bp.reason.value", language, "value", feature=labels.get(name, name))
    return [before + _shown(v) + after for v in unique]


def _reason_texts(columns: list[str], col: np.ndarray, value: np.ndarray, raises: np.ndarray,
                  labels: dict[str, str], language: str) -> np.ndarray:
    """One reason per customer for the feature ``columns[col]`` given its value and whether it raises the
    odds, e.g. "frequency 4 (raises)" (each distinct value worded once)."""
    up = _template("bp.reason.raises", language, "text")
    down = _template("bp.reason.lowers", language, "text")
    out = np.empty(len(col), dtype=object)
    for i in np.unique(col):
        rows = np.flatnonzero(col == i)
        codes, unique = pd.factorize(value[rows], use_na_sentinel=False)
        texts = _value_texts(columns[i], unique, labels, language)
        raised = np.array([up[0] + x + up[1] for x in texts], dtype=object)
        lowered = np.array([down[0] + x + down[1] for x in texts], dtype=object)
        out[rows] = np.where(raises[rows], raised[codes], lowered[codes])
    return out


def _shown(value: float) -> str:
    """A feature value as a reason shows it: whole number from 10 up, else three significant digits."""
    return f"{value:.0f}" if abs(value) >= 10 else f"{value:.3g}"
