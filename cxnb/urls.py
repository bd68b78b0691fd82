"""Database URLs in parameter files: which sources are URLs, whether one holds a password, and masked text.

A password never belongs in a parameter file (it is given in the CXNB_DB_PASSWORD environment variable), so
a URL holding one in any part is refused; every URL or error message shown anywhere goes through
:func:`mask_url` / :func:`mask_text` as a second line of defence.
"""

from __future__ import annotations

import os
import re

PASSWORD_ENV = "CXNB_DB_PASSWORD"
# Base dialect of a URL scheme -> the SQLAlchemy driver cxnb uses for it (whatever driver the URL names).
SQL_DRIVERS = {"mysql": "mysql+pymysql", "mariadb": "mysql+pymysql", "postgresql": "postgresql+psycopg",
               "postgres": "postgresql+psycopg"}
PASSWORD_KEYS = ("password", "passwd", "pwd", "pass", "passphrase", "secret", "token")
MASK = "***"
MIN_SECRET_LENGTH = 3

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@'\"]*):(?P<pw>[^\s'\"]*)@")
_KEY_VALUE = re.compile(r"(?P<key>\b[\w.-]*(?:" + "|".join(PASSWORD_KEYS) + r")[\w.-]*)\s*=\s*(?P<value>'[^']*'|"
                        r"\"[^\"]*\"|[^&;\s'\"]*)", re.IGNORECASE)


def url_scheme(source: str) -> str | None:
    """The lower-case scheme of a ``scheme://...`` source (``postgresql+psycopg2``), or None for a path."""
    match = _SCHEME.match(source.strip())
    return match.group(1).lower() if match else None


def sql_dialect(source: str) -> str | None:
    """``mysql`` or ``postgresql`` for a database URL of any driver (``mysql+pymysql://``, ``postgres://``)."""
    scheme = url_scheme(source)
    if scheme is None:
        return None
    base = scheme.split("+", 1)[0]
    return SQL_DRIVERS[base].split("+", 1)[0] if base in SQL_DRIVERS else None


def database_url(source: str):
    """The SQLAlchemy URL of a database source, on the driver cxnb ships, password from CXNB_DB_PASSWORD."""
    import sqlalchemy as sa

    url = sa.engine.make_url(source.strip())
    url = url.set(drivername=SQL_DRIVERS.get(url.drivername.split("+", 1)[0].lower(), url.drivername))
    if os.environ.get(PASSWORD_ENV):
        url = url.set(password=os.environ[PASSWORD_ENV])
    return url


def has_password(source: str) -> bool:
    """True when a URL carries a password anywhere: ``user:pw@``, or a ``password=``/``pwd=``-like query key."""
    if mask_url(source) != source:
        return True
    import sqlalchemy as sa

    try:
        url = sa.engine.make_url(source.strip())
    except sa.exc.ArgumentError:
        return False
    return bool(url.password) or any(_is_password_key(k) for k in url.query)


def _is_password_key(key: str) -> bool:
    return any(word in key.lower() for word in PASSWORD_KEYS)


def mask_url(url: str) -> str:
    """A URL (or any text) with passwords replaced by ***: ``user:***@`` and ``password=***``."""
    masked = _USERINFO.sub(lambda m: f"{m['head']}:{MASK}@" if m["pw"] else m[0], url)
    return _KEY_VALUE.sub(lambda m: f"{m['key']}={MASK}", masked)


def mask_text(text: str) -> str:
    """Text to show (an error message, a driver's reason): URLs masked, the CXNB_DB_PASSWORD value removed."""
    secret = os.environ.get(PASSWORD_ENV, "")
    if len(secret) >= MIN_SECRET_LENGTH:
        text = text.replace(secret, MASK)
    return mask_url(text)
