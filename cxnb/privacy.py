"""Privacy: keyed pseudonyms for customer ids, PII column detection, small-group suppression."""

from __future__ import annotations

import hashlib
import os
import re

import pandas as pd

from cxnb.constants import DEMO_SECRET
from cxnb.errors import ConfigError

SECRET_ENV = "CXNB_SECRET"
PSEUDONYM_LENGTH = 16
OTHER = "other"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[\d\s().-]{9,20}$")
_DATE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")


def secret_key(is_demo: bool) -> bytes:
    """The pseudonymization key: CXNB_SECRET, or the documented fixed key for the built-in demo."""
    key = os.environ.get(SECRET_ENV)
    if key:
        return key.encode()
    if is_demo:
        return DEMO_SECRET.encode()
    raise ConfigError(
        f"privacy.pseudonymize_ids is on but {SECRET_ENV} is not set: export {SECRET_ENV}=<a long random "
        "string kept by the consultant> (the same key gives the same pseudonyms), or set "
        "privacy.pseudonymize_ids: false."
    )


def pseudonym_sql(column: str, key: bytes) -> str:
    """DuckDB SQL for HMAC-SHA256(key, UTF-8 of ``column``) as hex, cut to 16 characters (RFC 2104, so the same
    value as Python's ``hmac.new(key, id, sha256)``); NULL stays NULL."""
    block = 64  # SHA-256 block size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = bytes(b ^ 0x36 for b in key).hex()
    outer = bytes(b ^ 0x5C for b in key).hex()
    digest = f"sha256(unhex('{outer}') || unhex(sha256(unhex('{inner}') || encode({column}))))"
    return f"left({digest}, {PSEUDONYM_LENGTH})"


def looks_like_pii(values: pd.Series, threshold: float = 0.5) -> str | None:
    """'email' or 'phone' when most non-empty values look like one, else None."""
    sample = values.dropna().astype(str).str.strip()
    sample = sample[sample != ""].head(500)
    if sample.empty:
        return None
    if sample.str.match(_EMAIL).mean() >= threshold:
        return "email"
    digits = sample.str.replace(r"\D", "", regex=True).str.len()
    has_sep = sample.str.contains(r"[\s()+-]")
    phone_like = sample.str.match(_PHONE) & ~sample.str.match(_DATE) & digits.between(9, 15) & has_sep
    if phone_like.mean() >= threshold:
        return "phone"
    return None


def suppress_small_groups(counts: pd.DataFrame, group_col: str, size_col: str, min_size: int) -> pd.DataFrame:
    """Merge rows whose ``size_col`` is below ``min_size`` into one 'other' row (summing numeric columns).

    If the merged 'other' row is itself still below ``min_size`` it is dropped.
    """
    small = counts[size_col] < min_size
    if not small.any():
        return counts
    big = counts[~small]
    rest = counts[small].select_dtypes("number").sum()
    if rest[size_col] < min_size:
        return big.reset_index(drop=True)
    other = pd.DataFrame([{**rest.to_dict(), group_col: OTHER}])
    return pd.concat([big, other], ignore_index=True)[counts.columns]
