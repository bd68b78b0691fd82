"""What segmentation runs on: profile features or numeric customer attributes, and when the stage is skipped."""

from __future__ import annotations

import pandas as pd

from cxnb.constants import COL_CUSTOMER
from cxnb.errors import CxnbError, StageSkipped, did_you_mean
from cxnb.guards import check_population, customers_text
from cxnb.i18n import t
from cxnb.profile import share_columns
from cxnb.segment.model import MIN_CUSTOMERS, PROFILE_FEATURES, max_segments


def check_segmentation_inputs(run) -> None:
    """Raise StageSkipped (reason in the report language) when there is nothing to segment on or too few customers."""
    features, language = run.params.analysis.segmentation.features, run.params.language
    if not run.has("transactions") and not features:
        raise StageSkipped(t("seg.skip.no_features", language))
    if not run.has("transactions") and not run.has("customers"):
        raise StageSkipped(t("seg.skip.no_customers", language))
    n = len(segmentation_features(run, features))
    check_population(n, run.params)
    if n < MIN_CUSTOMERS:
        raise StageSkipped(t("seg.skip.too_few", language, customers=customers_text(n, language),
                             minimum=MIN_CUSTOMERS))
    min_size = run.params.privacy.min_group_size
    if max_segments(n, min_size) < 2:
        raise StageSkipped(t("seg.skip.too_few_groups", language, customers=customers_text(n, language),
                             min_size=min_size))


def default_features(profiles: pd.DataFrame) -> list[str]:
    """The profile features used when none are configured, without all-missing or constant columns."""
    candidates = [c for c in PROFILE_FEATURES + share_columns(profiles) if c in profiles.columns]
    return [c for c in candidates if profiles[c].nunique(dropna=True) > 1]


NUMBER_PROBE = 1_000  # non-missing values of a text column tried first: one that is not a number rules it out


def numeric_attributes(customers: pd.DataFrame) -> pd.DataFrame:
    """The customer table with text columns whose every value is a number converted to numbers."""
    out = customers.copy()
    for col in out.columns.drop(COL_CUSTOMER, errors="ignore"):
        if pd.api.types.is_numeric_dtype(out[col]):
            continue
        probe = out[col].dropna().head(NUMBER_PROBE)
        if pd.to_numeric(probe, errors="coerce").isna().any():
            continue
        values = pd.to_numeric(out[col], errors="coerce")
        if values.notna().any() and values.notna().sum() == out[col].notna().sum():
            out[col] = values
    return out


def _candidate_table(source, features: list[str] | None) -> pd.DataFrame:
    """Profiles and/or customer attributes of a Run (or a given table), one row per customer."""
    if isinstance(source, pd.DataFrame):
        return source
    profiles = source.profiles() if source.has("transactions") else None
    customers = numeric_attributes(source.customers()) if source.has("customers") else None
    if customers is not None and source.params.data.customers.label:
        customers = customers.drop(columns=[source.params.data.customers.label], errors="ignore")
    if profiles is None:
        return customers
    if customers is None or not features or all(f in profiles.columns for f in features):
        return profiles
    extra = customers.drop(columns=[c for c in customers.columns if c in profiles.columns and c != COL_CUSTOMER])
    return profiles.merge(extra, on=COL_CUSTOMER, how="left")


def segmentation_features(source, features: list[str] | None = None) -> pd.DataFrame:
    """The feature table indexed by customer_id, from a Run (profiles + customer attributes) or a DataFrame.

    ``features=None`` means the customer profile (see ``default_features``); otherwise the named profile
    columns or numeric customer attributes. A missing or non-numeric name raises a one-line CxnbError.
    """
    table = _candidate_table(source, features)
    numeric = [c for c in table.columns if c != COL_CUSTOMER and pd.api.types.is_numeric_dtype(table[c])
               and not pd.api.types.is_bool_dtype(table[c])]
    if features is None:
        features = default_features(table)
    for name in features:
        if name not in numeric:
            hint = did_you_mean(name, numeric)
            problem = "is not numeric" if name in table.columns else "is not a profile column or customer attribute"
            raise CxnbError(f"analysis.segmentation.features: '{name}' {problem}{hint}; "
                            f"available numeric features: {', '.join(numeric)}.")
    return table.set_index(COL_CUSTOMER)[list(features)].astype("float64")


def customer_revenue(run) -> pd.Series | None:
    """Revenue per customer (profile ``monetary``), or None without priced transactions."""
    if not run.has("transactions"):
        return None
    monetary = run.profiles().set_index(COL_CUSTOMER)["monetary"]
    return None if monetary.isna().all() else monetary
