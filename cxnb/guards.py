"""Report guards shared by the stages: what the reports may say about ids, and when a client is too small to report.

(Kept outside ``cxnb.privacy`` so the stage modules can use them without touching the loader's privacy code.)
"""

from __future__ import annotations

from cxnb.config import Params
from cxnb.errors import ConfigError, StageSkipped
from cxnb.i18n import t


def ids_note(params: Params) -> str:
    """One sentence on how customer ids appear, true for ``privacy.pseudonymize_ids`` as set."""
    key = "common.ids.pseudonymized" if params.privacy.pseudonymize_ids else "common.ids.as_given"
    return t(key, params.language)


def count_text(n: int, noun: str, language: str = "en") -> str:
    """'1 order' / '1,234 orders' in ``language`` (``noun`` names the ``common.n_<noun>`` messages)."""
    return t(f"common.n_{noun}.{'one' if n == 1 else 'other'}", language, n=f"{n:,}")


def customers_text(n: int, language: str = "en") -> str:
    """'1 customer' / '1,234 customers' in ``language``."""
    return count_text(n, "customers", language)


def check_population(n_customers: int, params: Params) -> None:
    """Raise StageSkipped when the whole client has fewer customers than ``privacy.min_group_size``: any figure
    would then describe a group small enough to identify someone."""
    minimum = params.privacy.min_group_size
    if n_customers < minimum:
        raise StageSkipped(t("common.too_few_to_report", params.language,
                             customers=customers_text(n_customers, params.language), minimum=minimum))


def parameter_notes(params: Params, quality: dict) -> list[dict]:
    """Check the analysis parameters against the prepared data: a one-line ConfigError for a value no stage can use
    (a fixed ``k`` too large, ``analysis.cutoff`` outside the data), and a note ``{"note": key, "values": {...}}``
    for each value a stage narrows or that leaves the reports without figures (stated by validate and the
    data-quality report through ``parameter_note_text``)."""
    from cxnb.segment import MAX_K, MIN_CUSTOMERS, check_k, max_segments

    tx, cu = quality["tables"].get("transactions"), quality["tables"].get("customers")
    if not (tx or cu):
        return []
    n = (tx or cu)["summary"]["customers"]
    minimum, seg = params.privacy.min_group_size, params.analysis.segmentation
    notes: list[dict] = []
    if n < minimum:
        notes.append({"note": "too_few_customers", "values": {"customers": n, "minimum": minimum}})
    elif n >= MIN_CUSTOMERS and max_segments(n, minimum) >= 2:
        check_k(seg.k, n, minimum)
        top = max_segments(n, minimum)
        if seg.k == "auto" and seg.k_range[1] > top:
            notes.append({"note": "k_range_clamped", "values": {
                "low": seg.k_range[0], "high": seg.k_range[1], "used_low": min(seg.k_range[0], top),
                "used_high": top, "customers": n, "minimum": minimum, "cap": MAX_K}})
    if tx and params.analysis.cutoff:
        first, last, cutoff = tx["summary"]["first"][:10], tx["summary"]["last"][:10], params.analysis.cutoff
        if not first < cutoff <= last:
            raise ConfigError(f"{params.path}: key 'analysis.cutoff' ({cutoff}) is outside the purchases, which run "
                              f"from {first} to {last}: no customer has both history before it and a horizon after "
                              "it; set a date between them, or leave it out (last date minus horizon_days).")
    return notes


# The parameter keys behind each note: named to the analyst (validate), never in the client's report.
NOTE_KEYS = {"too_few_customers": "privacy.min_group_size",
             "k_range_clamped": "analysis.segmentation.k_range, privacy.min_group_size"}


def parameter_note_text(note: dict, language: str = "en", keys: bool = False) -> str:
    """The sentence for one of ``parameter_notes``, in ``language``; ``keys`` adds the parameter keys behind it."""
    values = dict(note["values"])
    if "customers" in values:
        values["customers"] = customers_text(values["customers"], language)
    text = t(f"dq.param.{note['note']}", language, **values)
    return f"{text} [{NOTE_KEYS[note['note']]}]" if keys and note["note"] in NOTE_KEYS else text
