"""Turn a customer table (profile + attributes) into a numeric feature matrix in natural units."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxnb.constants import COL_CUSTOMER
from cxnb.i18n import Joined, Message, text_of
from cxnb.profile import feature_name

MAX_LEVELS = 20
MIN_LEVEL_COUNT = 10
NUMERIC_PARSE_SHARE = 0.95
# Profile features that are money or counts: skewed, so log1p-transformed for the logistic regression.
LOG_PROFILE = ("frequency", "monetary", "avg_order_value", "n_items", "units", "n_lines")
PROFILE_COLUMNS = ("days_since_last_order", "tenure_days", "mean_interpurchase_days", *LOG_PROFILE)


def readable(column: str) -> Message | str:
    """A plain-language name for a feature column (a message for profile columns)."""
    return feature_name(column)


def _as_number(values: pd.Series) -> pd.Series | None:
    """The values as floats when (nearly) all non-blank ones are numbers, else None."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    codes, uniques = pd.factorize(values)  # each distinct value parsed once (missing ones: code -1)
    text = pd.Series(uniques, dtype=values.dtype).astype("string").str.strip()
    present_level = (text.notna() & (text != "")).to_numpy()
    present = np.append(present_level, False)[codes]
    if not present.any():
        return None
    parsed_level = pd.to_numeric(text.where(present_level), errors="coerce").astype("float64").to_numpy()
    parsed = np.append(parsed_level, np.nan)[codes]
    if (~np.isnan(parsed[present])).mean() < NUMERIC_PARSE_SHARE:
        return None
    return pd.Series(parsed, index=values.index, name=values.name)


def _looks_like_date(values: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    sample = values.dropna().astype("string").head(200)
    if sample.empty:
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="ISO8601")
    return bool(parsed.notna().mean() >= NUMERIC_PARSE_SHARE)


@dataclass
class FeatureEncoder:
    """Numeric columns imputed with the median; categoricals one-hot against their most common level.

    Fitted on training customers only (scikit-learn style ``fit``/``transform``); the output keeps
    natural units so tree rules read in days, orders and currency. Labels and notes are messages.
    """

    max_levels: int = MAX_LEVELS
    min_level_count: int = MIN_LEVEL_COUNT
    numeric_: dict[str, float] = field(default_factory=dict)
    levels_: dict[str, list[str]] = field(default_factory=dict)
    reference_: dict[str, str] = field(default_factory=dict)
    labels_: dict[str, Message | str] = field(default_factory=dict)
    notes: list[Message] = field(default_factory=list)

    def fit(self, frame: pd.DataFrame) -> FeatureEncoder:
        """Learn column kinds, medians, levels and reference levels from ``frame``."""
        n = len(frame)
        for col in frame.columns.drop(COL_CUSTOMER, errors="ignore"):
            number = _as_number(frame[col])
            if number is not None:
                self._fit_numeric(col, number, frame[col])
            elif _looks_like_date(frame[col]):
                self.notes.append(Message("bp.note.dates", column=col))
            else:
                self._fit_categorical(col, frame[col].astype("string").fillna("missing"), n)
        return self

    def _fit_numeric(self, col: str, number: pd.Series, raw: pd.Series) -> None:
        median = float(number.median()) if number.notna().any() else 0.0
        self.numeric_[col] = median
        self.labels_[col] = readable(col)
        missing = int(number.isna().sum())
        if missing:
            key = "bp.note.filled_median" if pd.api.types.is_numeric_dtype(raw) else "bp.note.filled_median_text"
            self.notes.append(Message(key, column=col, missing=f"{missing:,}", median=f"{median:.4g}"))

    def _fit_categorical(self, col: str, values: pd.Series, n: int) -> None:
        counts = values.value_counts()
        if len(counts) > self.max_levels or len(counts) > 0.5 * n:
            self.notes.append(Message("bp.note.too_many_levels", column=col, levels=f"{len(counts):,}"))
            return
        rare = counts[counts < self.min_level_count]
        if len(rare) and len(counts) > 2:
            counts = values.where(~values.isin(rare.index), "other").value_counts()
            key = "bp.note.rare_into_other" if counts["other"] >= self.min_level_count else "bp.note.rare_into_reference"
            levels = Joined(map(str, rare.index), "bp.list_sep")
            self.notes.append(Message(key, column=col, n=self.min_level_count, levels=levels))
        ordered = sorted(counts.index, key=lambda lv: (-counts[lv], str(lv)))
        self.reference_[col] = ordered[0]
        self.levels_[col] = sorted((lv for lv in ordered[1:] if counts[lv] >= self.min_level_count), key=str)
        for level in self.levels_[col]:
            self.labels_[f"{col}={level}"] = Message("bp.feature.level", column=col, level=level,
                                                     reference=ordered[0])

    @property
    def columns(self) -> list[str]:
        """Output column names: numerics, then one 0/1 column per non-reference level."""
        return list(self.numeric_) + [f"{c}={lv}" for c, levels in self.levels_.items() for lv in levels]

    @property
    def sources(self) -> dict[str, str]:
        """The raw column each output column comes from."""
        return {**{c: c for c in self.numeric_}, **{f"{c}={lv}": c for c, levels in self.levels_.items()
                                                     for lv in levels}}

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The numeric feature matrix (natural units), indexed like ``frame``."""
        out = {}
        for col, median in self.numeric_.items():
            out[col] = _as_number(frame[col]).fillna(median)
        for col, levels in self.levels_.items():
            values = frame[col].astype("string").fillna("missing")
            known = set(levels) | {self.reference_[col]}
            values = values.where(values.isin(known), "other")
            for level in levels:
                out[f"{col}={level}"] = (values == level).astype("float64")
        return pd.DataFrame(out, index=frame.index)[self.columns]

    def fit_transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        return self.fit(frame).transform(frame)

    def labels(self, language: str = "en") -> dict[str, str]:
        """Every output column's readable name in ``language``."""
        return {col: text_of(label, language) for col, label in self.labels_.items()}


def log_columns(X: pd.DataFrame) -> list[str]:
    """Columns to log1p for the regression: profile money/count columns and skewed non-negative attributes
    (durations such as days since last order stay linear)."""
    out = []
    for col in X.columns:
        values = X[col]
        if values.min() < 0 or values.nunique() <= 2:
            continue
        attribute = col not in PROFILE_COLUMNS and not col.startswith("share_")
        if col in LOG_PROFILE or (attribute and values.skew() > 1):
            out.append(col)
    return out


def binary_columns(X: pd.DataFrame) -> list[str]:
    """Columns holding only 0 and 1 (dummies and flags)."""
    return [c for c in X.columns if set(np.unique(X[c])) <= {0.0, 1.0}]
