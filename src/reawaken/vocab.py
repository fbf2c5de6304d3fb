"""The platform's vocabulary, declared once and read everywhere: hosts, viruses, tumour subtypes and stages,
cohort event kinds and causes of death with their integer codes, and the length of a year.

Codes are positions in these tuples (what the compiled kernels and the Parquet dictionaries use), so the
order of a tuple is part of the on-disk format: append, never reorder.
"""

from __future__ import annotations

DAYS_PER_YEAR = 365.25  # Julian year: ages, follow-up and rates per year everywhere

HOSTS = ("mouse", "human")
VIRUSES = ("influenza", "sars-cov-2", "none")  # "none": the uninfected (PBS) control
INFECTING_VIRUSES = ("influenza", "sars-cov-2")  # code = position (the cohort's virus index)

SUBTYPES = ("HR+/HER2-", "HR+/HER2+", "HR-/HER2+", "TNBC")  # code = position
SUBTYPE_RECEPTORS = {"HR+/HER2-": (1, 0), "HR+/HER2+": (1, 1), "HR-/HER2+": (0, 1), "TNBC": (0, 0)}  # (HR, HER2)
T_STAGES = ("T1", "T2")
NODES = ("N0", "N1-3", "N4-9")

EVENT_KINDS = ("influenza", "sars-cov-2", "vaccination-influenza", "vaccination-sars-cov-2", "antiviral",
               "anti-il6", "lung_metastasis", "distant_relapse", "death", "end_of_follow_up")
(K_FLU, K_COVID, K_VACC_FLU, K_VACC_COVID, K_ANTIVIRAL, K_ANTI_IL6, K_LUNG, K_OTHER_RELAPSE, K_DEATH,
 K_END) = range(len(EVENT_KINDS))  # influenza / sars-cov-2 codes equal their INFECTING_VIRUSES index

CAUSES = ("", "breast_cancer", "covid-19", "influenza", "other")  # "" = alive
CAUSE_NONE, CAUSE_CANCER, CAUSE_COVID, CAUSE_FLU, CAUSE_OTHER = range(len(CAUSES))

__all__ = ["CAUSES", "DAYS_PER_YEAR", "EVENT_KINDS", "HOSTS", "INFECTING_VIRUSES", "NODES", "SUBTYPES",
           "SUBTYPE_RECEPTORS", "T_STAGES", "VIRUSES"]
