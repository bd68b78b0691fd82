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


PII_SHARE = 0.5  # a column is a contact column when at least this share of its sampled values are e-mails/phones
MIXED_SHARE = 0.05  # ... and a mix of both when each kind is at least this share
FREE_TEXT_SHARE = 0.01  # free text is personal data when at least this share of its values hold an e-mail/phone
ID_COPY_SHARE = 0.9  # a column copies the customer id when it equals it on at least this share of sampled rows
PII_SAMPLE_ROWS = 2_000
_EMAIL_IN_TEXT = re.compile(r"[^@\s<>()\[\],;:\"']+@[^@\s<>()\[\],;:\"']+\.[A-Za-z]{2,}")
_PHONE_IN_TEXT = re.compile(r"(?<![\w.,/-])\+?\(?\d[\d ().-]{7,18}\d(?![\w.,/-])")
_DATE_TIME_IN_TEXT = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}(:\d{2}){1,2})?")


def _non_empty_text(values: pd.Series) -> pd.Series:
    sample = values.dropna().astype(str).str.strip()
    return sample[sample != ""]


def _is_phone(sample: pd.Series) -> pd.Series:
    """Whole values written like phone numbers: 9 to 15 digits with a separator or a leading +, not a date."""
    digits = sample.str.replace(r"\D", "", regex=True).str.len()
    has_sep = sample.str.contains(r"[\s()+-]")
    return sample.str.match(_PHONE) & ~sample.str.match(_DATE) & digits.between(9, 15) & has_sep


def _holds_phone(text: str) -> bool:
    """Whether free text holds a phone number (dates and times are not taken for one)."""
    for match in _PHONE_IN_TEXT.finditer(_DATE_TIME_IN_TEXT.sub(" ", text)):
        digits = sum(ch.isdigit() for ch in match.group())
        if 9 <= digits <= 15 and (match.group().startswith(("+", "(")) or re.search(r"[\s().-]", match.group())):
            return True
    return False


def looks_like_pii(values: pd.Series, threshold: float = PII_SHARE) -> str | None:
    """'email' or 'phone' when most non-empty values are one; 'contact' when e-mails and phones together are;
    'free_text' when at least FREE_TEXT_SHARE of the values (two or more) contain one; else None."""
    return pii_finding(values, threshold)[0]


def pii_finding(values: pd.Series, threshold: float = PII_SHARE) -> tuple[str | None, float]:
    """The kind of personal data in a sample of a column (see ``looks_like_pii``) and the share of values showing it."""
    sample = _non_empty_text(values).head(PII_SAMPLE_ROWS)
    if sample.empty:
        return None, 0.0
    email = sample.str.match(_EMAIL)
    phone = _is_phone(sample) & ~email
    share = float((email | phone).mean())
    if share >= threshold:
        mixed = min(email.mean(), phone.mean()) >= MIXED_SHARE
        return ("contact" if mixed else "email" if email.mean() > phone.mean() else "phone"), share
    holds = sample.map(lambda v: bool(_EMAIL_IN_TEXT.search(v)) or _holds_phone(v))
    if holds.mean() >= FREE_TEXT_SHARE and holds.sum() >= 2:
        return "free_text", float(holds.mean())
    return None, 0.0


def copies_ids(values: pd.Series, ids: pd.Series) -> float:
    """The share of rows (with both present) where ``values`` equals the customer id as text ('17850.0' = '17850')."""
    def as_text(s: pd.Series) -> pd.Series:
        return s.astype("string").str.strip().str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)

    both = values.notna() & ids.notna()
    if not both.any():
        return 0.0
    return float((as_text(values[both]) == as_text(ids[both])).mean())


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
