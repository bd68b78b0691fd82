"""The typed ``data_quality`` entry of metrics.json, written by the stage and read by the index page."""

from __future__ import annotations

from cxnb.quality.activity import purchase_lines_read
from cxnb.stage import StageMetrics


class QualityMetrics(StageMetrics):
    """The ``data_quality`` entry: what was read, kept and removed (by rule), the customers, dates, orders and
    revenue; of a client with fewer customers than ``privacy.min_group_size`` only ``customers`` and
    ``figures_withheld``. A figure the data cannot give is absent from the entry, not null."""

    customers: int
    figures_withheld: str | None = None
    event_lines: int | None = None
    rows_read: int | None = None
    rows_kept: int | None = None
    rows_removed: int | None = None
    first_date: str | None = None
    last_date: str | None = None
    removed_by_rule: dict[str, int] | None = None
    orders: int | None = None
    items: int | None = None
    revenue: float | None = None
    customer_table_rows: int | None = None
    pii_columns_dropped: list[str] | None = None

    def model_dump(self, **kwargs) -> dict:
        """The fields the data gives (absent figures are left out, as metrics.json has always had them)."""
        kwargs.setdefault("exclude_none", True)
        return super().model_dump(**kwargs)

    @property
    def has_transactions(self) -> bool:
        """Whether the entry describes purchase lines (not only a customer table or a withheld client)."""
        return self.rows_kept is not None


def _withheld(quality: dict) -> QualityMetrics | None:
    few = [n["values"] for n in quality.get("parameter_notes", []) if n["note"] == "too_few_customers"]
    if not few:
        return None
    return QualityMetrics(customers=few[0]["customers"],
                          figures_withheld=f"fewer customers than privacy.min_group_size ({few[0]['minimum']})")


def quality_metrics(quality: dict) -> QualityMetrics:
    """Headline figures of the data-quality stage (from ``quality.json``); of a client with fewer customers than
    privacy.min_group_size only that number (any other figure would describe those few people)."""
    withheld = _withheld(quality)
    if withheld:
        return withheld
    out: dict = {}
    tx = quality["tables"].get("transactions")
    if tx:
        s = tx["summary"]
        if tx.get("event_types"):
            out["event_lines"] = tx["rows_read"] - purchase_lines_read(tx)
        out.update({"rows_read": purchase_lines_read(tx), "rows_kept": tx["rows_kept"],
                    "rows_removed": sum(r["removed"] for r in tx.get("cleaning", [])), "customers": s["customers"],
                    "first_date": s["first"][:10], "last_date": s["last"][:10],
                    "removed_by_rule": {r["rule"]: r["removed"] for r in tx["cleaning"]}})
        out.update({key: s[key] for key in ("orders", "items", "revenue") if key in s})
    cu = quality["tables"].get("customers")
    if cu:
        out["customer_table_rows"] = cu["rows_kept"]
        out.setdefault("customers", cu["summary"]["customers"])
        out["pii_columns_dropped"] = [d["column"] for d in cu.get("pii_dropped", [])]
    return QualityMetrics(**out)
