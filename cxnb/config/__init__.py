"""The parameter file (``params/<client>.yaml``) as a validated pydantic model.

Unknown keys, wrong types, missing files and bad values raise :class:`ConfigError` with one line that
names the file, the key and the fix. Relative paths resolve against the parameter file's folder.

``sources`` (the ``data:`` section), ``analysis`` (stages, report, privacy), ``params`` (the whole file),
``loading`` (YAML, duplicate keys, one-line errors, file checks), ``cutoff`` (history vs outcome).
"""

from cxnb.config.analysis import (
    AnalysisConfig,
    JourneyConfig,
    PredictionConfig,
    PrivacyConfig,
    RecommendationConfig,
    ReportConfig,
    SegmentationConfig,
    ValueConfig,
)
from cxnb.config.cutoff import cutoff_instant, resolve_cutoff
from cxnb.config.loading import (
    FILE_SOURCE_HINTS,
    check_source_keys,
    check_sources,
    load_params,
    not_a_parameter_file,
    read_yaml,
)
from cxnb.config.params import Params
from cxnb.config.sources import (
    DEFAULT_EVENT_WEIGHTS,
    PASSWORD_REFUSED,
    CustomersConfig,
    DataConfig,
    ItemsConfig,
    TableConfig,
    TransactionsConfig,
)

__all__ = [
    "DEFAULT_EVENT_WEIGHTS", "FILE_SOURCE_HINTS", "PASSWORD_REFUSED", "AnalysisConfig", "CustomersConfig",
    "DataConfig", "ItemsConfig", "JourneyConfig", "Params", "PredictionConfig", "PrivacyConfig",
    "RecommendationConfig", "ReportConfig", "SegmentationConfig", "TableConfig", "TransactionsConfig",
    "ValueConfig", "check_source_keys", "check_sources", "cutoff_instant", "load_params", "not_a_parameter_file",
    "read_yaml", "resolve_cutoff",
]
