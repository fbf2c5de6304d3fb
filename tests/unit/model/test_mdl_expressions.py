"""Safe rate expressions: what parse() accepts, what it rejects (and says why), and evaluated values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reawaken.errors import ExpressionError, SpecError
from reawaken.model.expressions import FUNCTIONS, evaluate_scalar, parse

# --------------------------------------------------------------------------------------------- accepted


@pytest.mark.parametrize(
    ("text", "symbols"),
    [
        ("3", set()),
        ("2.5e-3", set()),
        ("k", {"k"}),
        ("k * X", {"k", "X"}),
        ("a + b - c * d / e ** f", {"a", "b", "c", "d", "e", "f"}),
        ("-x", {"x"}),
        ("+x", {"x"}),
        ("exp(a) + log(b) + sqrt(c) + pos(d)", {"a", "b", "c", "d"}),
        ("min(a, b) * max(c, 2)", {"a", "b", "c"}),
        ("hill(il6, K_il6, n_il6) * dormant", {"il6", "K_il6", "n_il6", "dormant"}),
        ("  k * X  ", {"k", "X"}),
    ],
)
def test_parse_accepts_whitelist_and_collects_symbols(text, symbols):
    expr = parse(text)
    assert expr.symbols == frozenset(symbols)
    assert expr.text == text.strip()


def test_function_names_are_not_symbols():
    # exp/hill are callees, not free symbols that must be declared.
    assert parse("exp(x) * hill(y, K, n)").symbols == frozenset({"x", "y", "K", "n"})


# --------------------------------------------------------------------------------------------- rejected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a.b", "'a.b'"),  # attribute access
        ("X.__class__", "X.__class__"),
        ("x[0]", "'x[0]'"),  # subscript
        ("lambda x: x", "lambda x: x"),
        ("[x for x in y]", "[x for x in y]"),  # list comprehension
        ("{x: 1 for x in y}", "{x: 1 for x in y}"),  # dict comprehension
        ("x if y else z", "x if y else z"),
        ("x < y", "x < y"),
        ("x // y", "x // y"),
        ("x % y", "x % y"),
        ("not x", "not x"),
        ("(lambda: 1)()", "lambda"),
        ("hill(x, K=1.0, n=2.0)", "hill(x, K=1.0, n=2.0)"),  # keyword arguments
        ("exp(x=1.0)", "exp(x=1.0)"),
    ],
)
def test_parse_rejects_non_whitelisted_syntax_naming_the_fragment(text, fragment):
    with pytest.raises(ExpressionError, match="is not allowed in a rate expression") as info:
        parse(text)
    assert fragment in str(info.value)


@pytest.mark.parametrize("text", ["'abc'", "b'abc'", "1j", "True", "None", "..."])
def test_parse_rejects_non_numeric_constants(text):
    with pytest.raises(ExpressionError, match="only numbers are allowed as constants"):
        parse(text)


def test_parse_rejects_dunder_import():
    with pytest.raises(ExpressionError, match=r"unknown function '__import__'") as info:
        parse("__import__('os')")
    # The message lists what IS allowed, so the user can fix the expression.
    assert all(fn in str(info.value) for fn in FUNCTIONS)


def test_parse_rejects_unknown_function():
    with pytest.raises(ExpressionError, match=r"unknown function 'tanh'.*allowed: exp, hill, log"):
        parse("tanh(x) * k")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("exp(a, b)", r"exp\(\) takes 1 argument\(s\), got 2"),
        ("sqrt()", r"sqrt\(\) takes 1 argument\(s\), got 0"),
        ("min(a)", r"min\(\) takes 2 argument\(s\), got 1"),
        ("hill(x, K)", r"hill\(\) takes 3 argument\(s\), got 2"),
        ("hill(x, K, n, m)", r"hill\(\) takes 3 argument\(s\), got 4"),
    ],
)
def test_parse_rejects_wrong_arity(text, message):
    with pytest.raises(ExpressionError, match=message):
        parse(text)


def test_bare_function_name_is_rejected_with_a_hint():
    with pytest.raises(ExpressionError, match=r"'exp' is a function; call it as exp\(\.\.\.\)"):
        parse("exp * x")


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_expression_rejected(text):
    with pytest.raises(ExpressionError, match="empty rate expression"):
        parse(text)


def test_syntax_error_rejected_and_context_named():
    with pytest.raises(ExpressionError, match=r"transition growth: cannot parse 'k \*'"):
        parse("k *", context="transition growth")


def test_expression_error_is_a_spec_error_and_a_value_error():
    with pytest.raises(SpecError):
        parse("a.b")
    with pytest.raises(ValueError):
        parse("a.b")


# --------------------------------------------------------------------------------------------- evaluated


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        # 2 + 3 * 4^2 / 8 - (-1) = 2 + 6 + 1
        ("2 + 3 * 4 ** 2 / 8 - -1", {}, 9.0),
        # Python precedence: -x**2 = -(x^2)
        ("-x ** 2", {"x": 3.0}, -9.0),
        ("(a - b) * (a + b)", {"a": 5.0, "b": 3.0}, 16.0),
        ("exp(log(x))", {"x": 2.5}, 2.5),
        ("exp(1)", {}, math.e),
        ("sqrt(x) * sqrt(x)", {"x": 7.0}, 7.0),
        ("pos(x)", {"x": -3.0}, 0.0),  # pos(x) = max(x, 0)
        ("pos(x)", {"x": 2.0}, 2.0),
        ("min(a, b) + 10 * max(a, b)", {"a": 1.0, "b": 4.0}, 41.0),
        # hill(x, K, n) = x^n / (K^n + x^n): 3^2 / (2^2 + 3^2) = 9/13
        ("hill(x, K, n)", {"x": 3.0, "K": 2.0, "n": 2.0}, 9.0 / 13.0),
        # at x = K the Hill function is 1/2 for every n
        ("hill(x, K, n)", {"x": 60.0, "K": 60.0, "n": 3.0}, 0.5),
        # hill(120, 60, 3) = 8 / (1 + 8)
        ("hill(x, K, n)", {"x": 120.0, "K": 60.0, "n": 3.0}, 8.0 / 9.0),
        # negative input is clipped at 0 before the power: hill = 0
        ("hill(x, K, n)", {"x": -1.0, "K": 2.0, "n": 2.0}, 0.0),
        # k * S * I / (1 + nab) with hand numbers: 6.2e-5 * 1e7 * 10 / 2 = 3100
        ("beta * target * virus / (1 + nab)", {"beta": 6.2e-5, "target": 1e7, "virus": 10.0, "nab": 1.0}, 3100.0),
    ],
)
def test_evaluate_scalar_matches_hand_values(text, values, expected):
    assert evaluate_scalar(parse(text), values) == pytest.approx(expected, rel=1e-14, abs=1e-300)


def test_evaluator_broadcasts_over_a_batch():
    expr = parse("hill(x, K, n) * k")
    x = np.array([0.0, 1.0, 2.0, 4.0])
    got = expr.evaluator()({"x": x, "K": np.full(4, 2.0), "n": np.full(4, 2.0), "k": np.full(4, 3.0)})
    # 3 * x^2 / (4 + x^2)
    np.testing.assert_allclose(got, 3.0 * x**2 / (4.0 + x**2), rtol=1e-15)
