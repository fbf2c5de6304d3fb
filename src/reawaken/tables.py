"""Column specifications of every table reawaken writes, declared once (design principle 10).

Pure Python: the I/O layer maps these to Arrow schemas. Bump ``SCHEMA_VERSION`` when a column changes.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = "1"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    dtype: str  # "float64", "int64", "string", "bool"
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

EPISODES = TableSpec(
    "episodes",
    (
        Column("infection", "int64", "", "infection number (1 = first)"),
        Column("day", "float64", "d", "day of the infection"),
        Column("virus_peak", "float64", "TCID50/mL", "peak infectious virus in the episode"),
        Column("virus_peak_day", "float64", "d", "days from infection to the virus peak"),
        Column("virus_clearance_day", "float64", "d", "days to first fall below the detection limit (NaN: never)"),
        Column("il6_peak_pg_ml", "float64", "pg/mL", "peak lung IL-6"),
        Column("il6_peak_day", "float64", "d", "days from infection to the lung IL-6 peak"),
        Column("il6_serum_peak_pg_ml", "float64", "pg/mL", "peak serum IL-6"),
        Column("il6_serum_peak_day", "float64", "d", "days from infection to the serum IL-6 peak"),
        Column("awakenings", "float64", "cells", "lung awakening events (clone founders) in the episode"),
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

PERSONS = TableSpec(
    "persons",
    (
        Column("person_id", "int64", "", "person index within the cohort (0 .. n-1)"),
        Column("age_at_start", "float64", "y", "age on the cohort's start date"),
        Column("diagnosis_day", "float64", "d", "day of the breast-cancer diagnosis (negative: before the start)"),
        Column("subtype", "string", "", "HR+/HER2-, TNBC, HR+/HER2+ or HR-/HER2+"),
        Column("t_stage", "string", "", "T1 or T2"),
        Column("nodes", "string", "", "N0, N1-3 or N4-9"),
        Column("dcc_burden", "float64", "cells", "lung DCC burden drawn for the person (lognormal)"),
        Column("baseline_distant_hazard", "float64", "1/y", "Pan 2017 distant-recurrence hazard"),
        Column("baseline_lung_hazard", "float64", "1/y", "its lung part"),
        Column("baseline_other_hazard", "float64", "1/y", "its other-site part"),
    ),
)

EVENTS = TableSpec(
    "events",
    (
        Column("arm", "string", "", "cohort arm (common random numbers across arms)"),
        Column("person_id", "int64", "", "person (see the persons frame)"),
        Column("day", "float64", "d", "day since the cohort's start date"),
        Column("kind", "string", "", "influenza, sars-cov-2, vaccination-*, antiviral, anti-il6, lung_metastasis, "
               "distant_relapse, death, end_of_follow_up"),
        Column("severity", "float64", "1", "infections: multiplier of the IL-6 response (NaN otherwise)"),
        Column("il6_peak", "float64", "pg/mL", "infections: peak lung IL-6 of the episode (NaN otherwise)"),
        Column("cause", "string", "", "deaths: breast_cancer, covid-19, influenza or other (empty otherwise)"),
        Column("dose_mg", "float64", "mg", "anti-IL-6 doses: dose given (NaN otherwise)"),
    ),
)

COHORT_ARMS = TableSpec(
    "arms",
    (
        Column("arm", "string"),
        Column("person_years", "float64", "y", "follow-up in the arm"),
        Column("infections", "int64", "", "influenza and SARS-CoV-2 episodes"),
        Column("lung_metastases", "int64", "", "diagnosed lung metastases"),
        Column("distant_relapses_other", "int64", "", "first relapses at other sites"),
        Column("cancer_deaths", "int64", "", "breast-cancer deaths"),
        Column("anti_il6_doses", "int64", "", "doses of the arm's anti-IL-6 policy"),
        Column("averted_per_1000", "float64", "per 1,000 people", "lung metastases averted against the first arm"),
        Column("averted_per_1000_se_paired", "float64", "per 1,000 people", "its paired (CRN) standard error"),
    ),
)

HAZARD_RATIOS = TableSpec(
    "hazard_ratios",
    (
        Column("term", "string", "", "Cox term: an infection window or a covariate"),
        Column("hr", "float64", "1", "hazard ratio exp(coef)"),
        Column("ci_low", "float64", "1", "lower confidence limit (level 1 - alpha)"),
        Column("ci_high", "float64", "1", "upper confidence limit"),
        Column("p", "float64", "1", "two-sided Wald p-value (robust SE)"),
        Column("coef", "float64", "1", "log hazard ratio"),
        Column("se", "float64", "1", "robust (person-clustered) standard error of coef"),
        Column("se_model", "float64", "1", "model-based standard error of coef"),
    ),
)

KM = TableSpec(
    "km",
    (
        Column("curve", "string", "", "overall, or an exposure group (Simon-Makuch)"),
        Column("day", "float64", "d", "days since index"),
        Column("survival", "float64", "1", "Kaplan-Meier outcome-free probability"),
        Column("ci_low", "float64", "1", "lower pointwise confidence limit"),
        Column("ci_high", "float64", "1", "upper pointwise confidence limit"),
        Column("at_risk", "float64", "persons", "number at risk"),
    ),
)

ATTRITION = TableSpec(
    "attrition",
    (
        Column("step", "string", "", "selection step, in order"),
        Column("n_persons", "int64", "persons", "persons left after the step"),
    ),
)

INCIDENCE = TableSpec(
    "incidence",
    (
        Column("window", "string", "", "exposure window"),
        Column("events", "int64", "", "outcome events in the window"),
        Column("person_years", "float64", "y", "person-time in the window"),
        Column("rate_per_1000_py", "float64", "per 1,000 person-years", "crude incidence rate"),
    ),
)

TARGETS = TableSpec(
    "targets",
    (
        Column("id", "string", "", "target id (science.md section 4a)"),
        Column("claim", "string", "", "what the paper reports"),
        Column("value", "float64", "", "what the model gives, in the target's unit"),
        Column("low", "float64", "", "lowest value that meets the target"),
        Column("high", "float64", "", "highest value that meets the target"),
        Column("unit", "string", "", "unit of value, low and high"),
        Column("ok", "bool", "", "whether the target is met"),
        Column("source", "string", "", "where the claim comes from"),
    ),
)

__all__ = ["ATTRITION", "COHORT_ARMS", "EPISODES", "EVENTS", "HAZARD_RATIOS", "INCIDENCE", "KM", "PERSONS", "READOUTS",
           "REPLICATES", "SCHEMA_VERSION", "TARGETS", "TRAJECTORIES", "Column", "TableSpec"]
