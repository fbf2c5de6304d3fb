"""OMOP CDM v5.3/v5.4: the tables reawaken writes and reads, and read-only connections to DuckDB or PostgreSQL.

Column names and types are those of the official OHDSI DDL, vendored unchanged in ``ddl/``
(``OMOPCDM_duckdb_5.4_ddl.sql`` / ``OMOPCDM_postgresql_5.4_ddl.sql`` and the 5.3 files, from
OHDSI/CommonDataModel ``inst/ddl``); a CDM from another tool may have more tables, more columns and nulls
in optional fields, none of which the analysis needs.

All SQL is parameterised: values travel as parameters, never spliced into text. Identifiers (table and
column names) come from the declarations below, never from user input.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np

from ...errors import ReawakenError, SchemaError
from ._ddl import ddl_tables

CDM_VERSIONS = ("v5.4", "5.4", "v5.4.0", "5.4.0", "v5.4.1", "5.4.1", "v5.4.2", "5.4.2")  # what we write
# What we read: v5.3 and v5.4 (every table and column the analysis reads is the same in both). The rule for
# cdm_source.cdm_version: the first "major.minor" in the text decides (free text such as "OMOP CDM v5.3.1
# (Synthea)" is fine); 5.3 and 5.4 are accepted, any other version refused; a null, empty or number-free
# value is accepted as "unknown" and the schema check (tables, columns, types) decides.
READ_VERSIONS = ((5, 3), (5, 4))
_VERSION_IN_TEXT = re.compile(r"(\d+)\.(\d+)")


def cdm_version_of(value: object) -> str:
    """``"5.3"``/``"5.4"``, or ``"unknown"`` for a null or number-free value; a SchemaError for others."""
    text = "" if value is None else str(value).strip()
    m = _VERSION_IN_TEXT.search(text)
    if not m:
        return "unknown"
    version = (int(m.group(1)), int(m.group(2)))
    if version not in READ_VERSIONS:
        raise SchemaError(f"cdm_source.cdm_version is {text[:40]!r}; reawaken reads OMOP CDM v5.3 and v5.4")
    return f"{version[0]}.{version[1]}"

# The tables reawaken writes, as the official OHDSI v5.4 DDL declares them (vendored in ``ddl/``, parsed by
# ``_ddl``): name -> ((column, TYPE, not null), ...) in DDL order. Ids are INTEGER and values NUMERIC there
# (DuckDB reads NUMERIC as DECIMAL(18,3)); the writer follows the DDL, so our registries look like a CDM
# made by OHDSI tools.
WRITTEN_TABLES = ("person", "observation_period", "condition_occurrence", "drug_exposure", "measurement", "death",
                  "concept", "concept_ancestor", "vocabulary", "cdm_source")
TABLES: dict[str, tuple[tuple[str, str, bool], ...]] = {t: ddl_tables("5.4")[t] for t in WRITTEN_TABLES}

# What the analysis reads: table -> columns. Everything else may be missing or null.
REQUIRED: dict[str, tuple[str, ...]] = {
    "cdm_source": ("cdm_version",),
    "person": ("person_id", "year_of_birth", "month_of_birth", "day_of_birth"),
    "observation_period": ("person_id", "observation_period_start_date", "observation_period_end_date"),
    "condition_occurrence": ("person_id", "condition_concept_id", "condition_start_date"),
    "death": ("person_id", "death_date", "cause_concept_id"),
    "concept": ("concept_id",),
    "concept_ancestor": ("ancestor_concept_id", "descendant_concept_id"),
}


def create_table_sql(table: str) -> str:
    """``CREATE TABLE`` of a table we write, or of any other table of the OHDSI v5.4 DDL."""
    spec = TABLES[table] if table in TABLES else ddl_tables("5.4")[table]
    cols = ",\n  ".join(f"{name} {typ}{' NOT NULL' if req else ''}" for name, typ, req in spec)
    return f"CREATE TABLE {table} (\n  {cols}\n)"


_SECRET_QUERY = re.compile(r"(?i)([?&](?:password|sslpassword)=)[^&#]*")
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")


def redact_url(url: str | os.PathLike[str]) -> str:
    """``url`` as it may be shown or stored: a password replaced by ``***``.

    ``postgresql://user:secret@host/db`` -> ``postgresql://user:***@host/db``; a ``password=`` query
    parameter likewise. Works on text that is not a valid URL (``postgresql://u:pw@[bad``), so it can be
    used in the message that reports the bad URL. Paths and URLs without a password come back unchanged.
    Every place that prints or stores a CDM URL goes through here.
    """
    text = str(url)
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text
    cut = min([i for i in (rest.find("?"), rest.find("#")) if i >= 0] or [len(rest)])
    at = rest.rfind("@", 0, cut)
    if at >= 0 and ":" in rest[:at]:  # userinfo user:password (a password may hold unescaped / or @)
        rest = rest[: rest.index(":")] + ":***" + rest[at:]
    rest = _SECRET_QUERY.sub(r"\1***", rest)
    return f"{scheme}://{rest}"


def redact_text(text: str) -> str:
    """Free text (a database's error message) with every URL in it redacted by :func:`redact_url`."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


def one_line(text: object, limit: int = 300) -> str:
    """A database message as one short line: whitespace collapsed, URLs redacted, cut at ``limit``."""
    line = redact_text(" ".join(str(text).split()))
    return line if len(line) <= limit else line[: limit - 3] + "..."


@dataclass(frozen=True)
class CdmUrl:
    """A parsed ``--cdm`` URL: ``duckdb:///path`` (or a bare path) or ``postgresql://user@host:port/db``.

    A PostgreSQL URL may omit the password (and more): libpq then takes it from ``PGPASSWORD``,
    ``~/.pgpass`` or a service file (``PGSERVICE``, or ``?service=name``), as for ``psql``.
    """

    backend: str  # "duckdb" | "postgresql"
    target: str  # file path (duckdb) or the libpq URL (postgresql); may hold a password: never print it
    schema: str | None = None

    def __repr__(self) -> str:
        return f"CdmUrl({self.backend!r}, {redact_url(self.target)!r}, schema={self.schema!r})"

    @property
    def shown(self) -> str:
        """The target as it may be printed or stored (password redacted)."""
        return redact_url(self.target)

    @classmethod
    def parse(cls, url: str | Path, what: str = "--cdm") -> CdmUrl:
        """Parse ``url``; ``what`` names the option it came from in messages (``--cdm``, ``--out``)."""
        text = str(url)
        if text.startswith(("postgresql://", "postgres://")):
            try:
                parsed = urlparse(text)
                if "," not in parsed.netloc:  # libpq's multi-host lists have no single port to check
                    parsed.port  # noqa: B018 -- raises ValueError for a port that is not 0-65535
            except ValueError as exc:  # its text may quote part of a password: say what is wrong instead
                why = "unbalanced [ ] around the host" if "IPv6" in str(exc) else "the port is not 0-65535"
                raise SchemaError(f"{what} {one_line(text, 120)!r} is not a valid PostgreSQL URL ({why}); "
                                  "use postgresql://user@host:port/db") from None
            schema = None
            query = [q for q in parsed.query.split("&") if q]
            rest = []
            for q in query:
                key, _, value = q.partition("=")
                if key == "schema":
                    schema = unquote(value)
                else:
                    rest.append(q)
            # Rebuilt as text, not with geturl(): that drops the "//" of "postgresql:///db" (local socket,
            # host from PGHOST or a service file), which libpq then cannot read.
            base = text.split("?", 1)[0]
            target = f"{base}?{'&'.join(rest)}" if rest else base
            if schema is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", schema):
                raise SchemaError(f"schema {schema[:60]!r} in the {what} URL is not a plain identifier")
            return cls("postgresql", target, schema)
        if text.startswith("duckdb://"):
            path = text[len("duckdb://"):]
            if path.startswith("/") and path[1:2] == "/":  # duckdb:////abs -> //abs
                path = path[1:]
            return cls("duckdb", unquote(path))
        if "://" in text:
            raise SchemaError(f"{what} {one_line(text, 120)!r}: use duckdb:///path/to/cdm.duckdb or "
                              "postgresql://user@host:port/db")
        return cls("duckdb", text)


def connect_postgres(url: CdmUrl, *, what: str = "--cdm", error: type[ReawakenError] = SchemaError,
                     **kwargs: Any) -> Any:
    """A psycopg connection to ``url``; a connection failure (no server, no database, wrong password, bad
    option) raises ``error`` with one redacted line instead of psycopg's exception.

    Nothing here supplies a password: without one in the URL, libpq uses ``PGPASSWORD``, ``~/.pgpass`` or
    a service file. A connection attempt gives up after ``connect_timeout`` seconds (30 unless the URL or
    ``PGCONNECT_TIMEOUT`` says otherwise) instead of waiting for the operating system.
    """
    try:
        import psycopg
    except ImportError as exc:
        raise ImportError("PostgreSQL needs psycopg: pip install 'reawaken[postgres]'") from exc
    if "connect_timeout" not in url.target and "PGCONNECT_TIMEOUT" not in os.environ:
        kwargs.setdefault("connect_timeout", 30)
    try:
        return psycopg.connect(url.target, **kwargs)
    except psycopg.Error as exc:
        raise error(f"{what} {url.shown}: cannot connect: {one_line(exc)} (check host, port, database name "
                    "and credentials: password in the URL, PGPASSWORD or ~/.pgpass)") from None


# Which schema each table lives in. OHDSI deployments keep the vocabulary (``vocab``) and generated cohorts
# (``results``) apart from the clinical tables (``cdm``); each defaults to the CDM schema.
VOCAB_TABLES = frozenset({"concept", "concept_ancestor", "concept_relationship", "vocabulary", "domain",
                          "concept_class", "relationship", "concept_synonym", "drug_strength",
                          "source_to_concept_map"})
RESULTS_TABLES = frozenset({"cohort", "cohort_definition"})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Schemas:
    """Where the CDM, vocabulary and results (``cohort``) tables are; ``None``: unqualified names.

    Unqualified names resolve in DuckDB's ``main`` schema or PostgreSQL's ``search_path`` (the URL's
    ``?schema=``). ``vocab`` and ``results`` default to ``cdm``, as in OHDSI tools.
    """

    cdm: str | None = None
    vocab: str | None = None
    results: str | None = None

    def __post_init__(self) -> None:
        for role in ("cdm", "vocab", "results"):
            name = getattr(self, role)
            if name is not None and not _IDENTIFIER.fullmatch(name):
                raise SchemaError(f"--{role}-schema {name[:60]!r} is not a plain identifier (letters, digits, _)")
        if self.vocab is None:
            object.__setattr__(self, "vocab", self.cdm)
        if self.results is None:
            object.__setattr__(self, "results", self.cdm)

    def of(self, table: str) -> str | None:
        """The schema of ``table`` (by its OMOP role)."""
        if table in VOCAB_TABLES:
            return self.vocab
        if table in RESULTS_TABLES:
            return self.results
        return self.cdm

    def qualify(self, table: str) -> str:
        """``schema.table`` (or ``table``); identifiers are checked above and table names are ours."""
        schema = self.of(table)
        return f"{schema}.{table}" if schema else table

    def as_dict(self) -> dict[str, str | None]:
        return {"cdm": self.cdm, "vocab": self.vocab, "results": self.results}


class CdmConnection:
    """A read-only connection with one query verb returning NumPy columns.

    SQL is written once with ``:name`` placeholders; they become ``$name`` (DuckDB) or ``%(name)s``
    (psycopg). Lists are passed as arrays (cast in the SQL text, e.g. ``CAST(:ids AS BIGINT[])``).
    Table names go through :meth:`t` (``con.t("concept")`` -> ``vocab.concept``), so one query text runs
    on any split of schemas.
    """

    def __init__(self, url: str | Path, *, read_only: bool = True, schemas: Schemas | None = None) -> None:
        self.url = CdmUrl.parse(url)
        self.read_only = read_only
        self.schemas = schemas or Schemas()
        if self.url.backend == "duckdb":
            import duckdb

            path = Path(self.url.target)
            if read_only and not path.is_file():
                raise SchemaError(f"CDM database {path} does not exist")
            try:
                self._con: Any = duckdb.connect(str(path), read_only=read_only)
            except duckdb.Error as exc:
                raise SchemaError(f"cannot open {path} as a DuckDB database: {exc}") from None
        else:
            self._con = connect_postgres(self.url, autocommit=True)
            if read_only:
                self._con.read_only = True
            if self.url.schema:
                self._con.execute("SELECT set_config('search_path', %(s)s, false)", {"s": self.url.schema})
        try:
            self._check_schemas()
        except BaseException:
            self._con.close()
            raise

    def _check_schemas(self) -> None:
        wanted = {(role, name) for role, name in self.schemas.as_dict().items() if name}
        if not wanted:
            return
        have = {str(s).lower() for s in self.query("SELECT DISTINCT schema_name AS s FROM information_schema.schemata")["s"]}
        for role, name in sorted(wanted):
            if name.lower() not in have:
                raise SchemaError(f"--{role}-schema {name}: the database has no such schema (schemas: "
                                  f"{', '.join(sorted(have))[:200]})")

    def t(self, table: str) -> str:
        """The table's name as a query should write it (schema-qualified when a schema is set)."""
        return self.schemas.qualify(table)

    @property
    def backend(self) -> str:
        return self.url.backend

    def _sql(self, sql: str) -> str:
        if self.backend == "duckdb":
            return re.sub(r"(?<!:):([a-z_][a-z0-9_]*)", r"$\1", sql)
        return re.sub(r"(?<!:):([a-z_][a-z0-9_]*)", r"%(\1)s", sql.replace("%", "%%"))

    def _errors(self) -> tuple[type[Exception], ...]:
        """The database library's error family: what a CDM's content (not our code) can make a query raise."""
        if self.backend == "duckdb":
            import duckdb

            return (duckdb.Error,)
        import psycopg

        return (psycopg.Error,)

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        try:
            self._con.execute(self._sql(sql), dict(params or {}))
        except self._errors() as exc:
            raise SchemaError(f"the CDM query failed: {one_line(exc, 200)}") from None

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> dict[str, np.ndarray]:
        """Run ``sql`` and return its result as NumPy columns (object arrays for text and dates).

        A database error (a value that does not convert, a column of an unexpected type that
        :func:`check_cdm` did not cover) raises :class:`SchemaError` with the database's message in one line.
        """
        text = self._sql(sql)
        try:
            if self.backend == "duckdb":
                rel = self._con.execute(text, dict(params or {}))
                names = [d[0] for d in rel.description]
                cols = rel.fetchnumpy()
                # lower-case names: a CDM loaded from CSV may store upper-case columns, which DuckDB matches
                # case-insensitively in the query but returns as stored
                return {n.lower(): _plain(cols[n]) for n in names}
            with self._con.cursor() as cur:
                cur.execute(text, dict(params or {}))
                names = [d.name.lower() for d in cur.description]
                rows = cur.fetchall()
        except self._errors() as exc:
            raise SchemaError(f"the CDM query failed: {one_line(exc, 200)} (check the CDM's values "
                              "and column types against OMOP CDM v5.4)") from None
        return {n: _from_values([r[i] for r in rows]) for i, n in enumerate(names)}

    def _schema_sql(self, schema: str | None) -> tuple[str, dict[str, Any]]:
        if schema is None:
            return "table_schema = current_schema()", {}
        return "lower(table_schema) = lower(:schema)", {"schema": schema}

    def tables(self, schema: str | None = None) -> set[str]:
        """Lower-case names of the tables (and views) in ``schema`` (default: the current schema)."""
        where, params = self._schema_sql(schema)
        out = self.query(f"SELECT lower(table_name) AS t FROM information_schema.tables WHERE {where}", params)
        return set(out["t"].tolist())

    def has_table(self, table: str) -> bool:
        return table in self.tables(self.schemas.of(table))

    def columns(self, table: str) -> set[str]:
        return set(self.column_types(table))

    def column_types(self, table: str) -> dict[str, str]:
        """Column name -> the database's type name (lower case, e.g. ``integer``, ``character varying``),
        looked up in the table's schema."""
        where, params = self._schema_sql(self.schemas.of(table))
        out = self.query("SELECT lower(column_name) AS c, lower(data_type) AS t FROM information_schema.columns "
                         f"WHERE {where} AND lower(table_name) = :t", {**params, "t": table})
        return dict(zip(out["c"].tolist(), out["t"].tolist()))

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> CdmConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _plain(col: Any) -> np.ndarray:
    """DuckDB's masked arrays (columns with nulls) as plain arrays: NaN for numbers, None for objects."""
    if isinstance(col, np.ma.MaskedArray):
        if col.dtype.kind in "iuf":
            return col.astype(float).filled(np.nan)
        out = np.asarray(col.data, dtype=object)
        out[np.ma.getmaskarray(col)] = None
        return out
    return np.asarray(col)


def _from_values(values: Sequence[Any]) -> np.ndarray:
    """psycopg rows as NumPy: int64 or bool when complete, float with NaN for numbers with nulls, else object."""
    kinds = {type(v) for v in values if v is not None}
    has_null = any(v is None for v in values)
    if kinds == {bool} and not has_null:
        return np.asarray(values, dtype=bool)
    if kinds == {int} and not has_null:
        return np.asarray(values, dtype=np.int64)
    if kinds and kinds <= {int, float, Decimal}:
        return np.asarray([np.nan if v is None else float(v) for v in values], dtype=float)
    return np.asarray(values, dtype=object)


# Type families of columns the analysis reads, by the database's type name (DuckDB or PostgreSQL spelling).
_INTEGER_TYPES = {"tinyint", "smallint", "integer", "bigint", "hugeint", "utinyint", "usmallint", "uinteger",
                  "ubigint", "int", "int2", "int4", "int8"}
_NUMBER_TYPES = {"double", "double precision", "real", "float", "float4", "float8", "numeric", "decimal"}
_ACCEPTS = {"integer": {"integer"}, "number": {"integer", "number"}, "date": {"date"}}
_NEEDS = {"integer": "a whole-number type", "number": "a numeric type", "date": "DATE"}


def _type_family(sql_type: str) -> str | None:
    """``integer``, ``number`` or ``date`` for a column type; ``None`` for text and others (not checked)."""
    t = sql_type.lower().split("(")[0].strip()
    if t in _INTEGER_TYPES:
        return "integer"
    if t in _NUMBER_TYPES:
        return "number"
    if t == "date":
        return "date"
    return "other" if t not in ("varchar", "text", "character varying") else None


def check_cdm(con: CdmConnection, tables: Mapping[str, Sequence[str]] = REQUIRED) -> str:
    """Check that the CDM has every table and column the analysis reads and is v5.4; return its version."""
    present = {schema: con.tables(schema) for schema in {con.schemas.of(t) for t in tables}}
    missing_tables = [t for t in tables if t not in present[con.schemas.of(t)]]
    if missing_tables:
        where = "".join(f" in schema {s}" for s in {con.schemas.of(t) for t in missing_tables} if s)
        raise SchemaError(f"the CDM has no table {', '.join(missing_tables)}{where} (OMOP CDM tables needed: "
                          f"{', '.join(tables)}; set --cdm-schema / --vocab-schema / --results-schema if they "
                          "are elsewhere)")
    for table, cols in tables.items():
        have = con.column_types(table)
        missing = [c for c in cols if c not in have]
        if missing:
            raise SchemaError(f"table {table} has no column {', '.join(missing)} (OMOP CDM v5.4)")
        declared = {name: typ for name, typ, _ in TABLES.get(table, ())}
        for col in cols:
            need = _type_family(declared.get(col, ""))
            got = have[col]
            if need in _ACCEPTS and _type_family(got) not in _ACCEPTS[need]:
                raise SchemaError(f"column {table}.{col} has type {got[:40].upper()}; the analysis needs "
                                  f"{_NEEDS[need]} (OMOP CDM v5.4: {declared[col]}); convert the column")
    if "person" in tables:
        check_unique_persons(con)
    versions = con.query(f"SELECT cdm_version FROM {con.t('cdm_source')}")["cdm_version"].tolist()
    found = sorted({cdm_version_of(v) for v in versions}) or ["unknown"]  # an empty cdm_source: unknown
    return found[-1]


def check_unique_persons(con: CdmConnection) -> None:
    """Refuse a ``person`` table with a ``person_id`` on more than one row (its primary key): the extraction
    joins ``person`` once per cohort member, so a duplicated row would double that person's follow-up and
    events without a trace. Counted in the database (one pass, DuckDB and PostgreSQL alike).

    ``observation_period`` needs no such check: several periods per person are legal in OMOP, and the
    extraction takes the earliest start and latest end of the periods containing the index, so repeated
    rows change nothing (tested in ``tests/hostile/test_hostile_estimation.py``).
    """
    dup = con.query("SELECT COUNT(*) AS n, MIN(person_id) AS example FROM (SELECT person_id FROM "
                    f"{con.t('person')} GROUP BY person_id HAVING COUNT(*) > :one) AS d", {"one": 1})
    n = int(np.asarray(dup["n"])[0])
    if n:
        example = int(np.asarray(dup["example"])[0])
        raise SchemaError(f"table person has {n} person_id value(s) on more than one row (e.g. person_id "
                          f"{example}); person_id is its primary key: remove the duplicated rows in the CDM")
