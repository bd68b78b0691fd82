"""Report guards shared by the stages: what the reports may say about ids, and when a client is too small to report.

(Kept outside ``cxnb.privacy`` so the stage modules can use them without touching the loader's privacy code.)
"""

from __future__ import annotations

from cxnb.config import Params
from cxnb.errors import StageSkipped
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
