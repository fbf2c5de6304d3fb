"""The model layer: frozen specs, safe expressions, validation, compilation, events."""

from .compile import CompiledModel, compile_model
from .events import EventSchedule, ParameterSwitch, StateJump, StateScale
from .serialize import spec_from_json, spec_hash, spec_to_json
from .spec import Assignment, ModelSpec, Parameter, Species, Transition

__all__ = [
    "Assignment",
    "CompiledModel",
    "EventSchedule",
    "ModelSpec",
    "Parameter",
    "ParameterSwitch",
    "Species",
    "StateJump",
    "StateScale",
    "Transition",
    "compile_model",
    "spec_from_json",
    "spec_hash",
    "spec_to_json",
]
