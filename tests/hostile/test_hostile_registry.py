"""Hostile PostgreSQL targets for ``registry`` and ``analyze``, and credentials (issue 11 items 7 and 8).

No server, a wrong password, a missing database, a malformed URL: one line, exit 2, nothing written.
Existing truth files in the working folder are refused, not overwritten. A password given in the URL
appears in no message, printed JSON or written file. The tests that need a real server use
``REAWAKEN_TEST_POSTGRES_URL`` (the server of the integration tests) and skip without one; the wrong
password is played by a tiny fake server that asks for a password and refuses it, so it always runs.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import uuid
from pathlib import Path

import pytest
from hostile_helpers import PG_URL, edited_study, run_error, tree_hash

from reawaken.cli.main import main
from reawaken.errors import SchemaError
from reawaken.io.omop.cdm import CdmUrl, redact_url

SECRET = "Hunter2-s3cr3t"
needs_pg = pytest.mark.skipif(not PG_URL, reason="no PostgreSQL server (set REAWAKEN_TEST_POSTGRES_URL)")


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _recv(conn: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return buf
        buf += chunk
    return buf


@pytest.fixture
def password_refusing_server():
    """A localhost port that speaks just enough of the PostgreSQL protocol to refuse any password."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(30)

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                while True:
                    head = _recv(conn, 8)
                    if len(head) < 8:
                        break
                    length, code = struct.unpack("!ii", head)
                    _recv(conn, length - 8)
                    if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest: "not here"
                        conn.sendall(b"N")
                        continue
                    conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
                    if _recv(conn, 1) == b"p":
                        (n,) = struct.unpack("!i", _recv(conn, 4))
                        _recv(conn, n - 4)
                    fields = b'SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "u"\0\0'
                    conn.sendall(b"E" + struct.pack("!i", 4 + len(fields)) + fields)
                    break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    srv.close()
    thread.join(5)


def _no_secret(*texts: str | bytes) -> None:
    for t in texts:
        assert (SECRET.encode() if isinstance(t, bytes) else SECRET) not in t


# --- the one redaction helper ---------------------------------------------------------------------------

@pytest.mark.parametrize("url, shown", [
    (f"postgresql://u:{SECRET}@h:5432/db", "postgresql://u:***@h:5432/db"),
    (f"postgres://u:{SECRET}@h/db?schema=cdm", "postgres://u:***@h/db?schema=cdm"),
    (f"postgresql://u:{SECRET}@[bad", "postgresql://u:***@[bad"),
    (f"postgresql://u:pa/ss@{SECRET}@h/db", "postgresql://u:***@h/db"),  # unescaped / and @
    (f"postgresql://u@h/db?sslmode=require&password={SECRET}", "postgresql://u@h/db?sslmode=require&password=***"),
    ("postgresql://u@h:5432/db", "postgresql://u@h:5432/db"),
    ("postgresql:///db?service=reg", "postgresql:///db?service=reg"),
    ("/data/registry.duckdb", "/data/registry.duckdb"),
])
def test_redact_url(url, shown):
    assert redact_url(url) == shown
    try:
        _no_secret(repr(CdmUrl.parse(url)))
    except SchemaError as exc:  # malformed: the message must not quote the password either
        _no_secret(str(exc))


@pytest.mark.parametrize("url", ["postgresql://", "postgresql:///postgres", "postgresql://?service=reg",
                                 "postgresql:///db?service=reg&schema=cdm"])
def test_urls_that_leave_everything_to_libpq_are_passed_on_intact(url):
    """``postgresql:///db`` and service URLs must reach libpq as written (PGPASSWORD, .pgpass, PGSERVICE)."""
    target = CdmUrl.parse(url).target
    assert target == url.replace("&schema=cdm", "")
    assert target.startswith("postgresql://")


# --- malformed URLs, no server, wrong password: one line, exit 2, nothing written ---------------------

@pytest.mark.parametrize("url", ["postgresql://[bad", f"postgresql://u:{SECRET}@[bad/db",
                                 f"postgresql://u:{SECRET}@h:99999/db", "postgres://h:port/db",
                                 "postgresql://u@h/db?schema=a;drop"])
def test_malformed_url_is_one_line(small_registry, tmp_path, capsys, monkeypatch, url):
    cohort, _ = small_registry
    monkeypatch.chdir(tmp_path)
    before = tree_hash(tmp_path)
    err = run_error(capsys, "registry", "--cohort", cohort, "--out", url)
    _no_secret(err)
    assert "--out" in err
    err = run_error(capsys, "analyze", "--cdm", url, "--study", "ukb-style", "--out", tmp_path / "out")
    _no_secret(err)
    assert "--cdm" in err
    assert tree_hash(tmp_path) == before


def test_no_server_is_one_line(small_registry, tmp_path, capsys, monkeypatch):
    cohort, _ = small_registry
    monkeypatch.chdir(tmp_path)
    url = f"postgresql://u:{SECRET}@127.0.0.1:{_closed_port()}/db"
    before = tree_hash(tmp_path)
    err = run_error(capsys, "registry", "--cohort", cohort, "--out", url)
    assert "cannot connect" in err and "u:***@127.0.0.1" in err
    err2 = run_error(capsys, "analyze", "--cdm", url, "--study", "ukb-style", "--out", tmp_path / "out")
    assert "cannot connect" in err2
    _no_secret(err, err2)
    assert tree_hash(tmp_path) == before  # no truth files, no staging leftovers, no --out


def test_wrong_password_is_one_line(small_registry, tmp_path, capsys, monkeypatch, password_refusing_server):
    cohort, _ = small_registry
    monkeypatch.chdir(tmp_path)
    url = f"postgresql://u:{SECRET}@127.0.0.1:{password_refusing_server}/db"
    before = tree_hash(tmp_path)
    err = run_error(capsys, "registry", "--cohort", cohort, "--out", url)
    assert "password authentication failed" in err
    err2 = run_error(capsys, "analyze", "--cdm", url, "--study", "ukb-style", "--out", tmp_path / "out")
    assert "password authentication failed" in err2
    _no_secret(err, err2)
    assert tree_hash(tmp_path) == before


def test_existing_truth_files_are_refused_not_overwritten(small_registry, tmp_path, capsys, monkeypatch):
    cohort, _ = small_registry
    monkeypatch.chdir(tmp_path)
    (tmp_path / "registry.truth.json").write_text('{"mine": true}')
    before = tree_hash(tmp_path)
    # refused before any connection is tried: no server needed
    err = run_error(capsys, "registry", "--cohort", cohort,
                    "--out", f"postgresql://u:{SECRET}@127.0.0.1:{_closed_port()}/db")
    assert "registry.truth.json already exist" in err and str(tmp_path.resolve()) in err
    _no_secret(err)
    assert tree_hash(tmp_path) == before


# --- against a real server -----------------------------------------------------------------------------

def _with_password(url: str, schema: str) -> str:
    """The test server's URL with a password added (the server trusts it; it must still never leak)."""
    scheme, rest = url.split("://", 1)
    userinfo, at, hostpart = rest.partition("@")
    assert at and ":" not in userinfo, "expected postgresql://user@host:port/db"
    sep = "&" if "?" in hostpart else "?"
    return f"{scheme}://{userinfo}:{SECRET}@{hostpart}{sep}schema={schema}"


@pytest.fixture
def pg_schema():
    schema = f"hostile_{uuid.uuid4().hex[:10]}"
    yield schema
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@needs_pg
def test_missing_database_is_one_line(small_registry, tmp_path, capsys, monkeypatch):
    cohort, _ = small_registry
    monkeypatch.chdir(tmp_path)
    scheme, rest = PG_URL.split("://", 1)
    base = rest.split("?")[0].rsplit("/", 1)[0]
    url = f"{scheme}://{base}/no_such_db_{uuid.uuid4().hex[:6]}"
    before = tree_hash(tmp_path)
    err = run_error(capsys, "registry", "--cohort", cohort, "--out", url)
    assert "does not exist" in err
    err = run_error(capsys, "analyze", "--cdm", url, "--study", "ukb-style", "--out", tmp_path / "out")
    assert "does not exist" in err
    assert tree_hash(tmp_path) == before


@needs_pg
def test_password_in_url_is_never_printed_or_stored(small_registry, tmp_path, capsys, monkeypatch, pg_schema):
    cohort, _ = small_registry
    monkeypatch.chdir(tmp_path)
    url = _with_password(PG_URL, pg_schema)
    capsys.readouterr()
    assert main(["registry", "--cohort", str(cohort), "--out", url, "--json"]) == 0
    out, err = capsys.readouterr()
    _no_secret(out, err)
    assert '"cdm": "' in out and ":***@" in out
    assert main(["analyze", "--cdm", url, "--study", "flatiron-style", "--out", "an", "--json"]) == 0
    out, err = capsys.readouterr()
    _no_secret(out, err)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"registry.truth.json", "registry.truth.parquet", "results.json", "manifest.json"} <= names
    for p in files:
        assert SECRET.encode() not in p.read_bytes(), p
    # and repeating it does not overwrite the truth files
    before = tree_hash(tmp_path)
    err = run_error(capsys, "registry", "--cohort", cohort, "--out", url)
    _no_secret(err)
    assert tree_hash(tmp_path) == before


@needs_pg
def test_registry_success_line_hides_the_password(small_registry, tmp_path, capsys, monkeypatch, pg_schema):
    cohort, _ = small_registry
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["registry", "--cohort", str(cohort), "--out", _with_password(PG_URL, pg_schema)]) == 0
    out, err = capsys.readouterr()
    _no_secret(out, err)
    assert str(tmp_path.resolve()) in out  # where the truth files went


@needs_pg
def test_libpq_settings_reach_the_server_when_the_url_has_none(small_registry, tmp_path, capsys, monkeypatch,
                                                                pg_schema):
    """No host, port, user or password in the URL: a service file (PGSERVICEFILE + ?service=) supplies them,
    as libpq does for psql; PGPASSWORD and ~/.pgpass go the same way."""
    cohort, _ = small_registry
    monkeypatch.chdir(tmp_path)
    from urllib.parse import urlparse

    u = urlparse(PG_URL)
    service = tmp_path / "pg_service.conf"
    service.write_text(f"[hostile]\nhost={u.hostname}\nport={u.port or 5432}\nuser={u.username}\n"
                       f"dbname={u.path.lstrip('/') or 'postgres'}\n")
    monkeypatch.setenv("PGSERVICEFILE", str(service))
    monkeypatch.setenv("PGPASSWORD", SECRET)  # the trusting test server ignores it; it must not leak either
    for var in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSERVICE"):
        monkeypatch.delenv(var, raising=False)
    url = f"postgresql://?service=hostile&schema={pg_schema}"
    capsys.readouterr()
    assert main(["registry", "--cohort", str(cohort), "--out", url, "--json"]) == 0
    monkeypatch.setenv("PGSERVICE", "hostile")
    assert main(["analyze", "--cdm", f"postgresql://?schema={pg_schema}", "--study", "flatiron-style",
                 "--out", "an"]) == 0
    out, err = capsys.readouterr()
    _no_secret(out, err)
    assert (Path("an") / "results.json").is_file() and os.environ["PGSERVICE"] == "hostile"


# --- issue 10: cdm-check, schemas, ATLAS concept sets and cohort tables from a careless or hostile user ----

def test_cdm_check_on_what_is_not_a_cdm_is_one_line(tmp_path, capsys, password_refusing_server):
    (tmp_path / "notes.txt").write_text("not a database")
    assert "does not exist" in run_error(capsys, "cdm-check", tmp_path / "nope.duckdb")
    assert "cannot open" in run_error(capsys, "cdm-check", tmp_path / "notes.txt")
    url = f"postgresql://u:{SECRET}@127.0.0.1:{password_refusing_server}/db"
    err = run_error(capsys, "cdm-check", url)
    assert "password authentication failed" in err
    _no_secret(err)
    assert not (tmp_path / "nope.duckdb").exists()


@pytest.mark.parametrize("option, value, message", [
    ("--cdm-schema", "cdm;drop", "not a plain identifier"),
    ("--vocab-schema", "x y", "not a plain identifier"),
    ("--results-schema", "absent_schema", "--results-schema absent_schema: the database has no such schema"),
])
def test_bad_schema_options_are_one_line_and_write_nothing(small_registry, tmp_path, capsys, option, value,
                                                           message):
    _, registry = small_registry
    before = tree_hash(registry)
    err = run_error(capsys, "analyze", "--cdm", registry, "--study", "flatiron-style", "--out", tmp_path / "o",
                    option, value)
    assert message in err
    assert not (tmp_path / "o").exists() and tree_hash(registry) == before
    assert message in run_error(capsys, "cdm-check", registry, option, value)


@pytest.mark.parametrize("concepts, message", [
    ('"missing.json"', "concept-set file 'missing.json' not found"),
    ('"bad.json"', "concept-set file bad.json cannot be read"),
    ('"../../../../../../etc/passwd"', "is not valid JSON"),
    ("'{\"items\": [{\"concept\": {\"CONCEPT_ID\": 4112853}, \"isExcluded\": true}]}'", "every item is excluded"),
    ("'{\"items\": [{\"concept\": {\"CONCEPT_ID\": 99999999}}]}'", "concept id 99999999 is not in the CDM"),
    ("{ items = [ { concept = { CONCEPT_ID = 4112853 }, includeDescendants = 1 } ] }", "includeDescendants must be"),
])
def test_bad_atlas_concept_sets_are_one_line(small_registry, tmp_path, capsys, concepts, message):
    _, registry = small_registry
    (tmp_path / "bad.json").write_bytes(b"\xff\xfe{items")
    study = edited_study(tmp_path, **{"concepts = [4112853]": f"concepts = {concepts}"})
    err = run_error(capsys, "analyze", "--cdm", registry, "--study", study, "--out", tmp_path / "o")
    assert message in err
    assert not (tmp_path / "o").exists()


def test_a_cohort_table_the_cdm_lacks_is_named(small_registry, tmp_path, capsys):
    _, registry = small_registry
    study = edited_study(tmp_path, **{"concepts = [4112853]": "cohort_definition_id = 7"})
    err = run_error(capsys, "analyze", "--cdm", registry, "--study", study, "--out", tmp_path / "o")
    assert "no table cohort" in err and "--results-schema" in err
