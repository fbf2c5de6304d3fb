"""OMOP CDM v5.4: synthetic registries from virtual cohorts, studies as data, extraction in SQL.

``write_registry`` turns a cohort directory into a CDM (DuckDB file or PostgreSQL) plus truth side files;
``load_study`` reads a study (TOML file or shipped name); ``extract_study`` selects the study population
in the database (read-only) and returns arrays for :func:`reawaken.analysis.analyze_survival`.
"""

from .cdm import CdmConnection, CdmUrl, check_cdm
from .concepts import Concept, concepts
from .extract import extract, extract_study
from .postgres import copy_cdm
from .study import Study, load_study, parse_study, shipped_studies
from .writer import parse_ascertainment, read_cohort, write_registry

__all__ = [
    "CdmConnection",
    "CdmUrl",
    "Concept",
    "Study",
    "check_cdm",
    "concepts",
    "copy_cdm",
    "extract",
    "extract_study",
    "load_study",
    "parse_ascertainment",
    "parse_study",
    "read_cohort",
    "shipped_studies",
    "write_registry",
]
