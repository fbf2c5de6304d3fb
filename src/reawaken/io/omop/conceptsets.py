"""OHDSI ATLAS concept-set expressions: parsed at the study boundary, resolved in the CDM's vocabulary.

An expression is ``{"items": [{"concept": {"CONCEPT_ID": 4112853, ...}, "includeDescendants": true,
"includeMapped": false, "isExcluded": false}, ...]}`` (as ATLAS exports it; a whole concept-set export
``{"id": .., "name": .., "expression": {"items": [...]}}`` is accepted too, and ``concept_id`` /
``conceptId`` for ``CONCEPT_ID``). Resolution follows OHDSI Circe: every item gives its concept, plus its
descendants (``concept_ancestor``) when ``includeDescendants``, plus the concepts that map to those through
``concept_relationship`` 'Maps to' (source codes) when ``includeMapped``; the set is the union of the items
that are not excluded minus the union of those that are. Records match on the domain table's
``*_concept_id`` column, as in Circe.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import StudyError

#: Most items of one expression (ATLAS sets for broad phenotypes have hundreds; this bounds the SQL lists).
MAX_ITEMS = 10_000
_ID_KEYS = ("CONCEPT_ID", "concept_id", "conceptId")
_FLAGS = {"includeDescendants": "include_descendants", "includeMapped": "include_mapped", "isExcluded": "is_excluded"}


@dataclass(frozen=True)
class ConceptSetItem:
    concept_id: int
    include_descendants: bool = False
    include_mapped: bool = False
    is_excluded: bool = False


def parse_expression(raw: Any, where: str) -> tuple[ConceptSetItem, ...]:
    """Items of an ATLAS concept-set expression (already decoded JSON); ``where`` starts error messages."""
    if isinstance(raw, Mapping) and "expression" in raw and "items" not in raw:
        raw = raw["expression"]
    if not isinstance(raw, Mapping) or not isinstance(raw.get("items"), list):
        raise StudyError(f"{where}: an ATLAS concept set needs {{\"items\": [...]}} (each item with \"concept\", "
                         "\"includeDescendants\", \"includeMapped\", \"isExcluded\")")
    items = raw["items"]
    if not items:
        raise StudyError(f"{where}: the concept set has no items")
    if len(items) > MAX_ITEMS:
        raise StudyError(f"{where}: the concept set has {len(items):,} items; at most {MAX_ITEMS:,} are allowed")
    out = []
    for k, item in enumerate(items):
        at = f"{where}: item #{k + 1}"
        if not isinstance(item, Mapping) or not isinstance(item.get("concept"), Mapping):
            raise StudyError(f"{at} must be an object with a \"concept\" object")
        concept = item["concept"]
        cid = next((concept[k_] for k_ in _ID_KEYS if k_ in concept), None)
        if isinstance(cid, bool) or not isinstance(cid, int):
            raise StudyError(f"{at}: concept.CONCEPT_ID must be a whole number, got {cid!r}"[:200])
        flags = {}
        for key, name in _FLAGS.items():
            value = item.get(key, False)
            if not isinstance(value, bool):
                raise StudyError(f"{at}: {key} must be true or false, got {value!r}"[:200])
            flags[name] = value
        unknown = sorted(set(item) - {"concept", *_FLAGS})
        if unknown:
            raise StudyError(f"{at}: unknown key {unknown[0]!r}; known: concept, {', '.join(_FLAGS)}")
        out.append(ConceptSetItem(cid, **flags))
    if all(i.is_excluded for i in out):
        raise StudyError(f"{where}: every item is excluded; the concept set would be empty")
    return tuple(out)


def read_expression(value: str | Mapping[str, Any], where: str, base_dir: Path) -> tuple[ConceptSetItem, ...]:
    """A concept set given in a study: a path to an ATLAS JSON file (relative to the study file), JSON text
    (``'{"items": [...]}'``) or a TOML table with ``items``."""
    if isinstance(value, Mapping):
        return parse_expression(value, where)
    text = value.strip()
    if text.startswith("{"):
        source = "inline JSON"
    else:
        path = Path(text) if Path(text).is_absolute() else base_dir / text
        if not path.is_file():
            raise StudyError(f"{where}: concept-set file {text[:120]!r} not found (looked in {path.parent})")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise StudyError(f"{where}: concept-set file {path.name} cannot be read: {exc}"[:300]) from None
        source = path.name
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise StudyError(f"{where}: {source} is not valid JSON ({str(exc)[:120]})") from None
    return parse_expression(raw, f"{where} ({source})")


def resolve(items: Sequence[ConceptSetItem], descendants: Mapping[int, set[int]],
            mapped_from: Mapping[int, set[int]]) -> list[int]:
    """The concept ids of an expression, given each ancestor's descendants and each concept's source
    concepts ('Maps to' rows read backwards). Pure: the SQL that fetches the two maps is in ``extract``."""
    included: set[int] = set()
    excluded: set[int] = set()
    for item in items:
        ids = {item.concept_id}
        if item.include_descendants:
            ids |= descendants.get(item.concept_id, set())
        if item.include_mapped:
            ids |= {s for c in list(ids) for s in mapped_from.get(c, set())}
        (excluded if item.is_excluded else included).update(ids)
    return sorted(included - excluded)
