"""The parameter file (``params/<client>.yaml``) as a validated pydantic model.

Unknown keys, wrong types, missing files and bad values raise :class:`ConfigError` with one line that
names the file, the key and the fix. Relative paths resolve against the parameter file's folder.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from cxnb.constants import EVENT_TYPES, ITEM_COLUMNS, SEED, TRANSACTION_COLUMNS
from cxnb.errors import ConfigError, did_you_mean
from cxnb.urls import PASSWORD_ENV, has_password, mask_text, sql_dialect, url_scheme

DEFAULT_EVENT_WEIGHTS = {"view": 0.1, "favourite": 0.3, "cart": 0.5, "purchase": 1.0}
PASSWORD_REFUSED = (f"do not write a password into the parameter file; set it in the {PASSWORD_ENV} "
                    "environment variable instead")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TableConfig(_Strict):
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


class DataConfig(_Strict):
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


class SegmentationConfig(_Strict):
    k: int | Literal["auto"] = "auto"
    k_range: tuple[int, int] = (3, 10)  # two segments on skewed data say nothing new (silhouette favours them)
    features: list[str] | None = None
    seed: int = SEED

    @field_validator("k")
    @classmethod
    def _k_at_least_two(cls, v):
        if v != "auto" and v < 2:
            raise ValueError("k must be 'auto' or an integer >= 2")
        return v

    @field_validator("k_range")
    @classmethod
    def _range_ordered(cls, v):
        if not 2 <= v[0] < v[1]:
            raise ValueError("k_range must be [low, high] with 2 <= low < high")
        return v


class PredictionConfig(_Strict):
    label: Literal["auto", "horizon", "given"] = "auto"
    seed: int = SEED
    test_fraction: float = Field(0.25, gt=0, lt=1)
    threshold: float | Literal["auto"] = "auto"
    log_transform: bool = True
    exclude: list[str] = Field(default_factory=list, description="feature columns never used by the models")
    keep: list[str] = Field(default_factory=list, description="feature columns used even when their single-feature "
                            "AUC flags them as a likely leak")


class RecommendationConfig(_Strict):
    top_n: int = Field(10, ge=1, le=100)
    split: Literal["time", "stratified"] = "time"
    test_fraction: float = Field(0.25, gt=0, lt=1)
    stratify_by: Literal["user", "item"] = "user"
    seed: int = SEED
    exclude_seen: bool = True
    similarity: Literal["auto", "cosine", "jaccard", "lift"] = "auto"
    half_life_days: float | Literal["auto"] | None = Field(
        "auto", description='time decay of item_cf affinities; "auto" = chosen on validation, null = no decay')
    mmr_lambda: float = Field(0.7, ge=0, le=1)
    models: list[Literal["popularity", "popularity_group", "category", "item_cf", "ease"]] = Field(
        default_factory=lambda: ["popularity", "popularity_group", "category", "item_cf", "ease"])
    ease_lambda: float | Literal["auto"] = "auto"
    popularity_by: str | None = Field("auto", description='customers column for group popularity; "auto" = '
                                      'segment or region when present')
    event_weights: dict[str, float] | None = Field(
        default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS),
        description="weight of each behaviour event type in the training interactions (view 0.1, favourite 0.3, "
                    "cart 0.5, purchase 1.0); used only when the log has behaviour events and they measurably "
                    "improve precision@top_n; {} or null = purchases only")

    @field_validator("event_weights")
    @classmethod
    def _known_event_weights(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        for name, weight in (v or {}).items():
            if name not in EVENT_TYPES:
                raise ValueError(f"'{name}' is not an event type{did_you_mean(name, EVENT_TYPES)}; weigh one of {', '.join(EVENT_TYPES)}")
            if weight < 0 or (name == "purchase" and weight == 0):
                least = "above 0" if name == "purchase" else "0 or more"
                raise ValueError(f"the weight of '{name}' is {weight}; it must be {least}")
        return v

    @field_validator("half_life_days", "ease_lambda")
    @classmethod
    def _positive_or_auto(cls, v):
        if v not in ("auto", None) and v <= 0:
            raise ValueError('must be a positive number or "auto"')
        return v


class JourneyConfig(_Strict):
    """Funnel steps (each a list of event types that count for it), window, cohort period, funnel split."""

    funnel: list[list[str]] = Field(default_factory=lambda: [["view"], ["cart", "favourite"], ["purchase"]],
                                    min_length=2)
    conversion_window_days: float = Field(7.0, gt=0)
    cohort_period: Literal["month", "week"] = "month"
    segment_by: str | None = Field("rfm_segment", description='"rfm_segment", a customers column, or null')

    @field_validator("funnel")
    @classmethod
    def _steps_not_empty(cls, v):
        if any(not step for step in v):
            raise ValueError("every funnel step lists at least one event type, e.g. [[view], [cart], [purchase]]")
        return v


class ValueConfig(_Strict):
    """Customer value: forecast horizon, yearly discount rate, backtest holdout and the candidate models."""

    horizon_days: int = Field(365, ge=1, description="days ahead for expected purchases and CLV")
    discount_rate: float = Field(0.10, ge=0, lt=1, description="yearly discount rate of future value")
    holdout_days: int | None = Field(None, ge=7, description="backtest holdout after analysis.cutoff; "
                                     "null = analysis.horizon_days")
    models: list[Literal["bg_nbd", "mbg_nbd", "pareto_nbd"]] = Field(
        default_factory=lambda: ["bg_nbd", "mbg_nbd"], min_length=1,
        description="purchase models compared on the backtest; pareto_nbd can take minutes on long histories")


class AnalysisConfig(_Strict):
    cutoff: str | None = Field(None, description="the last day of the feature/calibration period (ISO date): "
                               "it belongs to the history side; labels and holdouts start the day after")
    start: str | None = None
    end: str | None = None
    horizon_days: int = Field(90, ge=1)
    segmentation: SegmentationConfig = Field(default_factory=SegmentationConfig)
    prediction: PredictionConfig = Field(default_factory=PredictionConfig)
    recommendation: RecommendationConfig = Field(default_factory=RecommendationConfig)
    journey: JourneyConfig = Field(default_factory=JourneyConfig)
    value: ValueConfig = Field(default_factory=ValueConfig)

    @field_validator("cutoff", "start", "end", mode="before")
    @classmethod
    def _iso_date(cls, v):
        if v is None:
            return v
        try:
            return str(pd.Timestamp(str(v)).date())
        except (ValueError, TypeError) as exc:
            raise ValueError(f"'{v}' is not a date; write it as an ISO string like \"2011-09-01\"") from exc


class ReportConfig(_Strict):
    """How figures are shown: the client's currency (ISO 4217 code, e.g. CNY, EUR, GBP); whether CSV exports
    start with a UTF-8 byte-order mark (default: yes for Chinese reports, which Excel otherwise garbles)."""

    currency: str | None = None
    csv_bom: bool | None = None

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, v):
        from cxnb.formats import valid_currency

        if v is not None and not valid_currency(v.upper()):
            raise ValueError(f"'{v}' is not an ISO 4217 currency code; write it like CNY, EUR, GBP or USD")
        return v.upper() if v else v


class PrivacyConfig(_Strict):
    pseudonymize_ids: bool = True
    min_group_size: int = Field(10, ge=1)


class Params(_Strict):
    """A client's parameter file."""

    client: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = ""
    language: Literal["en", "zh"] = "en"
    data: DataConfig
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)

    _path: Path | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path | None:
        """The parameter file this was read from (None when built in code)."""
        return self._path

    @property
    def base_dir(self) -> Path:
        """Folder that relative paths in the file are resolved against."""
        return self.path.parent if self.path else Path.cwd()

    def csv_bom(self) -> bool:
        """Whether CSV exports carry a byte-order mark: ``report.csv_bom``, by default only for ``language: zh``."""
        return self.language == "zh" if self.report.csv_bom is None else self.report.csv_bom

    def tables(self) -> dict[str, TableConfig]:
        """The configured tables by name."""
        return {n: t for n, t in (("transactions", self.data.transactions), ("customers", self.data.customers),
                                  ("items", self.data.items)) if t is not None}

    def source_path(self, table: str) -> Path:
        """Absolute path of a file source."""
        return (self.base_dir / self.tables()[table].source).resolve()

    def params_hash(self) -> str:
        """sha256 of the validated parameters (stable across key order and formatting)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()


def _known_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names allowed at ``loc`` (the parent of the offending key)."""
    current: Any = model
    for part in loc:
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        ann = fields[part].annotation
        args = getattr(ann, "__args__", ()) or (ann,)
        current = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if current is None:
            return []
    return list(getattr(current, "model_fields", {}))


def _describe(error: dict, file: Path) -> str:
    loc = tuple(error["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _known_keys(Params, loc[:-1])
        return f"{file}: unknown key '{key}'{did_you_mean(loc[-1], allowed)}: allowed here: {', '.join(allowed)}."
    if kind == "missing":
        return f"{file}: missing key '{key}': add it (see params/demo.yaml for an example)."
    msg = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    shown = f" (got {value!r})" if value is not None and not isinstance(value, dict) and msg != PASSWORD_REFUSED else ""
    if kind == "string_pattern_mismatch" and loc == ("client",):
        msg = "use a lower-case slug of letters, digits, '-' or '_', e.g. 'acme'"
    return mask_text(f"{file}: key '{key}'{shown}: {msg}.")


class _ParamsLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader that refuses aliases, so a file cannot expand without bound ("billion laughs")."""

    file: Path = Path("params.yaml")

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise ConfigError(f"{self.file}: line {event.start_mark.line + 1}: YAML aliases ('*{event.anchor}') are "
                              "not allowed in a parameter file; write the value out in full.")
        return super().compose_node(parent, index)


def _check_duplicate_keys(loader: _ParamsLoader, node: yaml.Node, where: tuple[str, ...] = ()) -> None:
    """Raise ConfigError naming a key given twice in one mapping (at any level) and both of its lines."""
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_duplicate_keys(loader, item, (*where, str(i)))
        return
    if not isinstance(node, yaml.MappingNode):
        return
    seen: dict[Any, yaml.Mark] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True) if isinstance(key_node, yaml.ScalarNode) else None
        if key is not None and key_node.tag != "tag:yaml.org,2002:merge":
            if key in seen:
                raise ConfigError(f"{loader.file}: key '{'.'.join((*where, str(key)))}' is given twice "
                                  f"({_lines(seen[key], key_node.start_mark)}); keep one of them.")
            seen[key] = key_node.start_mark
        _check_duplicate_keys(loader, value_node, (*where, str(key)))


def _lines(first: yaml.Mark, second: yaml.Mark) -> str:
    """Where two keys are: ``lines 1 and 4``, or ``line 5, columns 14 and 39``."""
    if first.line == second.line:
        return f"line {first.line + 1}, columns {first.column + 1} and {second.column + 1}"
    return f"lines {first.line + 1} and {second.line + 1}"


def read_yaml(path: Path) -> Any:
    """The parsed parameter file; duplicated keys and aliases are errors (ConfigError), not silently resolved."""
    loader = _ParamsLoader(path.read_text(encoding="utf-8"))
    loader.file = path
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_duplicate_keys(loader, node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def not_a_parameter_file(path: Path) -> ConfigError:
    """The one-line refusal of a parameter path that is a folder or missing."""
    if path.is_dir():
        inside = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
        example = inside[0] if inside else path / "<client>.yaml"
        return ConfigError(f"{path}: is a folder; give the YAML file inside, e.g. {example}.")
    return ConfigError(f"{path}: parameter file not found; give the path to params/<client>.yaml.")


def load_params(path: str | Path, check_files: bool = True) -> Params:
    """Read and validate a parameter file; raise ConfigError naming the file, key and fix."""
    path = Path(path)
    if not path.is_file():
        raise not_a_parameter_file(path)
    try:
        raw = read_yaml(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where}: not valid YAML ({getattr(exc, 'problem', exc)}); fix the syntax.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save the parameter file as UTF-8.") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys (client:, data:, ...) at the top level.")
    try:
        params = Params.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0], path)) from None
    params._path = path.resolve()
    check_source_keys(params)
    if check_files:
        check_sources(params)
    return params


FILE_SOURCE_HINTS = {
    "query": "to keep only some rows of a file write 'where:' (a SQL condition on its columns)",
    "table": "for one sheet of an Excel workbook write read_options: {sheet_name: ...}",
}


def check_source_keys(params: Params) -> None:
    """``table:``/``query:`` only where they mean something (a SQL or Spark source); SQL sources have one."""
    for name, table in params.tables().items():
        kind = table.kind()
        if kind == "sql" and not (table.table or table.query):
            raise ConfigError(f"{params.path}: key 'data.{name}': a SQL source needs 'table:' or 'query:'.")
        if kind in ("file", "demo"):
            for key, hint in FILE_SOURCE_HINTS.items():
                if getattr(table, key) is not None:
                    raise ConfigError(f"{params.path}: key 'data.{name}.{key}': '{key}:' works only with a "
                                      f"database URL or spark source, not a {kind} source; {hint}, or remove it.")


def check_sources(params: Params) -> None:
    """Every file source exists and has a readable type."""
    for name, table in params.tables().items():
        if table.kind() != "file":
            continue
        path = params.source_path(name)
        if not path.exists():
            raise ConfigError(mask_text(
                f"{params.path}: key 'data.{name}.source': file '{table.source}' not found (looked for {path}); "
                "paths are relative to the parameter file."
            ))


def cutoff_instant(cutoff: str | None) -> pd.Timestamp | None:
    """The first instant after ``analysis.cutoff``: a date's whole day is history (features, calibration), the
    label window or holdout starts at the next midnight; a date with a time is taken as that instant."""
    if not cutoff:
        return None
    ts = pd.Timestamp(cutoff)
    return ts + pd.Timedelta(days=1) if ts == ts.normalize() else ts


def resolve_cutoff(params: Params, last_timestamp: pd.Timestamp) -> pd.Timestamp:
    """The instant that separates history from outcome: the day after ``analysis.cutoff``, or ``horizon_days``
    before the day after the last purchase when not given."""
    if params.analysis.cutoff:
        return cutoff_instant(params.analysis.cutoff)
    return (pd.Timestamp(last_timestamp).normalize() + pd.Timedelta(days=1)) - pd.Timedelta(
        days=params.analysis.horizon_days
    )
