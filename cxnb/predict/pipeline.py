"""The whole stage on plain DataFrames: split, fit the three models, evaluate, score customers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from cxnb.config import PredictionConfig
from cxnb.constants import COL_CUSTOMER
from cxnb.errors import StageSkipped
from cxnb.i18n import t
from cxnb.predict.baselines import (
    LEAK_AUC,
    RecencyRule,
    fit_recency_rule,
    grade,
    grade_sentence,
    leaking_columns,
    paired_auc_gain,
    recency_values,
    rule_scores,
)
from cxnb.predict.data import PredictionData
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
from cxnb.predict.logit import LogitModel, fit_logit, top_reasons
from cxnb.predict.trees import (
    CV_FOLDS,
    TreeModel,
    fit_forest,
    fit_tree,
    forest_importance,
    forest_size,
    importance_sample,
    tree_rules,
)

MODELS = ("logit", "decision_tree", "random_forest")
MIN_CLASS = 25


@dataclass
class PredictionResult:
    """Everything the report shows: fitted models, held-out predictions, metrics and notes."""

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
    notes: list[str] = field(default_factory=list)
    seed: int = 0
    rule: RecencyRule | None = None
    rule_scores: dict | None = None
    excluded: list[str] = field(default_factory=list)
    leaks: dict[str, float] = field(default_factory=dict)
    samples: dict[str, int] = field(default_factory=dict)

    @property
    def labels(self) -> dict[str, str]:
        return self.encoder.labels_

    @property
    def language(self) -> str:
        return self.data.language

    def model_name(self, model: str) -> str:
        """The readable name of ``model`` (one of ``MODELS``) in the report language."""
        return t(f"bp.model.{model}", self.language)

    @property
    def base_rate(self) -> float:
        return float(self.y_train.mean())

    def metrics_table(self) -> pd.DataFrame:
        """One row per model (and the majority baseline) with the held-out and CV figures."""
        rows = [{"model": self.model_name(m), **self.scores[m]} for m in MODELS]
        if self.rule:
            rows.append({"model": t("bp.model.recency_rule", self.language, rule=self.rule.describe(self.language)),
                         **self.rule_scores})
        rows.append({"model": t("bp.model.baseline", self.language), **self.baseline})
        table = pd.DataFrame(rows)
        table["auc_ci"] = [f"{c[0]:.3f}–{c[1]:.3f}" if isinstance(c, list) else "" for c in table["auc_ci"]]
        return table

    def metrics(self) -> dict:
        """The ``behavior_prediction`` entry of metrics.json."""
        return {**{m: {**self.scores[m], "gains": gains_at(self.y_test, self.test_prob[m])} for m in MODELS},
                "n_train": len(self.y_train), "n_test": len(self.y_test),
                "base_rate": self.base_rate, "label_source": self.data.label_source,
                "threshold": self.threshold, "logit_method": self.logit.method,
                "recency_rule_days": self.rule.days if self.rule else None,
                "recency_rule_direction": self.rule.direction if self.rule else None,
                "recency_rule_auc": self.rule_scores["auc"] if self.rule else None,
                "recency_rule_auc_ci": self.rule_scores["auc_ci"] if self.rule else None,
                "excluded_features": self.excluded, "leaking_features": self.leaks, "samples": self.samples}

    def grade_frame(self) -> pd.DataFrame:
        """One row per model: held-out AUC with its interval, the AUC gain over the recency rule with its paired
        bootstrap interval, and the grade."""
        rows = []
        for m in MODELS:
            s = self.scores[m]
            gain = s["auc_gain_vs_rule"] is not None
            interval = t("bp.gain_interval", self.language, low=f"{s['gain_ci_low']:+.3f}",
                         high=f"{s['gain_ci_high']:+.3f}") if gain else ""
            rows.append({"model": self.model_name(m), "auc": s["auc"],
                         "auc_ci": f"{s['auc_ci'][0]:.3f}–{s['auc_ci'][1]:.3f}",
                         "auc_gain_vs_rule": s["auc_gain_vs_rule"] if gain else np.nan, "gain_ci": interval,
                         "grade": s["grade"]})
        return pd.DataFrame(rows)

    def grade_intro(self) -> str:
        """What the models are graded against: the recency rule with its N and held-out AUC (or guessing only)."""
        if not self.rule:
            return t("bp.grade_intro_no_rule", self.language)
        low, high = self.rule_scores["auc_ci"]
        return t("bp.grade_intro", self.language, rule=self.rule.describe(self.language), days=self.rule.days,
                 auc=f"{self.rule_scores['auc']:.3f}", low=f"{low:.3f}", high=f"{high:.3f}",
                 j=f"{self.rule.youden_j:.2f}")

    def grade_sentences(self) -> list[str]:
        """One sentence per model: its grade and the evidence for it."""
        rule_auc = self.rule_scores["auc"] if self.rule else None
        return [grade_sentence(self.model_name(m), self.scores[m], self.rule, rule_auc, self.language)
                for m in MODELS]

    def majority_note(self) -> str | None:
        """Said when predicting the majority has a higher accuracy or F1 than a model: expected on imbalanced
        labels, AUC and lift are the figures to read."""
        beaten = [self.model_name(m) for m in MODELS
                  if any(self.baseline[k] > self.scores[m][k] for k in ("accuracy", "f1"))]
        if not beaten:
            return None
        return t("bp.majority_beats", self.language, models=t("bp.list_sep", self.language).join(beaten),
                 base=f"{self.base_rate:.1%}")

    def rules(self) -> pd.DataFrame:
        """The decision tree's leaves as plain-language rules (training customers)."""
        return tree_rules(self.tree, self.X_train, self.y_train, self.labels, self.data.outcome, self.language)

    def importance(self) -> pd.DataFrame:
        """Random-forest permutation importance on the held-out customers."""
        return forest_importance(self.forest, self.X_test, self.y_test, self.labels, self.seed)

    def gains(self) -> pd.DataFrame:
        """Cumulative gains and lift per model on the held-out customers (long format)."""
        return pd.concat([gains_table(self.y_test, self.test_prob[m]).assign(model=self.model_name(m))
                          for m in MODELS], ignore_index=True)

    def calibration(self) -> pd.DataFrame:
        """Calibration curve per model on the held-out customers (long format)."""
        return pd.concat([calibration_table(self.y_test, self.test_prob[m]).assign(model=self.model_name(m))
                          for m in MODELS], ignore_index=True)


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
    notes and labels read in ``data.language``."""
    config = config or PredictionConfig()
    seed, language = config.seed, data.language
    check_classes(data.y, data.outcome, CV_FOLDS, language)
    train, test, y_train, y_test = train_test_split(data.frame, data.y, test_size=config.test_fraction,
                                                    stratify=data.y, random_state=seed)
    train_recency, test_recency = recency_values(train), recency_values(test)
    excluded, leaks, exclusion_notes = feature_exclusions(train, y_train, config, language)
    frame, train, test = (f.drop(columns=excluded) for f in (data.frame, train, test))
    encoder = FeatureEncoder(language=language).fit(train)
    X_train, X_test = encoder.transform(train), encoder.transform(test)
    logit = fit_logit(X_train, y_train, encoder.labels_, config.log_transform, seed, language=language)
    tree = fit_tree(X_train, y_train, seed=seed)
    forest = fit_forest(X_train, y_train, seed)
    test_prob = pd.DataFrame({"logit": logit.predict_proba(X_test), "decision_tree": tree.predict_proba(X_test),
                              "random_forest": forest.predict_proba(X_test)[:, 1]}, index=X_test.index)
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
    for name in MODELS:
        gain = paired_auc_gain(y_test, test_prob[name], rule.score(test_recency), seed) if rule else (None,) * 3
        scores[name].update(auc_gain_vs_rule=gain[0], gain_ci_low=gain[1], gain_ci_high=gain[2],
                            grade=grade(scores[name]["auc_ci"], gain[0], gain[1]))
    how = "bp.note.threshold_auto" if config.threshold == "auto" else "bp.note.threshold_param"
    notes = [*data.notes, *exclusion_notes, *encoder.notes, *logit.notes, t(how, language, threshold=f"{threshold:.3f}"),
             t("bp.note.tree_depth", language, depth=tree.depth, folds=CV_FOLDS)]
    samples = diagnostic_samples(len(data.y), len(y_train), len(y_test))
    if samples:
        notes.append(sample_note(samples, len(data.y), len(y_train), len(y_test), seed, language))
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


def sample_note(samples: dict[str, int], n: int, n_train: int, n_test: int, seed: int, language: str = "en") -> str:
    """The one sentence saying which checks used a sample and how large, and that the models use everyone."""
    parts = []
    if "cv" in samples:
        parts.append(t("bp.sample.cv", language, n=f"{samples['cv']:,}"))
    if "bootstrap" in samples:
        parts.append(t("bp.sample.bootstrap", language, n=f"{samples['bootstrap']:,}", total=f"{n_test:,}"))
    if "importance" in samples:
        parts.append(t("bp.sample.importance", language, n=f"{samples['importance']:,}",
                       repeats=importance_sample(n_test)[1]))
    values = {"customers": f"{n:,}", "seed": seed, "train": f"{n_train:,}", "trees": forest_size(n_train)[0],
              "per_tree": f"{samples.get('forest_tree', 0):,}"}
    if not parts:
        return t("bp.note.sampled_forest_only", language, **values)
    forest = t("bp.note.sampled_forest", language, **values) if "forest_tree" in samples else ""
    return t("bp.note.sampled", language, **values, forest=forest, parts=t("bp.sample.sep", language).join(parts))


def feature_exclusions(train: pd.DataFrame, y_train: pd.Series, config: PredictionConfig,
                       language: str = "en") -> tuple[list[str], dict[str, float], list[str]]:
    """Raw columns left out of the models (``exclude``, and likely leaks: a single-feature AUC of at least
    ``LEAK_AUC`` on the training customers, unless in ``keep``), the leaks found, and a note for each."""
    encoder = FeatureEncoder().fit(train)
    leaks = leaking_columns(encoder.transform(train), y_train, encoder.sources)
    columns = set(train.columns.drop(COL_CUSTOMER, errors="ignore"))
    excluded = [c for c in dict.fromkeys(config.exclude) if c in columns]
    notes = []
    for col, auc in leaks.items():
        key = "bp.note.leak_kept" if col in config.keep else "bp.note.leak_excluded"
        notes.append(t(key, language, column=col, auc=f"{auc:.3f}", threshold=f"{LEAK_AUC:g}"))
        if col not in config.keep and col not in excluded:
            excluded.append(col)
    chosen = [c for c in config.exclude if c in columns]
    if chosen:
        notes.append(t("bp.note.excluded", language, columns=t("bp.list_sep", language).join(chosen)))
    unknown = [c for c in dict.fromkeys([*config.exclude, *config.keep]) if c not in columns]
    if unknown:
        notes.append(t("bp.note.unknown_features", language, columns=t("bp.list_sep", language).join(unknown)))
    return excluded, leaks, notes


def score_customers(result: PredictionResult, n_reasons: int = 3) -> pd.DataFrame:
    """Scored customer list (logistic regression): id, probability, decile (1 = highest), top reasons (in the
    report language; the column names stay English, they are the export contract)."""
    frame = result.data.score_frame
    X = result.encoder.transform(frame)
    prob = result.logit.predict_proba(X)
    decile = pd.qcut(pd.Series(-prob).rank(method="first"), 10, labels=False) + 1
    reasons = top_reasons(result.logit, X, result.labels, n_reasons, result.language)
    out = pd.DataFrame({COL_CUSTOMER: frame[COL_CUSTOMER].to_numpy(), "probability": prob,
                        "decile": decile.to_numpy(), "top_reasons": reasons.to_numpy()})
    return out.sort_values(["decile", "probability"], ascending=[True, False], ignore_index=True)


def decile_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Customers and mean / min / max probability per score decile (1 = most likely)."""
    g = scores.groupby("decile")["probability"]
    return pd.DataFrame({"customers": g.size(), "mean_probability": g.mean(), "lowest": g.min(),
                         "highest": g.max()}).reset_index()


def notes_markdown(notes: list[str]) -> str:
    """The notes as a Markdown bullet list for the report."""
    return "\n".join(f"- {n}" for n in notes)
