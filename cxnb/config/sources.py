"""Where each table comes from and how its columns map: the ``data:`` section of the parameter file."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cxnb.constants import EVENT_TYPES, ITEM_COLUMNS, TRANSACTION_COLUMNS
from cxnb.errors import did_you_mean
from cxnb.urls import PASSWORD_ENV, has_password, sql_dialect, url_scheme

DEFAULT_EVENT_WEIGHTS = {"view": 0.1, "favourite": 0.3, "cart": 0.5, "purchase": 1.0}
PASSWORD_REFUSED = (f"do not write a password into the parameter file; set it in the {PASSWORD_ENV} "
                    "environment variable instead")



class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TableConfig(StrictModel):
    """Where one table comes from and how its columns map to the canonical names."""

    source: str = Field(description='file path, SQL URL, "demo", or "spark"')
    table: str | None = None
    query: str | None = None
    read_options: dict[str, Any] = Field(default_factory=dict)
    columns: dict[str, str] = Field(default_factory=dict, description="canonical name -> client column")
    where: str | None = Field(None, description="row filter in SQL on the source's own column names, evaluated "
                              "by the engine that reads the data; the rows removed are counted")

    def kind(self) -> str:
        """One of ``demo``, ``sql``, ``spark`` or ``file``."""
        if self.source == "demo":
            return "demo"
        if self.source == "spark":
            return "spark"
        if sql_dialect(self.source):
            return "sql"
        return "file"

    @field_validator("source")
    @classmethod
    def _no_password_nor_unknown_url(cls, v: str) -> str:
        if url_scheme(v) is None:
            return v
        if has_password(v):
            raise ValueError(PASSWORD_REFUSED)
        if sql_dialect(v) is None:
            raise ValueError(f"'{url_scheme(v)}://' is not a source cxnb reads; give a file path, a "
                             "postgresql:// or mysql:// URL, \"demo\" or \"spark\"")
        return v

    @field_validator("table")
    @classmethod
    def _no_password_in_a_table_url(cls, v: str | None) -> str | None:
        if v is not None and url_scheme(v) is not None and has_password(v):
            raise ValueError(PASSWORD_REFUSED)
        return v


class TransactionsConfig(TableConfig):
    timestamp_format: str | None = None
    event_values: dict[str, str] = Field(default_factory=dict, description="client event value -> view, cart, "
                                         "favourite, purchase (other values are kept as named extra types)")

    @field_validator("event_values")
    @classmethod
    def _canonical_events(cls, v: dict[str, str]) -> dict[str, str]:
        for raw, canon in v.items():
            if canon not in EVENT_TYPES:
                raise ValueError(f"'{raw}' maps to '{canon}'{did_you_mean(canon, EVENT_TYPES)}; map client values to one of "
                                 f"{', '.join(EVENT_TYPES)} (unmapped values are kept as extra event types)")
        return v

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, v: dict[str, str]) -> dict[str, str]:
        return _check_canonical(v, TRANSACTION_COLUMNS)


class CustomersConfig(TableConfig):
    label: str | None = None
    positive: str | int | float | bool | None = None
    pii: list[str] = Field(default_factory=list)


class ItemsConfig(TableConfig):
    exclude: list[str] = Field(default_factory=list, description='item codes that are not products (postage, '
                               'charges, vouchers), or "re:<pattern>" on the item id or name')

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, v: dict[str, str]) -> dict[str, str]:
        return _check_canonical(v, ITEM_COLUMNS)


def _check_canonical(mapping: dict[str, str], allowed: tuple[str, ...]) -> dict[str, str]:
    for key in mapping:
        if key not in allowed:
            raise ValueError(f"'{key}' is not a canonical column{did_you_mean(key, allowed)}; use one of {', '.join(allowed)}")
    return mapping


class DataConfig(StrictModel):
    transactions: TransactionsConfig | None = None
    customers: CustomersConfig | None = None
    items: ItemsConfig | None = None
    timezone: str | None = Field(None, description="IANA zone for unix and zone-aware timestamps (naive ones are "
                                 "taken as local time there); default: as given, unix times in UTC")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v):
        if v is None:
            return v
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{v}' is not an IANA time zone; write it like \"Asia/Shanghai\" or "
                             "\"Europe/London\"") from None
        return v

    @model_validator(mode="after")
    def _needs_a_table(self) -> DataConfig:
        if self.transactions is None and self.customers is None:
            raise ValueError("give data.transactions or data.customers (or both)")
        return self


