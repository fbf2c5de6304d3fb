"""Compile a :class:`ModelSpec` into arrays and a right-hand side vectorised over a leading batch axis."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .._typing import FloatArray
from ..errors import ParameterError
from .events import EventSchedule
from .expressions import FUNCTIONS, parse, to_infix
from .serialize import spec_hash
from .spec import ModelSpec

_ALL = slice(None)


@dataclass(frozen=True)
class CompiledModel:
    """Arrays and kernels of a model.

    ``stoich`` has shape (n_species, n_transitions). ``rates(y, p, t)`` takes ``y`` of shape
    (batch, n_species) and ``p`` of shape (batch, n_parameters) and returns (batch, n_transitions).
    """

    spec: ModelSpec
    species: tuple[str, ...]
    parameters: tuple[str, ...]
    transitions: tuple[str, ...]
    stoich: FloatArray
    y0: FloatArray
    p0: FloatArray
    hash: str
    source: str = field(repr=False)
    _kernel: Callable[..., tuple[FloatArray, ...]] = field(repr=False)

    @property
    def n_species(self) -> int:
        return len(self.species)

    @property
    def n_parameters(self) -> int:
        return len(self.parameters)

    def species_index(self, name: str) -> int:
        try:
            return self.species.index(name)
        except ValueError:
            raise ParameterError(f"unknown species {name!r}; known: {', '.join(self.species)}") from None

    def parameter_index(self, name: str) -> int:
        try:
            return self.parameters.index(name)
        except ValueError:
            raise ParameterError(f"unknown parameter {name!r}; known: {', '.join(self.parameters)}") from None

    def rates(self, y: FloatArray, p: FloatArray, t: float | FloatArray = 0.0) -> FloatArray:
        """Transition rates, shape (batch, n_transitions)."""
        # Underflow is harmless: an extinct virus (1e-300) makes a Hill term round to zero.
        with np.errstate(under="ignore"):
            cols = self._kernel(y, p, t)[len(self.spec.assignments) :]
        out = np.empty((y.shape[0], len(cols)))
        for j, c in enumerate(cols):
            out[:, j] = c
        return out

    def rhs(self, t: float | FloatArray, y: FloatArray, p: FloatArray) -> FloatArray:
        """dy/dt for a batch: rates @ stoich.T."""
        return self.rates(y, p, t) @ self.stoich.T

    def assignment(self, name: str, y: FloatArray, p: FloatArray, t: float | FloatArray = 0.0) -> FloatArray:
        """Value of a derived quantity (e.g. ``il6_signal``) over a batch of states, shape (batch,)."""
        names = [a.name for a in self.spec.assignments]
        if name not in names:
            raise ParameterError(f"unknown assignment {name!r}; known: {', '.join(names)}")
        with np.errstate(under="ignore"):
            value = self._kernel(y, p, t)[names.index(name)]
        return np.broadcast_to(np.asarray(value, dtype=float), (y.shape[0],)).copy()

    def params_batch(self, n: int = 1) -> FloatArray:
        return np.tile(self.p0, (n, 1))

    def apply_jumps(self, y: FloatArray, schedule: EventSchedule, time: float, rows: slice | np.ndarray = _ALL) -> None:
        """Apply the scales, then the jumps, of ``schedule`` at ``time`` to ``y[rows]`` in place."""
        for scale in schedule.scales:
            if scale.time == time:
                y[rows, self.species_index(scale.species)] *= scale.factor
        for jump in schedule.jumps:
            if jump.time == time:
                y[rows, self.species_index(jump.species)] += jump.amount

    def apply_switches(self, p: FloatArray, schedule: EventSchedule, time: float, rows: slice | np.ndarray = _ALL) -> None:
        """Apply the parameter switches of ``schedule`` at ``time`` to ``p[rows]`` in place."""
        for sw in schedule.switches:
            if sw.time == time:
                p[rows, self.parameter_index(sw.parameter)] = sw.value


def compile_model(spec: ModelSpec) -> CompiledModel:
    """Compile ``spec`` (already validated at construction) into a :class:`CompiledModel`."""
    species = spec.species_names
    stoich = np.zeros((len(species), len(spec.transitions)))
    for j, tr in enumerate(spec.transitions):
        for name, n in tr.change.items():
            stoich[species.index(name), j] = n
    source = _kernel_source(spec)
    return CompiledModel(
        spec=spec,
        species=species,
        parameters=spec.parameter_names,
        transitions=tuple(tr.name for tr in spec.transitions),
        stoich=stoich,
        y0=np.array([s.initial for s in spec.species], dtype=float),
        p0=np.array([p.value for p in spec.parameters], dtype=float),
        hash=spec_hash(spec),
        source=source,
        _kernel=_load_kernel(source, spec.name),
    )


def _kernel_source(spec: ModelSpec) -> str:
    """Python source of one function computing every assignment and rate from (y, p, t).

    The source is generated from the *validated* expression trees only: every name in it was checked to be
    a declared, non-keyword identifier not starting with ``_``, every constant is a float literal and every
    call is to a whitelisted function (bound under a ``_f_`` prefix no user name can take). User text is
    never executed; this is how SymPy's ``lambdify`` turns expressions into fast NumPy code.
    """
    lines = ["def _kernel(_y, _p, t):"]
    lines += [f"    {s.name} = _y[:, {i}]" for i, s in enumerate(spec.species)]
    lines += [f"    {p.name} = _p[:, {i}]" for i, p in enumerate(spec.parameters)]
    lines += [f"    {a.name} = {_render(a.expr)}" for a in spec.assignments]
    outputs = [a.name for a in spec.assignments] + [_render(tr.rate) for tr in spec.transitions]
    lines.append("    return (" + ", ".join(outputs) + ",)")
    return "\n".join(lines) + "\n"


def scalar_kernel_source(spec: ModelSpec) -> str:
    """Source of ``_rates(y, p, t, out)`` computing every rate for ONE state (scalars), for JIT compilers.

    Same provenance guarantees as :func:`_kernel_source`; used by the compiled solvers in
    :mod:`reawaken.solvers._jit`, which bind the ``_f_*`` helpers to scalar implementations.
    """
    lines = ["def _rates(_y, _p, t, _out):"]
    lines += [f"    {s.name} = _y[{i}]" for i, s in enumerate(spec.species)]
    lines += [f"    {p.name} = _p[{i}]" for i, p in enumerate(spec.parameters)]
    lines += [f"    {a.name} = {_render(a.expr)}" for a in spec.assignments]
    lines += [f"    _out[{j}] = {_render(tr.rate)}" for j, tr in enumerate(spec.transitions)]
    lines.append("    return _out")
    return "\n".join(lines) + "\n"


def _render(text: str) -> str:
    rendered = to_infix(parse(text).tree, python=True)
    for fn in FUNCTIONS:
        rendered = re.sub(rf"\b{fn}\(", f"_f_{fn}(", rendered)
    return rendered


def _load_kernel(source: str, name: str) -> Callable[..., tuple[FloatArray, ...]]:
    namespace: dict[str, object] = {"__builtins__": {}}
    namespace.update({f"_f_{fn}": impl for fn, (_, impl) in FUNCTIONS.items()})
    code = compile(source, f"<reawaken model {name}>", "exec")
    exec(code, namespace)  # noqa: S102 -- generated from validated trees, see _kernel_source
    return namespace["_kernel"]  # type: ignore[return-value]
