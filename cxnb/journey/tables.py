"""Client tables and plain sentences of the journey stage, in the report language."""

from __future__ import annotations

import html
import math

import pandas as pd

from cxnb.i18n import catalogue, t
from cxnb.journey.periods import period_label
from cxnb.journey.pipeline import UNKNOWN_GROUP, JourneyResult


def _pct(x) -> str:
    return "–" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.1%}"


def _hours(h) -> str:
    if h is None or not math.isfinite(h):
        return "–"
    return f"{h:.1f} h" if h < 48 else f"{h / 24:.1f} d"


def step_name(types: list[str], language: str) -> str:
    """A funnel step in words: its event types joined with 'or' (a client's own extra types as given)."""
    words = catalogue(language)
    return t("cj.or", language).join(words.get(f"cj.event.{e}", e) for e in types)


def steps_table(result: JourneyResult, language: str = "en") -> pd.DataFrame:
    """Per step: customers, conversion from the previous step and from the first (with 95% intervals), median
    time from the first step, drop-off, customers who ever took the step, events."""
    s = result.steps
    col = lambda k: t(f"cj.col.{k}", language)  # noqa: E731
    return pd.DataFrame({
        col("step"): [step_name(types, language) for types in s["event_types"]],
        col("customers"): s["customers"],
        col("step_conversion"): [f"{_pct(r)} ({_pct(lo)}–{_pct(hi)})" for r, lo, hi in
                                 zip(s["step_conversion"], s["step_ci_low"], s["step_ci_high"], strict=True)],
        col("overall_conversion"): [f"{_pct(r)} ({_pct(lo)}–{_pct(hi)})" for r, lo, hi in
                                    zip(s["overall_conversion"], s["overall_ci_low"], s["overall_ci_high"], strict=True)],
        col("median_time"): [_hours(h) if i else "–" for i, h in enumerate(s["median_hours_from_start"])],
        col("drop_off"): s["drop_off"],
        col("ever_customers"): s["ever_customers"],
        col("events"): s["events"],
    })


def funnel_sentences(result: JourneyResult, language: str = "en") -> str:
    """Two plain sentences on the funnel, and one on event-level versus customer-level rates."""
    s = result.steps
    last = s.iloc[-1]
    name = lambda types: html.escape(step_name(types, language))  # noqa: E731  (event types come from the data)
    values = dict(entered=f"{int(s['customers'].iloc[0]):,}", first=name(s["event_types"].iloc[0]),
                  bought=f"{int(last['customers']):,}", overall=_pct(last["overall_conversion"]),
                  low=_pct(last["overall_ci_low"]), high=_pct(last["overall_ci_high"]),
                  window=f"{result.funnel.window_days:g}", hours=_hours(last["median_hours_from_start"]),
                  biggest=name(s["event_types"].iloc[int(s["drop_off"].iloc[1:].to_numpy().argmax()) + 1]),
                  per_event=f"{last['events_per_first_step_event']:.2f}", last=name(last["event_types"]))
    return "\n\n".join(t(f"cj.funnel_{k}", language, **values) for k in ("summary", "drop", "event_level"))


def paths_table(result: JourneyResult, language: str = "en") -> pd.DataFrame:
    """The most common paths (distinct event types in first-occurrence order) with their shares."""
    p = result.paths
    names = [t("cj.other_paths", language) if path is None else
             " → ".join(step_name([e], language) for e in path.split(" → ")) for path in p["path"]]
    return pd.DataFrame({t("cj.col.path", language): names, t("cj.col.customers", language): p["customers"],
                         t("cj.col.share", language): [_pct(x) for x in p["share"]]})


def by_group_table(result: JourneyResult, group: str, language: str = "en") -> pd.DataFrame:
    """Overall conversion of each funnel step per group (a row per group, a column per step)."""
    df = result.by_group[group]
    if df.empty:
        return df
    wide = df.pivot_table(index=group, columns="step", values="overall_conversion", aggfunc="first")
    entered = df[df["step"] == 1].set_index(group)["customers"]
    names = [step_name(types, language) for types in result.steps["event_types"]]
    out = pd.DataFrame({t(f"cj.col.{group}", language): _group_labels(wide.index, group, language),
                        t("cj.col.entered", language): entered.reindex(wide.index).to_numpy()})
    for step, name in zip(wide.columns, names, strict=True):
        if step > 1:
            out[name] = [_pct(x) for x in wide[step]]
    return out.sort_values(out.columns[1], ascending=False, ignore_index=True)


def _group_labels(values, group: str, language: str) -> list[str]:
    """Group values as a reader sees them: RFM segment names and "unknown" in the report language, a client's own
    values (categories, attributes) as given."""
    from cxnb.profile import RFM_SEGMENT_RULES, rfm_label

    rfm = {name for name, _, _ in RFM_SEGMENT_RULES} if group == "segment" else set()
    unknown = t("cj.unknown_group", language)
    return [unknown if v == UNKNOWN_GROUP else rfm_label(v, language) if v in rfm else v for v in values]


def retention_sentences(result: JourneyResult, language: str = "en") -> str:
    """The average retention after 1 and 3 periods, and the partial-period caveat."""
    avg = result.average.set_index("offset")["retention"]
    unit = t(f"cj.period.{result.period}", language)
    text = [t("cj.retention_summary", language, unit=unit, r1=_pct(avg.get(1)), r3=_pct(avg.get(3)),
              cohorts=result.retention["cohort"].nunique())]
    if result.last_partial:
        text.append(t("cj.partial", language, unit=unit, label=period_label(result.last_period, result.period),
                      date=result.last_timestamp.strftime("%Y-%m-%d")))
    return "\n\n".join(text)


def lifecycle_table(result: JourneyResult, language: str = "en", last: int = 12) -> pd.DataFrame:
    """Customers per status in the last ``last`` periods (the partial period flagged)."""
    lc = result.lifecycle.tail(last)
    labels = [period_label(p, result.period) + (f" ({t('cj.partial_short', language)})"
                                                  if result.last_partial and p == result.last_period else "")
              for p in lc["period"]]
    out = pd.DataFrame({t("cj.col.period", language): labels})
    for status in ("new", "returning", "resurrected", "dormant"):
        out[t(f"cj.status.{status}", language)] = lc[status].to_numpy()
    return out


def lifecycle_sentences(result: JourneyResult, language: str = "en") -> str:
    """The last complete period in one sentence."""
    lc = result.lifecycle[result.lifecycle["period"] <= result.complete_until]
    if lc.empty:
        return t("cj.lifecycle_none", language)
    row = lc.iloc[-1]
    return t("cj.lifecycle_summary", language, label=period_label(int(row["period"]), result.period),
             **{k: f"{int(row[k]):,}" for k in ("new", "returning", "resurrected", "dormant")})
