"""Load, map, type and clean a client's tables with DuckDB, then write the prepared Parquet once per run.

Everything between the raw source and the prepared Parquet runs inside DuckDB (out of core, keyed
pseudonyms included), so a transaction log larger than pandas comfortably holds still prepares. The source
is read once into a typed table; exact duplicates are found by a hash of the whole line; each line is judged
once by the first cleaning rule it meets; the clean lines are written in no particular order (no stage
depends on it).

One module per concern: ``base`` (names), ``readers`` (a source into DuckDB), ``files`` (CSV, Excel, Parquet),
``servers`` (SQL, Spark), ``mapping`` (client columns to canonical names), ``typed`` (types), ``cleaning`` (the
rules, events, PII), ``pipeline`` (``prepare``).
"""

from __future__ import annotations

from cxnb.data.base import (
    CLEANING_RULES,
    DATA_DIR,
    DUCKDB_ENCODINGS,
    EARLIEST_PLAUSIBLE,
    EVENTS_TABLE,
    NUMERIC_COLUMNS,
    NUMERIC_TYPES,
    QUALITY_FILE,
    TIMESTAMP_FORMATS,
)
from cxnb.data.cleaning import (
    PII_REASONS,
    clean_transactions,
    implausible_events,
    plausible_range,
    rule_why,
    split_events,
    write_events,
)
from cxnb.data.files import CSV_ALIASES, CSV_EQUIVALENTS, CSV_OPTIONS, NO_EFFECT, SQL_CSV_NAMES
from cxnb.data.mapping import column_mapping
from cxnb.data.pipeline import UNPAD_GAIN, is_prepared, prepare, write_id_map
from cxnb.data.readers import read_raw
from cxnb.data.servers import SQL_CHUNK_ROWS
from cxnb.data.typed import infer_timestamp_format, typed_select

__all__ = ["CLEANING_RULES", "CSV_ALIASES", "CSV_EQUIVALENTS", "CSV_OPTIONS", "DATA_DIR", "DUCKDB_ENCODINGS", "EARLIEST_PLAUSIBLE", "EVENTS_TABLE", "NO_EFFECT", "NUMERIC_COLUMNS", "NUMERIC_TYPES", "PII_REASONS", "QUALITY_FILE", "SQL_CHUNK_ROWS", "SQL_CSV_NAMES", "TIMESTAMP_FORMATS", "UNPAD_GAIN", "clean_transactions", "column_mapping", "implausible_events", "infer_timestamp_format", "is_prepared", "plausible_range", "prepare", "read_raw", "rule_why", "split_events", "typed_select", "write_events", "write_id_map"]
