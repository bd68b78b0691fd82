"""The report's sentences with figures, functions of the fitted result, in the report language."""

from __future__ import annotations

from cxnb.i18n import Joined, Message, t, text_of
from cxnb.predict.baselines import grade_sentence
from cxnb.predict.data import outcome_summary
from cxnb.predict.metrics import MODELS
from cxnb.predict.tables import model_name


def notes_markdown(notes: list, language: str = "en") -> str:
    """Notes (messages or texts) as a Markdown bullet list in ``language``."""
    return "\n".join(f"- {text_of(n, language)}" for n in notes)


def outcome_line(result, language: str = "en") -> str:
    """What is predicted, for how many customers, and how many are positive."""
    return outcome_summary(result.data).text(language)


def scored_line(result, language: str = "en") -> str:
    """Which customers the exported list scores."""
    return t("bp.scored_line", language, scored=result.data.scored.text(language))


def grade_intro(result, language: str = "en") -> str:
    """What the models are graded against: the recency rule with its N and held-out AUC (or guessing only)."""
    if not result.rule:
        return t("bp.grade_intro_no_rule", language)
    low, high = result.rule_scores["auc_ci"]
    return t("bp.grade_intro", language, rule=result.rule.describe(language), days=result.rule.days,
             auc=f"{result.rule_scores['auc']:.3f}", low=f"{low:.3f}", high=f"{high:.3f}",
             j=f"{result.rule.youden_j:.2f}")


def grade_sentences(result, language: str = "en") -> list[str]:
    """One sentence per model: its grade and the evidence for it."""
    rule_auc = result.rule_scores["auc"] if result.rule else None
    return [grade_sentence(model_name(m, language), result.scores[m], result.rule, rule_auc, language)
            for m in MODELS]


def majority_message(result) -> Message | None:
    """Said when predicting the majority has a higher accuracy or F1 than a model: expected on imbalanced labels,
    AUC and lift are the figures to read."""
    beaten = [Message(f"bp.model.{m}") for m in MODELS
              if any(result.baseline[k] > result.scores[m][k] for k in ("accuracy", "f1"))]
    if not beaten:
        return None
    return Message("bp.majority_beats", models=Joined(beaten, "bp.list_sep"), base=f"{result.base_rate:.1%}")


def majority_note(result, language: str = "en") -> str | None:
    """``majority_message`` in ``language`` (None when every model beats the majority on accuracy and F1)."""
    message = majority_message(result)
    return message.text(language) if message else None
