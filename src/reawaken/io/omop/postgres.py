"""Copy a CDM from DuckDB into PostgreSQL (psycopg 3, COPY protocol): the same data on both backends."""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import OutputError, SchemaError
from ._ddl import ddl_tables
from .cdm import TABLES, CdmUrl, connect_postgres, create_table_sql, one_line


def copy_cdm(duckdb_path: str | os.PathLike[str], pg_url: str, *, tables: tuple[str, ...] | None = None) -> list[str]:
    """Copy the OMOP tables of ``duckdb_path`` into the database at ``pg_url``, replacing same-named tables.

    By default the tables reawaken writes (:data:`reawaken.io.omop.cdm.TABLES`) are copied; ``tables`` may
    name any table of the OHDSI v5.4 DDL (``concept_relationship``, ``cohort``, ...). Column types are the
    DDL's; returns the names copied. Meant for loading synthetic registries and test fixtures.
    A server that cannot be reached or refuses the writes raises :class:`OutputError` (one line, the
    password redacted); the copy is one transaction, so a failure leaves the database as it was.
    """
    import duckdb

    try:
        import psycopg
    except ImportError as exc:
        raise ImportError("PostgreSQL needs psycopg: pip install 'reawaken[postgres]'") from exc
    url = CdmUrl.parse(pg_url, "--out")
    if url.backend != "postgresql":
        raise SchemaError(f"{url.shown!r} is not a postgresql:// URL")
    src = duckdb.connect(str(Path(duckdb_path)), read_only=True)
    copied = []
    try:
        present = {r[0] for r in src.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        with connect_postgres(url, what="--out", error=OutputError) as pg:
            if url.schema:
                pg.execute(f"CREATE SCHEMA IF NOT EXISTS {url.schema}")  # identifier checked by CdmUrl
                pg.execute("SELECT set_config('search_path', %(s)s, false)", {"s": url.schema})
            for name in tables or tuple(TABLES):
                if name not in present:
                    continue
                cols = [c for c, _, _ in (TABLES[name] if name in TABLES else ddl_tables("5.4")[name])]
                have = {r[0].lower() for r in src.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [name]).fetchall()}
                cols = [c for c in cols if c in have]
                pg.execute(f"DROP TABLE IF EXISTS {name}")
                pg.execute(create_table_sql(name))
                rel = src.execute(f"SELECT {', '.join(cols)} FROM {name}")  # noqa: S608 -- names from TABLES
                with pg.cursor().copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as cp:
                    while True:
                        rows = rel.fetchmany(50_000)
                        if not rows:
                            break
                        for row in rows:
                            cp.write_row(row)
                copied.append(name)
            pg.commit()
    except psycopg.Error as exc:
        raise OutputError(f"--out {url.shown}: writing the CDM failed: {one_line(exc, 200)}") from None
    finally:
        src.close()
    return copied
