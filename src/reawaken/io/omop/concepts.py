"""The concept-set file (``concepts.toml``): OMOP concepts by role, with how well each id was verified."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

CERTAINTIES = ("verified", "likely", "uncertain", "local")


@dataclass(frozen=True, slots=True)
class Concept:
    role: str
    concept_id: int
    concept_name: str
    domain_id: str
    vocabulary_id: str
    concept_class_id: str
    concept_code: str
    certainty: str
    parents: tuple[str, ...] = ()
    in_registry: bool = True  # written into synthetic registries; false: only named by studies for real CDMs


@cache
def concepts() -> dict[str, Concept]:
    """Every concept of the shipped concept-set file, keyed by role."""
    text = resources.files("reawaken.io.omop").joinpath("concepts.toml").read_text()
    out: dict[str, Concept] = {}
    for row in tomllib.loads(text)["concept"]:
        c = Concept(**{**row, "parents": tuple(row.get("parents", ()))})
        if c.certainty not in CERTAINTIES:
            raise ValueError(f"concepts.toml: {c.role}: certainty {c.certainty!r} not in {CERTAINTIES}")
        if c.role in out:
            raise ValueError(f"concepts.toml: role {c.role!r} appears twice")
        out[c.role] = c
    for c in out.values():
        for p in c.parents:
            if p not in out:
                raise ValueError(f"concepts.toml: {c.role} names unknown parent {p!r}")
    return out


def concept_id(role: str) -> int:
    return concepts()[role].concept_id


def ancestor_rows() -> list[tuple[int, int, int, int]]:
    """(ancestor, descendant, min_levels, max_levels) for every concept and all its ancestors, self included."""
    table = concepts()
    rows = []
    for c in table.values():
        if not c.in_registry:
            continue
        levels: dict[str, list[int]] = {c.role: [0]}
        frontier = [(c.role, 0)]
        while frontier:
            role, depth = frontier.pop()
            for parent in table[role].parents:
                levels.setdefault(parent, []).append(depth + 1)
                frontier.append((parent, depth + 1))
        for role, depths in levels.items():
            rows.append((table[role].concept_id, c.concept_id, min(depths), max(depths)))
    return sorted(rows)
