"""The behaviour-prediction stage: ``check(run)``, ``run_stage(run, config)`` computed once and typed metrics; the
fit itself on plain DataFrames (``predict_behavior``): split, fit the three models, evaluate."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from cxnb.config import PredictionConfig
from cxnb.constants import COL_CUSTOMER
from cxnb.errors import StageSkipped
from cxnb.i18n import Joined, Message, t
from cxnb.predict.baselines import (
    LEAK_AUC,
    RecencyRule,
    fit_recency_rule,
    grade,
    leaking_columns,
    paired_auc_gains,
    recency_values,
    rule_scores,
)
from cxnb.predict.data import PredictionData, check_prediction_inputs, dataset_from_run
from cxnb.predict.evaluate import (
    bootstrap_sample_size,
    calibration_table,
    cv_auc,
    cv_sample_size,
    evaluate,
    gains_at,
    gains_table,
    majority_baseline,
)
from cxnb.predict.features import FeatureEncoder
from cxnb.predict.logit import LogitModel, fit_logit
from cxnb.predict.metrics import MODELS, PredictionMetrics
from cxnb.predict.trees import (
    CV_FOLDS,
    TreeModel,
    fit_forest,
    fit_tree,
    forest_importance,
    forest_proba,
    forest_size,
    importance_sample,
)

MIN_CLASS = 25


@dataclass
class PredictionResult:
    """Everything the report shows, computed once: fitted models, held-out predictions, scores and notes (messages,
    translated where shown)."""

    data: PredictionData
    encoder: FeatureEncoder
    logit: LogitModel
    tree: TreeModel
    forest: object
    X_train: pd.DataFrame
    y_train: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series
    test_prob: pd.DataFrame
    threshold: float
    scores: dict[str, dict]
    baseline: dict
    notes: list[Message] = field(default_factory=list)
    seed: int = 0
    rule: RecencyRule | None = None
    rule_scores: dict | None = None
    excluded: list[str] = field(default_factory=list)
    leaks: dict[str, float] = field(default_factory=dict)
    samples: dict[str, int] = field(default_factory=dict)
    _importance: pd.DataFrame | None = field(default=None, repr=False)
    _score_features: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def labels(self) -> dict[str, Message | str]:
        """Each feature column's readable name (a message for profile columns)."""
        return self.encoder.labels_

    @property
    def base_rate(self) -> float:
        return float(self.y_train.mean())

    def metrics(self) -> PredictionMetrics:
        """The stage's typed metrics.json entry."""
        models = {m: {**self.scores[m], "gains": gains_at(self.y_test, self.test_prob[m])} for m in MODELS}
        rule = self.rule
        return PredictionMetrics(
            **models, n_train=len(self.y_train), n_test=len(self.y_test), base_rate=self.base_rate,
            label_source=self.data.label_source, threshold=self.threshold, logit_method=self.logit.method,
            recency_rule_days=rule.days if rule else None, recency_rule_direction=rule.direction if rule else None,
            recency_rule_auc=self.rule_scores["auc"] if rule else None,
            recency_rule_auc_ci=self.rule_scores["auc_ci"] if rule else None,
            excluded_features=self.excluded, leaking_features=self.leaks, samples=self.samples)

    def importance(self) -> pd.DataFrame:
        """Random-forest permutation importance on the held-out customers (computed on first use)."""
        if self._importance is None:
            self._importance = forest_importance(self.forest, self.X_test, self.y_test, self.seed)
        return self._importance

    def gains(self) -> pd.DataFrame:
        """Cumulative gains and lift per model (key in ``model``) on the held-out customers (long format)."""
        return pd.concat([gains_table(self.y_test, self.test_prob[m]).assign(model=m) for m in MODELS],
                         ignore_index=True)

    def calibration(self) -> pd.DataFrame:
        """Calibration curve per model (key in ``model``) on the held-out customers (long format)."""
        return pd.concat([calibration_table(self.y_test, self.test_prob[m]).assign(model=m) for m in MODELS],
                         ignore_index=True)

    def score_features(self) -> pd.DataFrame:
        """The feature matrix of every customer to score (computed on first use)."""
        if self._score_features is None:
            self._score_features = self.encoder.transform(self.data.score_frame)
        return self._score_features

    def scores_frame(self) -> pd.DataFrame:
        """Every customer to score: id, probability (logistic regression) and decile (1 = highest)."""
        prob = self.logit.predict_proba(self.score_features())
        decile = pd.qcut(pd.Series(-prob).rank(method="first"), 10, labels=False) + 1
        return pd.DataFrame({COL_CUSTOMER: self.data.score_frame[COL_CUSTOMER].to_numpy(), "probability": prob,
                             "decile": decile.to_numpy()})


def check(run) -> None:
    """Raise StageSkipped (reason in the report language) when the run has no label to predict."""
    check_prediction_inputs(run)


def run_stage(run, config: PredictionConfig | None = None) -> PredictionResult:
    """The labelled customers of the run, the three models fitted and evaluated once."""
    check(run)
    config = config or run.params.analysis.prediction
    data = dataset_from_run(run)
    check_classes(data.y, data.outcome.text(run.params.language), CV_FOLDS, run.params.language)
    return predict_behavior(data, config)


def check_classes(y: pd.Series, outcome: str, folds: int = CV_FOLDS, language: str = "en") -> None:
    """Raise StageSkipped when a class is too small for a held-out set and cross-validation."""
    counts = y.value_counts().reindex([0, 1], fill_value=0)
    small = int(counts.min())
    if small < MIN_CLASS:
        kind = "bp.skip.positive" if counts.idxmin() == 1 else "bp.skip.negative"
        raise StageSkipped(t("bp.skip.small_class", language, n=small, kind=t(kind, language), outcome=outcome,
                             minimum=MIN_CLASS, folds=folds))


def _logit_fit_predict(config: PredictionConfig):
    def fit_predict(train: pd.DataFrame, y: pd.Series, test: pd.DataFrame) -> np.ndarray:
        enc = FeatureEncoder().fit(train)
        model = fit_logit(enc.transform(train), y, enc.labels_, config.log_transform, config.seed, with_vif=False)
        return model.predict_proba(enc.transform(test))
    return fit_predict


def _sklearn_fit_predict(make):
    def fit_predict(train: pd.DataFrame, y: pd.Series, test: pd.DataFrame) -> np.ndarray:
        enc = FeatureEncoder().fit(train)
        return make(enc.transform(train), y).predict_proba(enc.transform(test))[:, 1]
    return fit_predict


def predict_behavior(data: PredictionData, config: PredictionConfig | None = None) -> PredictionResult:
    """Split (stratified, seeded), fit logit / decision tree / random forest, evaluate on held-out and by CV;
    what was adjusted on the way is said in the notes (messages)."""
    config = config or PredictionConfig()
    seed = config.seed
    check_classes(data.y, data.outcome.text())
    train, test, y_train, y_test = train_test_split(data.frame, data.y, test_size=config.test_fraction,
                                                    stratify=data.y, random_state=seed)
    train_recency, test_recency = recency_values(train), recency_values(test)
    excluded, leaks, exclusion_notes = feature_exclusions(train, y_train, config)
    frame, train, test = (f.drop(columns=excluded) for f in (data.frame, train, test))
    encoder = FeatureEncoder().fit(train)
    X_train, X_test = encoder.transform(train), encoder.transform(test)
    logit = fit_logit(X_train, y_train, encoder.labels_, config.log_transform, seed)
    tree = fit_tree(X_train, y_train, seed=seed)
    forest = fit_forest(X_train, y_train, seed)
    test_prob = pd.DataFrame({"logit": logit.predict_proba(X_test), "decision_tree": tree.predict_proba(X_test),
                              "random_forest": forest_proba(forest, X_test)}, index=X_test.index)
    threshold = float(y_train.mean()) if config.threshold == "auto" else float(config.threshold)
    fitters = {"logit": _logit_fit_predict(config),
               "decision_tree": _sklearn_fit_predict(lambda X, y: type(tree.model)(**tree.model.get_params()).fit(X, y)),
               "random_forest": _sklearn_fit_predict(lambda X, y: fit_forest(X, y, seed))}
    scores = {}
    for name in MODELS:
        scores[name] = evaluate(y_test, test_prob[name], threshold, seed)
        mean, sd = cv_auc(fitters[name], frame, data.y, CV_FOLDS, seed)
        scores[name].update(auc_cv_mean=mean, auc_cv_sd=sd)
    rule = fit_recency_rule(train_recency, y_train.to_numpy()) if train_recency is not None else None
    rule_test = rule_scores(rule, test_recency, y_test, seed) if rule else None
    probs = {name: test_prob[name] for name in MODELS}
    gains = paired_auc_gains(y_test, probs, rule.score(test_recency), seed) if rule else {}
    for name in MODELS:
        gain = gains.get(name, (None,) * 3)
        scores[name].update(auc_gain_vs_rule=gain[0], gain_ci_low=gain[1], gain_ci_high=gain[2],
                            grade=grade(scores[name]["auc_ci"], gain[0], gain[1]))
    how = "bp.note.threshold_auto" if config.threshold == "auto" else "bp.note.threshold_param"
    notes = [*data.notes, *exclusion_notes, *encoder.notes, *logit.notes, Message(how, threshold=f"{threshold:.3f}"),
             Message("bp.note.tree_depth", depth=tree.depth, folds=CV_FOLDS)]
    samples = diagnostic_samples(len(data.y), len(y_train), len(y_test))
    if samples:
        notes.append(sample_note(samples, len(data.y), len(y_train), len(y_test), seed))
    return PredictionResult(data, encoder, logit, tree, forest, X_train, y_train, X_test, y_test, test_prob,
                            threshold, scores, majority_baseline(y_train, y_test), notes, seed, rule, rule_test,
                            excluded, leaks, samples)


def diagnostic_samples(n: int, n_train: int, n_test: int) -> dict[str, int]:
    """Customers each sampled step uses, for the steps that use a sample at this size: ``cv`` (of all ``n``),
    ``bootstrap`` and ``importance`` (of the ``n_test`` held-out), ``forest_tree`` (per tree, of ``n_train``)."""
    trees, per_tree = forest_size(n_train)
    used = {"cv": (cv_sample_size(n), n), "bootstrap": (bootstrap_sample_size(n_test), n_test),
            "importance": (importance_sample(n_test)[0], n_test), "forest_tree": (per_tree or n_train, n_train)}
    return {step: size for step, (size, total) in used.items() if size < total}


def sample_note(samples: dict[str, int], n: int, n_train: int, n_test: int, seed: int) -> Message:
    """The one sentence saying which checks used a sample and how large, and that the models use everyone."""
    parts = []
    if "cv" in samples:
        parts.append(Message("bp.sample.cv", n=f"{samples['cv']:,}"))
    if "bootstrap" in samples:
        parts.append(Message("bp.sample.bootstrap", n=f"{samples['bootstrap']:,}", total=f"{n_test:,}"))
    if "importance" in samples:
        parts.append(Message("bp.sample.importance", n=f"{samples['importance']:,}",
                             repeats=importance_sample(n_test)[1]))
    values = {"customers": f"{n:,}", "seed": seed, "train": f"{n_train:,}", "trees": forest_size(n_train)[0],
              "per_tree": f"{samples.get('forest_tree', 0):,}"}
    if not parts:
        return Message("bp.note.sampled_forest_only", **values)
    forest = Message("bp.note.sampled_forest", **values) if "forest_tree" in samples else ""
    return Message("bp.note.sampled", **values, forest=forest, parts=Joined(parts, "bp.sample.sep"))


def feature_exclusions(train: pd.DataFrame, y_train: pd.Series,
                       config: PredictionConfig) -> tuple[list[str], dict[str, float], list[Message]]:
    """Raw columns left out of the models (``exclude``, and likely leaks: a single-feature AUC of at least
    ``LEAK_AUC`` on the training customers, unless in ``keep``), the leaks found, and a note for each."""
    encoder = FeatureEncoder().fit(train)
    leaks = leaking_columns(encoder.transform(train), y_train, encoder.sources)
    columns = set(train.columns.drop(COL_CUSTOMER, errors="ignore"))
    excluded = [c for c in dict.fromkeys(config.exclude) if c in columns]
    notes = []
    for col, auc in leaks.items():
        key = "bp.note.leak_kept" if col in config.keep else "bp.note.leak_excluded"
        notes.append(Message(key, column=col, auc=f"{auc:.3f}", threshold=f"{LEAK_AUC:g}"))
        if col not in config.keep and col not in excluded:
            excluded.append(col)
    chosen = [c for c in config.exclude if c in columns]
    if chosen:
        notes.append(Message("bp.note.excluded", columns=Joined(chosen, "bp.list_sep")))
    unknown = [c for c in dict.fromkeys([*config.exclude, *config.keep]) if c not in columns]
    if unknown:
        notes.append(Message("bp.note.unknown_features", columns=Joined(unknown, "bp.list_sep")))
    return excluded, leaks, notes
