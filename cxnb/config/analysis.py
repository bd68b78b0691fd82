"""What each stage computes and how the report is written: the ``analysis:``, ``report:`` and ``privacy:`` sections."""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import Field, field_validator

from cxnb.config.sources import DEFAULT_EVENT_WEIGHTS, StrictModel
from cxnb.constants import EVENT_TYPES, SEED
from cxnb.errors import did_you_mean


class SegmentationConfig(StrictModel):
    k: int | Literal["auto"] = "auto"
    k_range: tuple[int, int] = (3, 10)  # two segments on skewed data say nothing new (silhouette favours them)
    features: list[str] | None = None
    seed: int = SEED

    @field_validator("k")
    @classmethod
    def _k_at_least_two(cls, v):
        if v != "auto" and v < 2:
            raise ValueError("k must be 'auto' or an integer >= 2")
        return v

    @field_validator("k_range")
    @classmethod
    def _range_ordered(cls, v):
        if not 2 <= v[0] < v[1]:
            raise ValueError("k_range must be [low, high] with 2 <= low < high")
        return v


class PredictionConfig(StrictModel):
    label: Literal["auto", "horizon", "given"] = "auto"
    seed: int = SEED
    test_fraction: float = Field(0.25, gt=0, lt=1)
    threshold: float | Literal["auto"] = "auto"
    log_transform: bool = True
    exclude: list[str] = Field(default_factory=list, description="feature columns never used by the models")
    keep: list[str] = Field(default_factory=list, description="feature columns used even when their single-feature "
                            "AUC flags them as a likely leak")


class RecommendationConfig(StrictModel):
    top_n: int = Field(10, ge=1, le=100)
    split: Literal["time", "stratified"] = "time"
    test_fraction: float = Field(0.25, gt=0, lt=1)
    stratify_by: Literal["user", "item"] = "user"
    seed: int = SEED
    exclude_seen: bool = True
    similarity: Literal["auto", "cosine", "jaccard", "lift"] = "auto"
    half_life_days: float | Literal["auto"] | None = Field(
        "auto", description='time decay of item_cf affinities; "auto" = chosen on validation, null = no decay')
    mmr_lambda: float = Field(0.7, ge=0, le=1)
    models: list[Literal["popularity", "popularity_group", "category", "item_cf", "ease"]] = Field(
        default_factory=lambda: ["popularity", "popularity_group", "category", "item_cf", "ease"])
    ease_lambda: float | Literal["auto"] = "auto"
    popularity_by: str | None = Field("auto", description='customers column for group popularity; "auto" = '
                                      'segment or region when present')
    event_weights: dict[str, float] | None = Field(
        default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS),
        description="weight of each behaviour event type in the training interactions (view 0.1, favourite 0.3, "
                    "cart 0.5, purchase 1.0); used only when the log has behaviour events and they measurably "
                    "improve precision@top_n; {} or null = purchases only")

    @field_validator("event_weights")
    @classmethod
    def _known_event_weights(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        for name, weight in (v or {}).items():
            if name not in EVENT_TYPES:
                raise ValueError(f"'{name}' is not an event type{did_you_mean(name, EVENT_TYPES)}; weigh one of {', '.join(EVENT_TYPES)}")
            if weight < 0 or (name == "purchase" and weight == 0):
                least = "above 0" if name == "purchase" else "0 or more"
                raise ValueError(f"the weight of '{name}' is {weight}; it must be {least}")
        return v

    @field_validator("half_life_days", "ease_lambda")
    @classmethod
    def _positive_or_auto(cls, v):
        if v not in ("auto", None) and v <= 0:
            raise ValueError('must be a positive number or "auto"')
        return v


class JourneyConfig(StrictModel):
    """Funnel steps (each a list of event types that count for it), window, cohort period, funnel split."""

    funnel: list[list[str]] = Field(default_factory=lambda: [["view"], ["cart", "favourite"], ["purchase"]],
                                    min_length=2)
    conversion_window_days: float = Field(7.0, gt=0)
    cohort_period: Literal["month", "week"] = "month"
    segment_by: str | None = Field("rfm_segment", description='"rfm_segment", a customers column, or null')

    @field_validator("funnel")
    @classmethod
    def _steps_not_empty(cls, v):
        if any(not step for step in v):
            raise ValueError("every funnel step lists at least one event type, e.g. [[view], [cart], [purchase]]")
        return v


class ValueConfig(StrictModel):
    """Customer value: forecast horizon, yearly discount rate, backtest holdout and the candidate models."""

    horizon_days: int = Field(365, ge=1, description="days ahead for expected purchases and CLV")
    discount_rate: float = Field(0.10, ge=0, lt=1, description="yearly discount rate of future value")
    holdout_days: int | None = Field(None, ge=7, description="backtest holdout after analysis.cutoff; "
                                     "null = analysis.horizon_days")
    models: list[Literal["bg_nbd", "mbg_nbd", "pareto_nbd"]] = Field(
        default_factory=lambda: ["bg_nbd", "mbg_nbd"], min_length=1,
        description="purchase models compared on the backtest; pareto_nbd can take minutes on long histories")


class AnalysisConfig(StrictModel):
    cutoff: str | None = Field(None, description="the last day of the feature/calibration period (ISO date): "
                               "it belongs to the history side; labels and holdouts start the day after")
    start: str | None = None
    end: str | None = None
    horizon_days: int = Field(90, ge=1)
    segmentation: SegmentationConfig = Field(default_factory=SegmentationConfig)
    prediction: PredictionConfig = Field(default_factory=PredictionConfig)
    recommendation: RecommendationConfig = Field(default_factory=RecommendationConfig)
    journey: JourneyConfig = Field(default_factory=JourneyConfig)
    value: ValueConfig = Field(default_factory=ValueConfig)

    @field_validator("cutoff", "start", "end", mode="before")
    @classmethod
    def _iso_date(cls, v):
        if v is None:
            return v
        try:
            return str(pd.Timestamp(str(v)).date())
        except (ValueError, TypeError) as exc:
            raise ValueError(f"'{v}' is not a date; write it as an ISO string like \"2011-09-01\"") from exc


class ReportConfig(StrictModel):
    """How figures are shown: the client's currency (ISO 4217 code, e.g. CNY, EUR, GBP); whether CSV exports
    start with a UTF-8 byte-order mark (default: yes for Chinese reports, which Excel otherwise garbles)."""

    currency: str | None = None
    csv_bom: bool | None = None

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, v):
        from cxnb.formats import valid_currency

        if v is not None and not valid_currency(v.upper()):
            raise ValueError(f"'{v}' is not an ISO 4217 currency code; write it like CNY, EUR, GBP or USD")
        return v.upper() if v else v


class PrivacyConfig(StrictModel):
    pseudonymize_ids: bool = True
    min_group_size: int = Field(10, ge=1)


