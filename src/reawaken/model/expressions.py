"""Safe parsing of rate expressions.

A rate law is written as text (``"k_wake * il6_signal * dormant"``) so that models are data that round-trip
through TOML/JSON and SBML. The text is parsed with :mod:`ast` and only a small whitelist of node types is
accepted: numbers, names, ``+ - * / **``, unary minus and calls to the functions in :data:`FUNCTIONS`.
Nothing is ever passed to ``eval``: the parsed tree is turned into a tree of NumPy closures.
"""

from __future__ import annotations

import ast
import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import ExpressionError

Evaluator = Callable[[Mapping[str, np.ndarray]], np.ndarray]

#: Functions a rate expression may call, with their arity. ``hill(x, K, n)`` is x^n / (K^n + x^n);
#: ``pos(x)`` is max(x, 0), used where a difference must not drive a negative flux.
FUNCTIONS: dict[str, tuple[int, Callable[..., np.ndarray]]] = {
    "exp": (1, np.exp),
    "log": (1, np.log),
    "sqrt": (1, np.sqrt),
    "pos": (1, lambda x: np.maximum(x, 0.0)),
    "min": (2, np.minimum),
    "max": (2, np.maximum),
    "hill": (3, lambda x, k, n: _hill(x, k, n)),
}

_BINOPS: dict[type, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.divide,
    ast.Pow: np.power,
}

_OP_TEXT = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "^"}


def _hill(x: np.ndarray, k: np.ndarray, n: np.ndarray) -> np.ndarray:
    xn = np.power(np.maximum(x, 0.0), n)
    return xn / (np.power(k, n) + xn)


@dataclass(frozen=True)
class Expression:
    """A parsed rate expression: its text, the symbols it uses, and a vectorised evaluator."""

    text: str
    symbols: frozenset[str]
    tree: ast.expr

    def evaluator(self) -> Evaluator:
        """Closure evaluating the expression on a mapping of symbol -> array (broadcast over a batch)."""
        return _build(self.tree)

    def to_mathml_tree(self) -> ast.expr:
        return self.tree


def parse(text: str, *, context: str = "expression") -> Expression:
    """Parse ``text`` (memoised: specs are re-validated on every ``with_values``, and the same rate laws
    recur; an :class:`Expression` is immutable, so sharing one is safe). """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError(f"{context}: empty rate expression {text!r}; write e.g. 'k * X'")
    return _parse_cached(text, context)


@functools.lru_cache(maxsize=8192)
def _parse_cached(text: str, context: str) -> Expression:
    """Parse ``text`` into an :class:`Expression`, rejecting anything outside the whitelist.

    Raises
    ------
    ExpressionError
        With the offending fragment and what is allowed instead.
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError(f"{context}: empty rate expression {text!r}; write e.g. 'k * X'")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"{context}: cannot parse {text!r} ({exc.msg}); use + - * / ** and names") from None
    symbols: set[str] = set()
    _check(tree, text, context, symbols)
    return Expression(text=text.strip(), symbols=frozenset(symbols), tree=tree)


def _check(node: ast.AST, text: str, context: str, symbols: set[str]) -> None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"{context}: only numbers are allowed as constants in {text!r}, got {node.value!r}")
        return
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExpressionError(f"{context}: {node.id!r} is a function; call it as {node.id}(...) in {text!r}")
        symbols.add(node.id)
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        _check(node.left, text, context, symbols)
        _check(node.right, text, context, symbols)
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        _check(node.operand, text, context, symbols)
        return
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        name = node.func.id
        if name not in FUNCTIONS:
            raise ExpressionError(
                f"{context}: unknown function {name!r} in {text!r}; allowed: {', '.join(sorted(FUNCTIONS))}"
            )
        arity = FUNCTIONS[name][0]
        if len(node.args) != arity:
            raise ExpressionError(f"{context}: {name}() takes {arity} argument(s), got {len(node.args)} in {text!r}")
        for arg in node.args:
            _check(arg, text, context, symbols)
        return
    fragment = ast.get_source_segment(text.strip(), node) or type(node).__name__
    raise ExpressionError(
        f"{context}: {fragment!r} is not allowed in a rate expression {text!r}; "
        "use numbers, names, + - * / **, and the functions " + ", ".join(sorted(FUNCTIONS))
    )


def _build(node: ast.expr) -> Evaluator:
    if isinstance(node, ast.Constant):
        value = float(node.value)
        return lambda env: value  # type: ignore[return-value]
    if isinstance(node, ast.Name):
        key = node.id
        return lambda env: env[key]
    if isinstance(node, ast.BinOp):
        op = _BINOPS[type(node.op)]
        left, right = _build(node.left), _build(node.right)
        return lambda env: op(left(env), right(env))
    if isinstance(node, ast.UnaryOp):
        inner = _build(node.operand)
        if isinstance(node.op, ast.USub):
            return lambda env: -inner(env)
        return inner
    if isinstance(node, ast.Call):
        fn = FUNCTIONS[node.func.id][1]  # type: ignore[union-attr]
        args = [_build(a) for a in node.args]
        return lambda env: fn(*(a(env) for a in args))
    raise AssertionError(f"unchecked node {ast.dump(node)}")  # parse() has rejected everything else


def evaluate_scalar(expr: Expression, values: Mapping[str, float]) -> float:
    """Evaluate an expression on scalars (used for validation and tests)."""
    env = {k: np.asarray(v, dtype=float) for k, v in values.items()}
    return float(expr.evaluator()(env))


def to_infix(node: ast.expr, *, python: bool = False) -> str:
    """Render a parsed tree back to infix text with explicit parentheses.

    ``python=False`` gives SBML's L3 formula syntax (``^``, ``inf``); ``python=True`` gives Python source
    (``**``, ``1e999`` for infinity) for the generated kernels.
    """
    if isinstance(node, ast.Constant):
        v = float(node.value)
        if math.isfinite(v):
            return repr(v)
        text = "1e999" if python else "INF"
        return text if v > 0 else f"(-{text})"
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.BinOp):
        op = "**" if python and isinstance(node.op, ast.Pow) else _OP_TEXT[type(node.op)]
        return f"({to_infix(node.left, python=python)} {op} {to_infix(node.right, python=python)})"
    if isinstance(node, ast.UnaryOp):
        inner = to_infix(node.operand, python=python)
        return f"(-{inner})" if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.Call):
        args = ", ".join(to_infix(a, python=python) for a in node.args)
        return f"{node.func.id}({args})"  # type: ignore[union-attr]
    raise AssertionError(ast.dump(node))
