"""Whether to replace bestsellers with personal lists: a paired bootstrap of per-customer precision@k on the test.

The best personalised model (by validation NDCG, as for every other choice) and the popularity baseline are
scored on the same evaluated customers; the mean per-customer difference and its 95% bootstrap interval decide
the advice and the model of the export.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxnb.constants import COL_CUSTOMER, SEED
from cxnb.recommend.defaults import BASELINE
from cxnb.recommend.evaluation import Evaluation
from cxnb.recommend.metrics import DecisionMetrics
from cxnb.recommend.popularity import Popularity

VERDICTS = ("better", "no_difference", "worse", "insufficient")
MIN_DECISION_CUSTOMERS = 30
BOOTSTRAP_RESAMPLES = 2_000
MAX_RESAMPLE_CUSTOMERS = 20_000  # customers drawn per resample; above it the spread is rescaled (m-out-of-n)
RESAMPLE_CELLS = 4_000_000  # resampled indices held at once (32 MB of int64)


@dataclass(frozen=True)
class Decision:
    """Verdict of the paired comparison and its figures (shares: precision@k is hits / k per customer)."""

    verdict: str  # one of VERDICTS
    model: str | None  # the personalised model compared (None when there is none)
    metric: str
    k: int
    difference: float | None  # mean per-customer precision@k, personalised minus bestsellers
    low: float | None  # 95% bootstrap interval of the difference
    high: float | None
    n_customers: int  # evaluated customers in the comparison
    n_resampled: int  # customers drawn per bootstrap resample (< n_customers: m-out-of-n, rescaled)
    resamples: int
    personal: float | None  # mean precision@k of the personalised model
    baseline: float | None  # mean precision@k of bestsellers

    @property
    def export_model(self) -> str:
        """The model the export uses: the personalised one only when it is better, else bestsellers."""
        return self.model if self.verdict == "better" else BASELINE

    def record(self) -> DecisionMetrics:
        """The ``decision`` entry of the stage's metrics.json."""
        return DecisionMetrics(verdict=self.verdict, model=self.model, export_model=self.export_model,
                               metric=self.metric, k=self.k, difference=self.difference, ci_low=self.low,
                               ci_high=self.high, n_customers=self.n_customers, n_resampled=self.n_resampled,
                               resamples=self.resamples, personal=self.personal, baseline=self.baseline)


def bootstrap_mean_interval(values: np.ndarray, random_state: int = SEED, resamples: int = BOOTSTRAP_RESAMPLES,
                            max_draw: int = MAX_RESAMPLE_CUSTOMERS, level: float = 0.95) -> tuple[float, float, int]:
    """Percentile bootstrap interval of the mean of ``values`` and the number drawn per resample.

    With more than ``max_draw`` values each resample draws ``max_draw`` of them (m-out-of-n bootstrap) and the
    deviations from the mean are scaled by sqrt(m / n), so the interval is that of the mean of all n.
    """
    n = len(values)
    draw = min(n, max_draw)
    rng = np.random.default_rng(random_state)
    batch = max(1, RESAMPLE_CELLS // draw)
    means = np.concatenate([values[rng.integers(0, n, size=(min(batch, resamples - start), draw))].mean(axis=1)
                            for start in range(0, resamples, batch)])
    centre = values.mean()
    deviations = (means - centre) * np.sqrt(draw / n)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(deviations, [tail, 100 - tail])
    return float(centre + low), float(centre + high), draw


def paired_decision(personal: np.ndarray, baseline: np.ndarray, model: str | None, k: int,
                    random_state: int = SEED, resamples: int = BOOTSTRAP_RESAMPLES,
                    metric: str = "precision") -> Decision:
    """Verdict from per-customer scores of the personalised model and bestsellers on the same customers:
    ``better`` (interval above 0), ``worse`` (below), ``no_difference`` (includes 0), ``insufficient`` (fewer
    than MIN_DECISION_CUSTOMERS customers, no personalised model, or both models never right)."""
    n = len(personal)
    if n == 0 or model is None:
        return Decision("insufficient", model, metric, k, None, None, None, n, 0, resamples, None, None)
    diff = personal - baseline
    low, high, drawn = bootstrap_mean_interval(diff, random_state, resamples)
    never_right = not personal.any() and not baseline.any()
    if n < MIN_DECISION_CUSTOMERS or never_right:
        verdict = "insufficient"
    else:
        verdict = "better" if low > 0 else "worse" if high < 0 else "no_difference"
    return Decision(verdict, model, metric, k, float(diff.mean()), low, high, n, drawn, resamples,
                    float(personal.mean()), float(baseline.mean()))


def personal_model(evaluation: Evaluation) -> str | None:
    """The personalised model with the best validation NDCG@k (anything but the bestseller baseline)."""
    val = evaluation.validation[evaluation.validation["model"] != BASELINE]
    if val.empty:
        return None
    return str(val.sort_values(f"ndcg@{evaluation.k}", ascending=False, kind="stable").iloc[0]["model"])


def baseline_recommendations(evaluation: Evaluation, model: str):
    """Bestsellers' top-k on the evaluated customers (fitted on the same training data when not evaluated)."""
    if BASELINE in evaluation.recommendations:
        return evaluation.recommendations[BASELINE]
    users = evaluation.relevant[COL_CUSTOMER].unique()
    fitted = Popularity().fit(evaluation.models[model].interactions_)
    return fitted.recommend(users, evaluation.k, evaluation.info["exclude_seen"])


def decide(evaluation: Evaluation, random_state: int = SEED, resamples: int = BOOTSTRAP_RESAMPLES) -> Decision:
    """Paired bootstrap of precision@k (k = top_n): best personalised model against bestsellers."""
    model = personal_model(evaluation)
    if model is None:
        return paired_decision(np.empty(0), np.empty(0), None, evaluation.k)
    personal = evaluation.precision_per_customer(evaluation.recommendations[model])
    baseline = evaluation.precision_per_customer(baseline_recommendations(evaluation, model))
    return paired_decision(personal, baseline, model, evaluation.k, random_state, resamples)

