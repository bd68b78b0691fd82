"""The typed ``recommendation`` entry of metrics.json, written by the stage and read by the index page.

Ranking metrics are written with their k (``precision@10``) and read back to attributes (``scores.precision``,
``scores.k``). Parts that do not apply are left out of the JSON rather than written as null (a model that was not
compared, the sample sizes when every customer was evaluated, the fallbacks when no test customer lacked history).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import ConfigDict, Field, model_serializer, model_validator

from cxnb.i18n import t
from cxnb.recommend.defaults import RANKING_METRICS
from cxnb.stage import Skipped, StageMetrics

if TYPE_CHECKING:
    from cxnb.recommend.pipeline import RecommendationResult


class AtK(StageMetrics):
    """Figures of which those named in ``AT_K`` are written as ``<name>@<k>``."""

    AT_K: ClassVar[tuple[str, ...]] = RANKING_METRICS

    k: int = Field(exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _names_without_k(cls, data: Any) -> Any:
        """``{"precision@10": …}`` -> ``{"precision": …, "k": 10}``."""
        if not isinstance(data, dict) or "k" in data:
            return data
        out = {}
        for key, value in data.items():
            name, at, k = key.partition("@")
            if at and name in cls.AT_K:
                out[name], out["k"] = value, int(k)
            else:
                out[key] = value
        return out

    @model_serializer(mode="wrap")
    def _names_with_k(self, handler) -> dict:
        return {f"{key}@{self.k}" if key in self.AT_K else key: value for key, value in handler(self).items()}


class OmitsNone(StageMetrics):
    """Figures of which those named in ``OMIT_NONE`` are left out of the JSON when None (they do not apply)."""

    OMIT_NONE: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _without_absent(self, handler) -> dict:
        return {key: value for key, value in handler(self).items() if value is not None or key not in self.OMIT_NONE}


class RankingScores(AtK):
    """precision, recall, NDCG, MAP and hit rate at k, averaged over the evaluated customers."""

    precision: float | None
    recall: float | None
    ndcg: float | None
    map: float | None
    hit_rate: float | None


class ModelScores(RankingScores):
    """One model's test metrics: ranking metrics at k and catalogue coverage, intra-list diversity, novelty."""

    coverage: float | None
    diversity: float | None
    novelty: float | None


class DiversityRerank(AtK):
    """MMR re-ranking of ``model`` at λ: diversity before and after, and the precision it costs."""

    AT_K: ClassVar[tuple[str, ...]] = ("precision",)
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)

    model: str
    lam: float = Field(alias="lambda")
    precision: float | None
    diversity: float | None
    diversity_before: float | None
    precision_cost: float | None


class ColdStart(OmitsNone):
    """Test customers without training history, and how each fallback did for them."""

    OMIT_NONE: ClassVar[frozenset[str]] = frozenset({"n_sampled", "popularity", "category"})

    n_customers: int
    n_sampled: int | None = None
    popularity: RankingScores | None = None
    category: RankingScores | None = None


class PairedComparison(StageMetrics):
    """A paired bootstrap of a per-customer metric@k: the difference, its 95% interval, on how many customers."""

    metric: str
    k: int
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    n_customers: int
    n_resampled: int
    resamples: int


class DecisionMetrics(PairedComparison):
    """Personalised model against bestsellers: paired bootstrap of per-customer precision@k."""

    verdict: Literal["better", "no_difference", "worse", "insufficient"]
    model: str | None
    export_model: str
    personal: float | None
    baseline: float | None


class EventsNotCompared(StageMetrics):
    """Behaviour events not compared (``reason``: off, no_events, stratified, no_training_events)."""

    used: bool
    reason: str | None
    weights: dict[str, float]


class EventsCompared(PairedComparison):
    """One model trained on purchases only vs purchases plus weighted events (paired bootstrap)."""

    used: bool
    reason: str | None
    outcome: str
    model: str
    weights: dict[str, float]
    precision_purchases: float | None
    precision_events: float | None
    n_training_events: dict[str, int] | None


class RecommendationMetrics(OmitsNone):
    """The ``recommendation`` entry of metrics.json: every compared model's test scores under its name, or why it
    was left out (``{"skipped": reason}`` in the report language), and the stage's split, choices and verdicts."""

    OMIT_NONE: ClassVar[frozenset[str]] = frozenset(
        {"popularity", "popularity_group", "category", "item_cf", "ease", "n_users_sampled", "n_users_eligible",
         "n_users_tuned", "item_cf_neighbours"})

    popularity: ModelScores | Skipped | None = None
    popularity_group: ModelScores | Skipped | None = None
    category: ModelScores | Skipped | None = None
    item_cf: ModelScores | Skipped | None = None
    ease: ModelScores | Skipped | None = None
    k: int
    split: str
    n_users_evaluated: int
    n_items: int
    best_model: str
    hyperparameters: dict[str, dict[str, str | float | None]]
    n_test_items_unseen_in_train: int
    n_users_sampled: int | None = None
    n_users_eligible: int | None = None
    n_users_tuned: int | None = None  # validation customers each tuning candidate scored, when a sample
    item_cf_neighbours: int | None = None  # most similar items item CF kept per item, when not all of them
    diversity_rerank: DiversityRerank | Skipped
    cold_start: ColdStart
    decision: DecisionMetrics
    events: EventsCompared | EventsNotCompared

    def scores(self, model: str) -> ModelScores | None:
        """The test scores of ``model`` (None when it was not compared or was left out)."""
        entry = getattr(self, model, None)
        return entry if isinstance(entry, ModelScores) else None


def metrics_of(result: RecommendationResult) -> RecommendationMetrics:
    """The metrics of a computed recommendation stage (reasons for left-out parts in the result's language: the
    index page shows them as they are)."""
    evaluation, k, language = result.evaluation, result.evaluation.k, result.language
    models = {name: ModelScores(k=k, **{m: row[f"{m}@{k}"] for m in RANKING_METRICS},
                                coverage=row["coverage"], diversity=row["diversity"], novelty=row["novelty"])
              for name, row in evaluation.metrics.iterrows()}
    models |= {name: Skipped(skipped=t(why.key, language, **why.values)) for name, why in evaluation.skipped.items()}
    info = evaluation.info
    sampled = info["n_users_sampled"] is not None
    return RecommendationMetrics(
        **models, k=k, split=evaluation.split, n_users_evaluated=info["n_users_evaluated"], n_items=info["n_items"],
        best_model=evaluation.best_model, hyperparameters=evaluation.chosen,
        n_test_items_unseen_in_train=info["n_test_items_unseen_in_train"],
        n_users_sampled=info["n_users_sampled"], n_users_eligible=info["n_users_eligible"] if sampled else None,
        n_users_tuned=info.get("n_users_tuned"), item_cf_neighbours=info.get("item_cf_neighbours"),
        diversity_rerank=_diversity(result), cold_start=result.cold_start, decision=result.decision.record(), events=result.events.record())


def _diversity(result: RecommendationResult) -> DiversityRerank | Skipped:
    """The re-ranking's figures, or why there are none (in the report language)."""
    d = result.diversity
    if d.skipped:
        return Skipped(skipped=t(d.skipped, result.language))
    return DiversityRerank(k=result.evaluation.k, model=d.model, lam=d.lam, precision=d.precision,
                           diversity=d.diversity, diversity_before=d.diversity_before,
                           precision_cost=d.precision_cost)
