"""Property-based hostile input (Hypothesis): malformed cohort configs, study files and CLI arguments either
work or end in one line with exit 2; never a traceback, never a file written on refusal (issue 11)."""

from __future__ import annotations

import contextlib
import io
import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reawaken.cli.main import main
from reawaken.cohort.config import SCHEMA, load_config
from reawaken.errors import ReawakenError
from reawaken.io.omop.study import load_study

STUDIES = Path(__file__).parents[2] / "src" / "reawaken" / "io" / "omop" / "studies"
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# values of every TOML type, including the ones that break naive code: NaN, inf, huge, empty, nested
toml_values = st.one_of(
    st.integers(min_value=-10**20, max_value=10**20).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e308", "-0.0", "0", "true", "false", '""', "[]", "{}", "[[]]",
                     '"x/../../y"', "2020-02-30", "1979-05-27", '"$a^b$"', "[1, 2, nan]", "[0, 90, 1e400]"]),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: repr(f).replace("nan", "nan").replace("inf", "inf")),
    st.text(alphabet=string.printable, max_size=12).map(lambda t: '"' + t.replace("\\", "").replace('"', "") + '"'),
)
config_keys = st.sampled_from([(sec, key) for sec, keys in SCHEMA.items() for key in keys] +
                              [("arms.x", "anti_il6_threshold"), ("cohort", "unknown_key"), ("nosection", "a")])


def _one_line_or_ok(call) -> None:
    try:
        call()
    except ReawakenError as exc:
        msg = str(exc)
        assert msg and "Traceback" not in msg


@SETTINGS
@given(items=st.lists(st.tuples(config_keys, toml_values), min_size=1, max_size=4))
def test_malformed_cohort_configs_are_refused_by_name_or_accepted(items):
    sections: dict[str, list[str]] = {}
    for (sec, key), value in items:
        sections.setdefault(sec, []).append(f"{key} = {value}")
    text = "\n".join(f"[{sec}]\n" + "\n".join(dict.fromkeys(lines)) for sec, lines in sections.items())
    _one_line_or_ok(lambda: load_config(text=text))


@SETTINGS
@given(text=st.text(max_size=200))
def test_arbitrary_text_as_a_config_never_raises_anything_else(text):
    _one_line_or_ok(lambda: load_config(text=text))


def _study_variant(base: str, key: str, value: str) -> str:
    lines = base.splitlines()
    out = [f"{key} = {value}" if line.split("=")[0].strip() == key else line for line in lines]
    return "\n".join(out) + "\n"


@SETTINGS
@given(which=st.sampled_from(["ukb-style", "flatiron-style", "planted-check"]),
       key=st.sampled_from(["name", "concepts", "study_start", "study_end", "windows_days", "washout_days",
                            "min_years_before_start", "table", "include_descendants", "per", "above", "kind"]),
       value=toml_values)
def test_malformed_study_files_are_refused_by_name_or_accepted(tmp_path_factory, which, key, value):
    path = tmp_path_factory.mktemp("study") / "s.toml"
    path.write_text(_study_variant((STUDIES / f"{which}.toml").read_text(), key, value))
    _one_line_or_ok(lambda: load_study(path))


cli_tokens = st.one_of(
    st.sampled_from(["--days", "--seed", "--replicates", "--set", "--intervention", "--infection-days",
                     "--cross-reactivity", "--host", "--virus", "--method", "--lesion-threshold", "--stochastic",
                     "--json", "--n", "--arms", "--chunk-size", "--alpha"]),
    st.sampled_from(["-1", "0", "1e9", "nan", "inf", "1e308", "x", "", "anti-il6:doses=1e9", "anti-il6:dose=-1",
                     "k_wake=1e308", "K_il6=nan", "mouse", "human", "none", "tau-leap", "0,60", "60,0,nan",
                     "cd4-depletion:start=5,end=1", "vaccinated:titre=1e400", "=3", "k=", "a,b,,c"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=st.lists(cli_tokens, max_size=6))
def test_random_simulate_arguments_end_in_one_line_or_succeed(tmp_path_factory, args):
    out = tmp_path_factory.mktemp("cli") / "out"
    err, std = io.StringIO(), io.StringIO()
    argv = ["simulate", *args, "--days", "3", "--replicates", "2", "--out", str(out)]
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code
    text = err.getvalue()
    assert "Traceback" not in text
    if code == 0:
        assert (out / "manifest.json").is_file()
    else:
        assert code == 2 and text.count("\n") == 1, (argv, text)
        assert not out.exists(), argv
