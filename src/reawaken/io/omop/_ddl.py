"""The official OHDSI CDM DDL (vendored in ``ddl/``), parsed into table declarations.

The files are OHDSI CommonDataModel's ``inst/ddl/<version>/<dialect>/OMOPCDM_<dialect>_<version>_ddl.sql``,
unchanged (``ddl/README.md`` gives the commit; Apache-2.0, ``ddl/LICENSE``). Each ``CREATE TABLE
@cdmDatabaseSchema.name (col type NULL|NOT NULL, ...);`` becomes ``name -> ((col, TYPE, not_null), ...)``
in file order, with the type upper-cased as written (``INTEGER``, ``DATE``, ``NUMERIC``, ``VARCHAR(50)``).
Pure Python: no database library is needed to read the declarations.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

DDL_VERSIONS = ("5.3", "5.4")
DIALECTS = ("duckdb", "postgresql")

Column = tuple[str, str, bool]  # (name, TYPE, not null)

_CREATE = re.compile(r"CREATE TABLE @cdmDatabaseSchema\.(\w+)\s*\((.*?)\);", re.S)
_COLUMN = re.compile(r'^\s*"?(\w+)"?\s+(\w+(?:\(\d+\))?)\s+(NOT NULL|NULL)\s*$', re.I)  # "offset" is quoted


def ddl_text(version: str, dialect: str = "duckdb") -> str:
    """The vendored DDL file of ``version`` (``"5.3"``/``"5.4"``) and ``dialect`` as text."""
    if version not in DDL_VERSIONS or dialect not in DIALECTS:
        raise ValueError(f"no vendored OHDSI DDL for CDM {version!r} / {dialect!r}; have {DDL_VERSIONS} x {DIALECTS}")
    name = f"OMOPCDM_{dialect}_{version}_ddl.sql"
    return resources.files("reawaken.io.omop").joinpath("ddl", version, name).read_text(encoding="utf-8")


@cache
def ddl_tables(version: str, dialect: str = "duckdb") -> dict[str, tuple[Column, ...]]:
    """Every table of the official DDL: name -> ((column, TYPE, not_null), ...) in the file's order."""
    out: dict[str, tuple[Column, ...]] = {}
    for m in _CREATE.finditer(ddl_text(version, dialect)):
        cols = []
        for part in m.group(2).split(","):
            c = _COLUMN.match(part)
            if not c:  # the files are vendored unchanged: a line we cannot read means an update broke the parser
                raise ValueError(f"OHDSI DDL {version}/{dialect}, table {m.group(1)}: cannot read {part.strip()!r}")
            cols.append((c.group(1).lower(), c.group(2).upper(), c.group(3).upper() == "NOT NULL"))
        out[m.group(1).lower()] = tuple(cols)
    return out
