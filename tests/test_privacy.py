"""Keyed pseudonyms and PII detection (cxnb.privacy)."""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import pandas as pd
import pytest

from cxnb.privacy import PSEUDONYM_LENGTH, looks_like_pii, pseudonym_sql

IDS = ["C000001", "17850", "顧客-7", "x y", "", "a" * 300, None]


@pytest.mark.parametrize("key", [b"test-secret", b"k" * 64, b"a much longer key " * 10, "clé-ü".encode()])
def test_sql_pseudonyms_are_hmac_sha256(key):
    """DuckDB computes the pseudonyms; they must be RFC 2104 HMAC-SHA256, as Python's hmac gives."""
    con = duckdb.connect()
    con.register("ids", pd.DataFrame({"v": pd.Series(IDS, dtype="string")}))
    got = con.execute(f"SELECT v, {pseudonym_sql('v', key)} FROM ids").fetchall()
    for value, pseudonym in got:
        if value is None:
            assert pseudonym is None
        else:
            assert pseudonym == hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:PSEUDONYM_LENGTH]


def test_pii_detection():
    assert looks_like_pii(pd.Series(["ann@example.com", "bo@shop.co.uk", None])) == "email"
    assert looks_like_pii(pd.Series(["+44 20 7946 0958", "(555) 123-4567"])) == "phone"
    assert looks_like_pii(pd.Series(["2024-01-05", "2024-02-11"])) is None
    assert looks_like_pii(pd.Series(["gold", "silver"])) is None
