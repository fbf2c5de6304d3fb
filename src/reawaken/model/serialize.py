"""JSON round-trip of model specs and their content hash (goes into every manifest)."""

from __future__ import annotations

import hashlib
import json
import math
from typing import TYPE_CHECKING, Any

from ..errors import SpecError

if TYPE_CHECKING:
    from .spec import ModelSpec


def _num(x: float) -> Any:
    x = float(x)  # 1 and 1.0 must serialise (and hash) alike
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf")


def _unnum(x: Any) -> float:
    return float(x)


def spec_to_dict(spec: ModelSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "doc": spec.doc,
        "species": [{"name": s.name, "unit": s.unit, "initial": float(s.initial), "doc": s.doc} for s in spec.species],
        "parameters": [
            {
                "name": p.name,
                "value": float(p.value),
                "unit": p.unit,
                "source": p.source,
                "bounds": [_num(p.bounds[0]), _num(p.bounds[1])],
                "prior": None if p.prior is None else [_num(p.prior[0]), _num(p.prior[1])],
                "doc": p.doc,
            }
            for p in spec.parameters
        ],
        "assignments": [{"name": a.name, "expr": a.expr, "unit": a.unit, "doc": a.doc} for a in spec.assignments],
        "transitions": [
            {"name": t.name, "change": dict(t.change), "rate": t.rate, "doc": t.doc} for t in spec.transitions
        ],
    }


def spec_from_dict(data: dict[str, Any]) -> ModelSpec:
    from .spec import Assignment, ModelSpec, Parameter, Species, Transition

    try:
        return ModelSpec(
            name=data["name"],
            doc=data.get("doc", ""),
            species=tuple(Species(**s) for s in data["species"]),
            parameters=tuple(
                Parameter(
                    name=p["name"],
                    value=float(p["value"]),
                    unit=p["unit"],
                    source=p["source"],
                    bounds=(_unnum(p["bounds"][0]), _unnum(p["bounds"][1])),
                    prior=None if p.get("prior") is None else (float(p["prior"][0]), float(p["prior"][1])),
                    doc=p.get("doc", ""),
                )
                for p in data["parameters"]
            ),
            assignments=tuple(Assignment(**a) for a in data.get("assignments", [])),
            transitions=tuple(Transition(**t) for t in data["transitions"]),
        )
    except (KeyError, TypeError) as exc:
        raise SpecError(f"model file is missing or has a malformed field: {exc}") from None


def spec_to_json(spec: ModelSpec) -> str:
    return json.dumps(spec_to_dict(spec), indent=2, sort_keys=True)


def spec_from_json(text: str) -> ModelSpec:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"model file is not valid JSON: {exc}") from None
    return spec_from_dict(data)


def spec_hash(spec: ModelSpec) -> str:
    """SHA-256 of the canonical JSON of everything that changes results (docs and sources excluded)."""
    d = spec_to_dict(spec)
    d.pop("doc")
    for section in ("species", "parameters", "assignments", "transitions"):
        for item in d[section]:
            item.pop("doc", None)
            item.pop("source", None)
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]
