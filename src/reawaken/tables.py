"""Column specifications of every table reawaken writes, declared once (design principle 10).

Pure Python: the I/O layer maps these to Arrow schemas. Bump ``SCHEMA_VERSION`` when a column changes.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = "1"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    dtype: str  # "float64", "int64", "string"
    unit: str = ""
    doc: str = ""


@dataclass(frozen=True, slots=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


TRAJECTORIES = TableSpec(
    "trajectories",
    (
        Column("subject", "int64", "", "row of the parameter batch"),
        Column("time_days", "float64", "d", "time since day 0 (first infection)"),
        Column("species", "string", "", "state variable name"),
        Column("value", "float64", "", "state value in the species' unit (see manifest)"),
    ),
)

READOUTS = TableSpec(
    "readouts",
    (
        Column("scenario", "string"),
        Column("day", "float64", "d"),
        Column("dcc_fold", "float64", "1", "total lung DCCs over the day-0 count"),
        Column("proliferating_fraction", "float64", "1", "awakened / total DCCs"),
        Column("il6_pg_ml", "float64", "pg/mL"),
        Column("virus", "float64", "TCID50/mL"),
    ),
)

REPLICATES = TableSpec(
    "replicates",
    (
        Column("replicate", "int64", "", "stochastic replicate (one lung)"),
        Column("day", "float64", "d", "report day"),
        Column("dcc_total", "float64", "cells", "DCCs in the lung (dormant + awakened + primed)"),
        Column("lesions_present", "float64", "1", "clones at or above the lesion threshold on that day"),
        Column("first_lesion_day", "float64", "d", "first day any clone reached the threshold (inf: never)"),
    ),
)

__all__ = ["READOUTS", "REPLICATES", "SCHEMA_VERSION", "TRAJECTORIES", "Column", "TableSpec"]
