"""The label and the customer table the models learn from: a time split of the purchases, or a given column."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from cxnb.constants import COL_CUSTOMER, COL_TIMESTAMP
from cxnb.errors import DataError, StageSkipped
from cxnb.profile import customer_profiles, share_columns

PROFILE_FEATURES = ["days_since_last_order", "frequency", "avg_order_value", "tenure_days"]
BINARY_DEFAULTS = ({"0", "1"}, {"0.0", "1.0"}, {"false", "true"}, {"no", "yes"})


@dataclass
class PredictionData:
    """Labelled customers (``frame`` of raw features, ``y`` 0/1) and the customers to score."""

    frame: pd.DataFrame
    y: pd.Series
    label_source: str
    outcome: str
    score_frame: pd.DataFrame
    scored: str
    notes: list[str] = field(default_factory=list)


def resolve_label_source(label: str, label_column: str | None, has_transactions: bool) -> str:
    """``given`` or ``horizon`` from ``analysis.prediction.label`` (``auto``: given when a label column is set)."""
    source = ("given" if label_column else "horizon") if label == "auto" else label
    if source == "given" and not label_column:
        raise StageSkipped("analysis.prediction.label is 'given' but data.customers.label is not set")
    if source == "horizon" and not has_transactions:
        raise StageSkipped("there are no transactions to build a bought-in-horizon label from, and no "
                           "data.customers.label column is configured")
    return source


def _matches(value, positive) -> bool:
    if str(value).strip().lower() == str(positive).strip().lower():
        return True
    try:
        return float(value) == float(positive)
    except (TypeError, ValueError):
        return False


def binary_label(values: pd.Series, column: str, positive=None) -> pd.Series:
    """1 where ``values`` equals ``positive`` (0 elsewhere, missing stays missing); one-line errors otherwise."""
    present = values.dropna()
    found = sorted({str(v).strip() for v in present})
    shown = ", ".join(repr(v) for v in found[:10]) + (", ..." if len(found) > 10 else "")
    if positive is None:
        if {v.lower() for v in found} not in BINARY_DEFAULTS:
            raise DataError(f"label column '{column}' has values {shown}: set data.customers.positive to the "
                            "value that marks a positive customer.")
        positive = next(v for v in found if v.lower() in ("1", "1.0", "true", "yes"))
    hits = present.map(lambda v: _matches(v, positive))
    if not hits.any():
        raise DataError(f"label column '{column}' has no value {positive!r} (data.customers.positive); "
                        f"values found: {shown}.")
    if hits.all():
        raise DataError(f"label column '{column}' has only one value ({shown}); a prediction needs customers of "
                        "both kinds.")
    return hits.astype("int64").reindex(values.index)


def horizon_labels(transactions: pd.DataFrame, cutoff, horizon_days: int) -> pd.Series:
    """1 for customers with an order in [cutoff, cutoff + horizon_days), 0 for the others with history before it."""
    cutoff = pd.Timestamp(cutoff)
    end = cutoff + pd.Timedelta(days=horizon_days)
    ts = transactions[COL_TIMESTAMP]
    before = transactions.loc[ts < cutoff, COL_CUSTOMER].unique()
    buyers = set(transactions.loc[(ts >= cutoff) & (ts < end), COL_CUSTOMER].unique())
    ids = pd.Index(sorted(before), name=COL_CUSTOMER)
    return pd.Series([int(c in buyers) for c in ids], index=ids, name="label", dtype="int64")


def profile_features(profiles: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Recency, frequency, average order value, tenure and category shares (one share left out as reference)."""
    shares = share_columns(profiles)
    cols = [COL_CUSTOMER] + [c for c in PROFILE_FEATURES if c in profiles.columns] + shares[1:]
    notes = ["Total spend is not a separate feature: it is the number of orders times the average order value."]
    if shares:
        notes.append(f"Category shares add up to 1, so {shares[0].removeprefix('share_')} (the largest category) "
                     "is the reference share.")
    return profiles[cols].copy(), notes


def _attributes(customers: pd.DataFrame | None, exclude: list[str]) -> pd.DataFrame | None:
    if customers is None:
        return None
    return customers.drop(columns=[c for c in exclude if c in customers.columns])


def _merge(profile: pd.DataFrame | None, attributes: pd.DataFrame | None, ids: pd.Index) -> pd.DataFrame:
    out = pd.DataFrame({COL_CUSTOMER: ids})
    for part in (profile, attributes):
        if part is not None:
            out = out.merge(part, on=COL_CUSTOMER, how="left")
    return out


def horizon_dataset(transactions: pd.DataFrame, cutoff, horizon_days: int, items: pd.DataFrame | None = None,
                    customers: pd.DataFrame | None = None) -> PredictionData:
    """Features from history strictly before ``cutoff``; label = bought in the ``horizon_days`` after it."""
    cutoff = pd.Timestamp(cutoff)
    y = horizon_labels(transactions, cutoff, horizon_days)
    past, notes = profile_features(customer_profiles(transactions, items, as_of=cutoff))
    notes.insert(0, f"Label: bought at least once from {cutoff.date()} to {(cutoff + pd.Timedelta(days=horizon_days - 1)).date()} "
                    f"({horizon_days} days); features use only the history before {cutoff.date()}, and the "
                    f"customers are the {len(y)} with an order before it.")
    attributes = _attributes(customers, [])
    frame = _merge(past, attributes, y.index)
    now, _ = profile_features(customer_profiles(transactions, items))
    score_frame = _merge(now, attributes, pd.Index(now[COL_CUSTOMER]))
    end = cutoff + pd.Timedelta(days=horizon_days)
    last = transactions[COL_TIMESTAMP].max()
    if last < end - pd.Timedelta(days=1):
        notes.append(f"The data end on {last.date()}, before the end of the label window ({end.date()}): "
                     "some buyers may be missed.")
    outcome = f"buy within {horizon_days} days"
    scored = (f"all {len(score_frame)} customers with purchase history, with features as of the end of the data "
              f"(day after {last.date()}): the probability of buying in the next {horizon_days} days")
    return PredictionData(frame, y.reset_index(drop=True), "horizon", outcome, score_frame, scored, notes)


def given_dataset(customers: pd.DataFrame, label: str, positive=None, transactions: pd.DataFrame | None = None,
                  items: pd.DataFrame | None = None) -> PredictionData:
    """Label from a customers-table column; features from the other attributes (and the profile, if any)."""
    if label not in customers.columns:
        raise DataError(f"data.customers.label '{label}' is not a column of the customers table; the columns are: "
                        f"{', '.join(customers.columns)}.")
    y_all = binary_label(customers[label], label, positive)
    notes = [f"Label: {label} = {positive!r} from the customers table."]
    profile = None
    if transactions is not None and not transactions.empty:
        profile, notes = profile_features(customer_profiles(transactions, items))
    score_frame = _merge(profile, _attributes(customers, [label]), pd.Index(customers[COL_CUSTOMER]))
    known = y_all.notna().to_numpy()
    if not known.all():
        notes.append(f"{int((~known).sum())} customers have no value in '{label}': they are scored but not used "
                     "to fit or evaluate the models.")
    frame = score_frame[known].reset_index(drop=True)
    y = y_all[known].astype("int64").reset_index(drop=True)
    shown = positive if positive is not None else "yes"
    outcome = f"have {label} = {shown}"
    scored = f"all {len(score_frame)} customers in the customers table: the probability that {label} = {shown}"
    return PredictionData(frame, y.rename("label"), "given", outcome, score_frame, scored, notes)


def check_prediction_inputs(run) -> str:
    """The label source for this run (``horizon`` or ``given``); raises StageSkipped when there is none."""
    cfg = run.params.data.customers
    return resolve_label_source(run.params.analysis.prediction.label, cfg.label if cfg else None,
                                run.has("transactions"))


def dataset_from_run(run) -> PredictionData:
    """The labelled customers of a run, as configured in its parameter file."""
    source = check_prediction_inputs(run)
    if source == "horizon":
        return horizon_dataset(run.transactions(), run.cutoff, run.params.analysis.horizon_days, run.items(),
                               run.customers())
    cfg = run.params.data.customers
    return given_dataset(run.customers(), cfg.label, cfg.positive, run.transactions(), run.items())
