"""Keyed pseudonyms and PII detection (cxnb.privacy)."""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import pandas as pd
import pytest

from cxnb.privacy import PSEUDONYM_LENGTH, copies_ids, looks_like_pii, pii_finding, pseudonym_sql

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


def test_mixed_contact_columns_free_text_and_id_copies_are_found():
    emails = [f"p{i}@example.com" for i in range(40)]
    phones = [f"+44 20 7946 {i:04d}" for i in range(40)]
    assert pii_finding(pd.Series(emails + phones + ["n/a"] * 20)) == ("contact", 0.8)
    notes = [f"ordered on 2021-03-{i % 28 + 1:02d} 10:15, item 123456789{i % 10}, total 1,234.50" for i in range(95)]
    kind, share = pii_finding(pd.Series(notes + ["call me on 020 7946 0958 after six", "mail bob@shop.co.uk"] * 2))
    assert kind == "free_text" and share == pytest.approx(4 / 99)
    assert pii_finding(pd.Series(notes)) == (None, 0.0)
    assert pii_finding(pd.Series(notes + ["one stray bob@shop.co.uk"])) == (None, 0.0)  # a single value is no share
    assert copies_ids(pd.Series([17850.0, 17851.0, None]), pd.Series(["17850", "17851", "3"])) == 1.0
    assert copies_ids(pd.Series(["North", "17851"]), pd.Series(["17850", "17851"])) == 0.5
