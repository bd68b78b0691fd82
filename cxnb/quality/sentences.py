"""What validate and the data-quality report say before any figure, in the report language."""

from __future__ import annotations

from cxnb.i18n import t

LOW_ID_OVERLAP = 0.5  # below this share of purchasing customers found in the customer table, validate warns


def id_overlap_warning(quality: dict, language: str = "en") -> str | None:
    """A sentence when fewer than LOW_ID_OVERLAP of the purchasing customers are in the customer table (the two
    tables then probably use different ids), else None."""
    overlap = quality.get("id_overlap")
    if not overlap or overlap["share_found"] is None or overlap["share_found"] >= LOW_ID_OVERLAP:
        return None
    return t("dq.id_overlap_low", language, share=f"{overlap['share_found']:.0%}",
             found=f"{overlap['found_in_customers']:,}", buyers=f"{overlap['purchasing_customers']:,}",
             without=f"{overlap['customer_rows_without_purchases']:,}")


def data_warnings(quality: dict, language: str = "en", keys: bool = False) -> list[str]:
    """What validate and the data-quality report must say before any figure: customer and purchase tables that
    share few ids, and parameters narrowed or left without figures by the size of the data (``keys``: with the
    parameter keys behind them, for the analyst)."""
    from cxnb.guards import parameter_note_text

    out = []
    unpadded = quality.get("ids_unpadded")
    if unpadded:
        out.append(t("dq.ids_unpadded", language, ids=f"{unpadded['transaction_ids']:,}",
                     before=f"{unpadded['matched_before']:,}", after=f"{unpadded['matched_after']:,}"))
    events = quality["tables"].get("transactions", {}).get("events_implausible_timestamp")
    if events:
        earliest, latest = quality["tables"]["transactions"]["plausible_range"]
        out.append(t("dq.events_implausible", language, n=f"{events:,}", earliest=earliest, latest=latest))
    overlap = id_overlap_warning(quality, language)
    return out + ([overlap] if overlap else []) + [parameter_note_text(n, language, keys)
                                                   for n in quality.get("parameter_notes", [])]
