"""The typed ``behavior_prediction`` entry of metrics.json, written by the stage and read by the index page."""

from __future__ import annotations

from cxnb.stage import StageMetrics

MODELS = ("logit", "decision_tree", "random_forest")


class Gains(StageMetrics):
    """The cumulative gains curve at a few points: share of all positives among the top ``share_targeted``."""

    share_targeted: list[float]
    gain: list[float]


class ModelScores(StageMetrics):
    """One model on the held-out customers (AUC with its bootstrap interval, threshold metrics, lift), by
    cross-validation, against the recency rule (paired-bootstrap gain) and its grade A, B or C."""

    auc: float
    auc_ci: list[float]
    accuracy: float
    precision: float
    recall: float
    f1: float
    brier: float
    top_decile_lift: float
    auc_cv_mean: float | None
    auc_cv_sd: float | None
    auc_gain_vs_rule: float | None
    gain_ci_low: float | None
    gain_ci_high: float | None
    grade: str
    gains: Gains


class PredictionMetrics(StageMetrics):
    """The ``behavior_prediction`` entry: the three models, the split, the label and the recency rule."""

    logit: ModelScores
    decision_tree: ModelScores
    random_forest: ModelScores
    n_train: int
    n_test: int
    base_rate: float
    label_source: str
    threshold: float
    logit_method: str
    recency_rule_days: int | None
    recency_rule_direction: str | None
    recency_rule_auc: float | None
    recency_rule_auc_ci: list[float] | None
    excluded_features: list[str]
    leaking_features: dict[str, float]
    samples: dict[str, int]

    def models(self) -> dict[str, ModelScores]:
        """The scores of every model, by model key (``MODELS`` order)."""
        return {m: getattr(self, m) for m in MODELS}

    def usable(self) -> dict[str, ModelScores]:
        """The models worth using: graded A or B."""
        return {m: s for m, s in self.models().items() if s.grade != "C"}

    def best_model(self) -> str:
        """The model the summary speaks of: the highest AUC among the usable models, else among all."""
        pool = self.usable() or self.models()
        return max(pool, key=lambda m: pool[m].auc)
