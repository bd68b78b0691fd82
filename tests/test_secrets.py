"""Database passwords never leak: refused in any part of a URL, masked wherever a URL or a driver error is shown,
and the supported way (CXNB_DB_PASSWORD) tested against a real database user with a password.

The database tests create a user with a password and a small table on the servers at 127.0.0.1 (database
``test``), and drop both afterwards. Without a server they skip, unless CXNB_REQUIRE_DB=1.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pandas as pd
import pytest

from cxnb.cli import main
from cxnb.config import TableConfig
from cxnb.demo import generate_demo
from cxnb.engine import database_url
from cxnb.urls import has_password, mask_text, mask_url
from tests.conftest import write_params
from tests.test_sources import SERVERS, _server

PLANTED = "Pl4nted-Secret-7731"
MAPPING = "{customer_id: customer_id, timestamp: timestamp, order_id: order_id, item_id: item_id, " \
          "quantity: quantity, price: price}"


def _params(folder: Path, source: str, extra: str = "table: orders") -> Path:
    return write_params(folder, f"client: secrets\ndata:\n  transactions:\n    source: '{source}'\n"
                                f"    {extra}\n    columns: {MAPPING}\n")


def _files_holding(folder: Path, secret: str, skip: tuple[Path, ...] = ()) -> list[Path]:
    """Every file under ``folder`` (but ``skip``) whose bytes contain ``secret``."""
    return [p for p in folder.rglob("*") if p.is_file() and p not in skip and secret.encode() in p.read_bytes()]


URLS_WITH_PASSWORDS = [
    f"postgresql://analyst:{PLANTED}@db.example:5432/shop",
    f"postgresql+psycopg2://analyst:{PLANTED}@db.example/shop",
    f"postgresql+psycopg://analyst:{PLANTED}@db.example/shop",
    f"postgres://analyst:{PLANTED}@db.example/shop",
    f"mysql://analyst:{PLANTED}@db.example:3306/shop",
    f"mysql+pymysql://analyst:{PLANTED}@db.example/shop",
    f"mariadb://analyst:{PLANTED}@db.example/shop",
    f"postgresql://analyst:{PLANTED}/with-slash@db.example/shop",
    f"postgresql://analyst@db.example/shop?password={PLANTED}",
    f"postgresql://db.example/shop?user=analyst&password={PLANTED}&sslmode=require",
    f"mysql://analyst@db.example/shop?pwd={PLANTED}",
    f"mysql+pymysql://analyst@db.example/shop?passwd={PLANTED}",
    f"postgresql://analyst@db.example/shop?sslpassword={PLANTED}",
    f"POSTGRESQL://analyst@db.example/shop?PASSWORD={PLANTED}",
    f"mssql://analyst:{PLANTED}@db.example/shop",
]


@pytest.mark.parametrize("url", URLS_WITH_PASSWORDS)
def test_a_password_anywhere_in_a_url_is_refused_and_never_echoed(tmp_path, capfd, url):
    params = _params(tmp_path, url)
    out = tmp_path / "out"
    codes = [main(["validate", str(params)]), main(["run", str(params), "--out", str(out), "--quiet"])]
    stdout, stderr = capfd.readouterr()
    assert codes == [2, 2]
    assert stdout == ""
    lines = stderr.splitlines()
    assert lines == [lines[0]] * 2 and "Traceback" not in stderr
    assert lines[0] == (f"cxnb: error: {params}: key 'data.transactions.source': do not write a password into the "
                        "parameter file; set it in the CXNB_DB_PASSWORD environment variable instead.")
    assert PLANTED not in stderr
    assert not out.exists()
    assert _files_holding(tmp_path, PLANTED, skip=(params,)) == []


def test_a_password_in_a_spark_table_url_is_refused(tmp_path, capsys):
    body = f"client: s\ndata: {{transactions: {{source: spark, table: 's3a://key:{PLANTED}@bucket/orders'}}}}\n"
    assert main(["validate", str(write_params(tmp_path, body))]) == 2
    err = capsys.readouterr().err
    assert "key 'data.transactions.table': do not write a password" in err and PLANTED not in err


@pytest.mark.parametrize(("url", "dialect"), [
    ("postgresql+psycopg2://u@h/db", "postgresql"), ("postgresql+asyncpg://u@h/db", "postgresql"),
    ("postgres://u@h/db", "postgresql"), ("mysql+pymysql://u@h/db", "mysql"), ("mysql+mysqldb://u@h/db", "mysql"),
    ("mariadb://u@h/db", "mysql"), ("MySQL://u@h/db", "mysql"),
])
def test_a_database_url_of_any_driver_is_read_with_the_driver_cxnb_ships(url, dialect):
    assert TableConfig(source=url, table="t").kind() == "sql"
    assert database_url(url).drivername == {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}[dialect]


def test_a_psycopg2_url_is_a_database_not_a_missing_file(tmp_path, capsys):
    params = _params(tmp_path, "postgresql+psycopg2://nobody@127.0.0.1:1/none")
    assert main(["validate", str(params)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cxnb: error: postgresql+psycopg2://nobody@127.0.0.1:1/none: cannot read data.transactions")
    assert "not found" not in err and err.count("\n") == 1


@pytest.mark.parametrize(("text", "masked"), [
    ("postgresql://u:pw@h/db", "postgresql://u:***@h/db"),
    ("mysql+pymysql://u:p@ss:w/rd@h:3306/db", "mysql+pymysql://u:***@h:3306/db"),
    ("postgresql://u@h/db?password=x&sslmode=require", "postgresql://u@h/db?password=***&sslmode=require"),
    ("mysql://u@h/db?PWD=x", "mysql://u@h/db?PWD=***"),
    ("connect failed: 'host=h user=u password=s3cret dbname=d'", "connect failed: 'host=h user=u password=*** dbname=d'"),
    ('bad url "postgresql+psycopg2://bob:s3cret@db/x" given', 'bad url "postgresql+psycopg2://bob:***@db/x" given'),
    ("postgresql://u@h:5432/db", "postgresql://u@h:5432/db"),
    ("postgresql://h:5432/db", "postgresql://h:5432/db"),
    ("C:/data/orders.csv", "C:/data/orders.csv"),
])
def test_mask_url_hides_every_password(text, masked):
    assert mask_url(text) == masked
    assert has_password(text) is (masked != text)


def test_mask_text_removes_the_password_given_in_the_environment(monkeypatch):
    monkeypatch.setenv("CXNB_DB_PASSWORD", PLANTED)
    assert mask_text(f"Access denied near '{PLANTED}' for user 'u'") == "Access denied near '***' for user 'u'"


def test_a_driver_error_that_echoes_the_url_and_password_is_masked(tmp_path, capsys, monkeypatch):
    import sqlalchemy as sa

    def echoing_engine(url, **kwargs):
        shown = url.render_as_string(hide_password=False)
        raise sa.exc.OperationalError("connect", {}, Exception(f"cannot connect to {shown} (password={url.password})"))

    monkeypatch.setenv("CXNB_DB_PASSWORD", PLANTED)
    monkeypatch.setattr(sa, "create_engine", echoing_engine)
    assert main(["validate", str(_params(tmp_path, "postgresql://analyst@db.example/shop"))]) == 2
    err = capsys.readouterr().err
    assert PLANTED not in err
    assert "cannot connect to postgresql+psycopg://analyst:***@db.example/shop (password=***)" in err


# ----------------------------------------------------------------------------- a real user with a password

@pytest.fixture(scope="module")
def demo_lines() -> pd.DataFrame:
    tx = generate_demo(n_customers=200, n_items=100).transactions
    return tx.assign(timestamp=pd.to_datetime(tx["timestamp"]))


def _create_user(conn, server: str, user: str, password: str, table: str) -> None:
    if server == "mariadb":
        conn.exec_driver_sql(f"CREATE USER '{user}'@'%%' IDENTIFIED BY '{password}'")
        conn.exec_driver_sql(f"GRANT SELECT ON test.{table} TO '{user}'@'%%'")
    else:
        conn.exec_driver_sql(f"CREATE ROLE {user} LOGIN PASSWORD '{password}'")
        conn.exec_driver_sql(f"GRANT SELECT ON {table} TO {user}")


def _drop_user(conn, server: str, user: str, table: str) -> None:
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    conn.exec_driver_sql(f"DROP USER IF EXISTS '{user}'@'%%'" if server == "mariadb" else f"DROP ROLE IF EXISTS {user}")


@pytest.fixture(params=list(SERVERS))
def password_user(request, demo_lines):
    """(url without password, table, password) of a user created for this test, who may read one table."""
    import sqlalchemy as sa

    server, admin_url = request.param, SERVERS[request.param]
    admin = _server(admin_url)
    tag = uuid.uuid4().hex[:10]
    user, table, password = f"cxnb_pw_{tag}", f"cxnb_{tag}_orders", f"Pw-{tag}-{PLANTED}"
    try:
        demo_lines.to_sql(table, admin, index=False, chunksize=5000)
        with admin.begin() as conn:
            _create_user(conn, server, user, password, table)
        url = sa.engine.make_url(admin_url).set(username=user).render_as_string()
        yield url, table, password
    finally:
        with admin.begin() as conn:
            _drop_user(conn, server, user, table)
        admin.dispose()


def _password_is_checked(url: str) -> bool:
    """False when the server lets the user in with a wrong password (PostgreSQL 'trust' authentication)."""
    import sqlalchemy as sa

    wrong = sa.create_engine(database_url(url).set(password="not-the-password"), poolclass=sa.pool.NullPool)
    try:
        with wrong.connect():
            return False
    except sa.exc.OperationalError:
        return True


@pytest.mark.db
def test_a_user_with_a_password_reads_through_the_environment_and_the_password_is_never_written(
        password_user, demo_lines, tmp_path, capfd, monkeypatch):
    url, table, password = password_user
    if not _password_is_checked(url):
        pytest.skip(f"{url.split('@')[-1]} lets any password in ('trust' authentication): a password test there "
                    "would prove nothing")
    params = _params(tmp_path, url, f"table: {table}")
    monkeypatch.delenv("CXNB_DB_PASSWORD", raising=False)
    assert main(["validate", str(params)]) == 2
    denied = capfd.readouterr().err
    assert denied.count("\n") == 1 and "cannot read data.transactions" in denied and "CXNB_DB_PASSWORD" in denied

    monkeypatch.setenv("CXNB_DB_PASSWORD", password)
    out = tmp_path / "out"
    codes = [main(["validate", str(params)]), main(["run", str(params), "--out", str(out), "--only", "data_quality",
                                                    "--quiet"])]
    stdout, stderr = capfd.readouterr()
    assert codes == [0, 0], stderr
    assert f"transactions ({url}): {len(demo_lines):,} rows read" in stdout
    assert password not in stdout + stderr + denied
    assert _files_holding(tmp_path, password) == []
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs_sha256"]["transactions"]["source"] == url
    quality = json.loads(next(out.rglob("quality.json")).read_text(encoding="utf-8"))
    assert quality["tables"]["transactions"]["source"] == url
    assert quality["tables"]["transactions"]["rows_read"] == len(demo_lines)
