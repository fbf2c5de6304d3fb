"""Regenerate the code-derived sections of ``docs/model.md`` from the model itself.

Usage::

    python docs/gen_parameter_tables.py           # rewrite the generated sections of docs/model.md in place
    python docs/gen_parameter_tables.py --check   # exit 1 if docs/model.md is stale, 0 if it is up to date

Every section lives between a pair of markers, ``<!-- BEGIN NAME -->`` and ``<!-- END NAME -->``; the text
between them is replaced, everything else in the file is left alone. The sections are:

* ``PARAMETER TABLES``: every parameter of mouse/influenza (value, unit, prior range, source), then for the
  other host/virus profiles only the parameters and initial states whose values differ from mouse/influenza;
* ``SPECIES TABLE``: species, units and mouse/influenza initial values;
* ``GENERATED EQUATIONS``: the assignments and dX/dt = sum(stoichiometry x rate) exactly as the code has them;
* ``TARGETS TABLE``: the calibration targets of :mod:`reawaken.experiments.targets`;
* ``CALIBRATED PARAMETERS`` / ``ASSUMED PARAMETERS``: parameters (and profile initial states) whose source
  starts with "calibrated" / "assumption".

Nothing is simulated: the output depends only on the code's data, so it is identical on every machine.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from reawaken.experiments.targets import TARGETS
from reawaken.model.library.hosts import HOSTS, PROFILES, profile
from reawaken.model.spec import ModelSpec, Parameter

DOC = Path(__file__).resolve().parent / "model.md"
REFERENCE = ("mouse", "influenza")

#: Display groups for the full mouse/influenza table, in code order. A parameter missing here still
#: appears (under "Other"), so a new parameter can never be left out of the tables.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Virus and epithelium", ("T0", "V0", "V_ext", "beta", "k_ecl", "delta_I", "kappa_E", "kappa_Ab", "K_Ab", "p_V",
                              "c_V", "g_T")),
    ("Type I interferon (refractory epithelium)", ("K_ifn", "d_F", "phi_F", "rho_R")),
    ("Innate arm: neutrophils, NETs, macrophages, depletion", ("N0", "d_N", "rho_N", "K_N", "rho_sterile", "k_dep",
                                                                "K_net", "n_net", "d_net", "k_wake_net", "r_M", "d_M")),
    ("IL-6: lung and serum yields, sensitivity", ("k_il6", "il6_base", "y_il6_I", "y_il6_N", "y_il6_M", "late_phase",
                                                  "il6s_base", "f_serum", "k_il6s", "K_il6", "n_il6", "a_il6_bone",
                                                  "a_il6_liver")),
    ("Anti-IL-6R antibody", ("k_ab", "V_ab", "ic50_ab", "imax_ab")),
    ("CD8 T cells", ("E0", "d_E", "r_E", "K_EA", "K_E", "k_kill")),
    ("CD4 T cells", ("C0", "d_C4", "q_C4", "K_C4A", "K_cd4")),
    ("DCC states, niche and the primed pool", ("k_w0", "k_wake", "prime_factor", "r_A", "dcc_capacity", "k_back",
                                               "tau_on", "tau_off", "d_P", "k_unprime", "k_kill_site")),
    ("Established lesions", ("r_lesion", "lesion_gain", "lesion_capacity")),
    ("Neutralising antibodies and vaccination", ("nab_base", "nab_max", "r_imm", "K_imm", "w_imm",
                                                  "vacc_memory", "vacc_recall")),
    ("Intervention switches and settings", ("il6_ko", "cd4_depleted", "cd8_depleted", "neut_depleted", "net_block",
                                             "inflamed", "vaccinated", "antiviral_on", "antiviral_eff")),
)

#: Short meanings for parameters whose ``doc`` field is empty in the code.
MEANING: dict[str, str] = {
    "g_T": "epithelial repair towards T0",
    "N0": "resting lung neutrophils",
    "d_N": "neutrophil turnover",
    "k_dep": "extra loss rate while a depleting antibody is on",
    "il6_base": "resting IL-6",
    "n_il6": "Hill coefficient of the IL-6 awakening signal",
    "ic50_ab": "antibody concentration at half-maximal receptor blockade",
    "imax_ab": "maximal receptor blockade",
    "E0": "resting CD8 effectors",
    "r_E": "max antigen-driven CD8 expansion rate",
    "d_E": "CD8 effector loss / contraction",
    "C0": "resting CD4 near DCCs",
    "d_C4": "CD4 loss",
    "k_w0": "IL-6-independent awakening",
    "prime_factor": "primed cells wake this many times faster",
    "dcc_capacity": "logistic ceiling of lung DCCs",
    "d_P": "death of primed cells",
    "rho_R": "loss of the antiviral state",
    "n_net": "Hill coefficient of the NET signal",
    "net_block": "NET inhibition efficacy while on (DNase I / PAD4i)",
    "inflamed": "1 = sterile inflammation on",
    "k_kill_site": "resting immune killing of awakened bone-marrow and liver DCCs",
    "il6s_base": "resting serum IL-6",
    "late_phase": "1 = late hyper-inflammatory (macrophage) IL-6 phase",
    "k_unprime": "primed cells return to ordinary dormancy",
    "il6_ko": "1 = no IL-6 made",
    "cd4_depleted": "1 = anti-CD4 on",
    "cd8_depleted": "1 = anti-CD8 on",
    "neut_depleted": "1 = anti-Ly6G on",
    "vaccinated": "1 = vaccine memory CD8 pool",
    "nab_base": "resting (cross-reactive) neutralising titre",
    "nab_max": "maximal neutralising titre",
    "r_imm": "growth rate of the neutralising titre while infected",
    "K_imm": "infected cells at half-maximal antibody drive",
    "w_imm": "waning of the neutralising titre",
    "vacc_memory": "fold increase of the resting CD8 pool after vaccination",
    "antiviral_on": "1 = antiviral course running",
    "antiviral_eff": "fraction of virus production blocked",
}


# --------------------------------------------------------------------------------------------- formatting


def fmt(x: float) -> str:
    """A number as a short, stable string: 4 significant digits, compact exponents, inf as infinity."""
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    s = f"{x:.4g}"
    if "e" in s:
        mant, exp = s.split("e")
        s = f"{mant}e{int(exp)}"
    return s


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def code(text: str) -> str:
    return f"`{text}`"


def prior_text(p: Parameter) -> str:
    if p.prior is None:
        return "fixed"
    lo, hi = p.prior
    return f"[{fmt(lo)}, {fmt(hi)}]"


def outside_prior(p: Parameter) -> bool:
    return p.prior is not None and not (p.prior[0] <= p.value <= p.prior[1])


def value_text(p: Parameter) -> str:
    return fmt(p.value) + (" ⚠" if outside_prior(p) else "")


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def meaning(p: Parameter) -> str:
    return p.doc or MEANING.get(p.name, "—")


def profile_key(host: str, virus: str) -> str:
    return f"{host}/{virus}"


# --------------------------------------------------------------------------------------------- sections


def _spec(host: str, virus: str) -> ModelSpec:
    return profile(host, virus).spec()


def parameter_tables() -> str:
    ref_host, ref_virus = REFERENCE
    ref = _spec(ref_host, ref_virus)
    out: list[str] = []

    out += ["### Host/virus profiles", ""]
    rows = []
    for host in HOSTS:
        for virus in ("influenza", "sars-cov-2", "none"):
            pr = profile(host, virus)
            rows.append([code(profile_key(host, virus)), pr.strain, fmt(pr.inoculum), fmt(pr.detection_limit),
                         pr.doc])
    out += table(["Profile", "Strain / arm", "Inoculum per infection (TCID50/mL)", "Detection limit (TCID50/mL)",
                  "Note"], rows)
    out += ["", "`<host>/none` (PBS control) uses the parameters and initial states of `<host>/influenza` and "
            "schedules no infection, so it has no table of its own.", ""]

    out += [f"### {profile_key(ref_host, ref_virus)} (all {len(ref.parameters)} parameters)", "",
            "Prior `fixed` means the code gives no prior range (the value is treated as firm). "
            "Bounds are hard limits checked whenever a value is set (`--set`).", ""]
    by_name = {p.name: p for p in ref.parameters}
    listed = {n for _, names in GROUPS for n in names}
    groups = [(title, [n for n in names if n in by_name]) for title, names in GROUPS]
    other = [p.name for p in ref.parameters if p.name not in listed]
    if other:
        groups.append(("Other", other))
    for title, names in groups:
        if not names:
            continue
        out += [f"#### {title}", ""]
        rows = []
        for n in names:
            p = by_name[n]
            rows.append([code(p.name), value_text(p), p.unit, prior_text(p),
                         f"[{fmt(p.bounds[0])}, {fmt(p.bounds[1])}]", meaning(p), p.source])
        out += table(["Parameter", "Value", "Unit", "Prior range", "Bounds", "Meaning", "Source"], rows)
        out += [""]

    ref_init = {s.name: s for s in ref.species}
    for (host, virus), pr in PROFILES.items():
        if (host, virus) == REFERENCE:
            continue
        spec = pr.spec()
        out += [f"### {profile_key(host, virus)}: differences from {profile_key(ref_host, ref_virus)}", ""]
        diff = [p for p in spec.parameters if p.value != by_name[p.name].value]
        if diff:
            rows = [[code(p.name), value_text(p), fmt(by_name[p.name].value), p.unit, prior_text(p), p.source]
                    for p in diff]
            out += table(["Parameter", "Value", f"{profile_key(*REFERENCE)} value", "Unit",
                          "Prior range (as declared in the code)", "Source"], rows)
        else:
            out += ["No parameter differs."]
        out += [""]
        init = [s for s in spec.species if s.initial != ref_init[s.name].initial]
        if init:
            out += ["Initial states that differ:", ""]
            rows = [[code(s.name), fmt(s.initial), fmt(ref_init[s.name].initial), s.unit,
                     pr.initial[s.name].source if s.name in pr.initial else "—"] for s in init]
            out += table(["Species", "Initial", f"{profile_key(*REFERENCE)} initial", "Unit", "Source"], rows)
        else:
            out += ["Initial states: as mouse/influenza."]
        out += [""]

    n_out = sum(outside_prior(p) for pr in PROFILES.values() for p in pr.spec().parameters)
    if n_out:
        out += [f"⚠ marks a value outside the prior range declared in the code ({n_out} cases over all "
                "profiles). A profile replaces values but keeps the mouse prior ranges, so for the human "
                "profiles the prior column is the mouse prior, not a human one.", ""]
    return "\n".join(out).rstrip() + "\n"


def species_table() -> str:
    spec = _spec(*REFERENCE)
    rows = [[code(s.name), s.unit, fmt(s.initial), s.doc] for s in spec.species]
    lines = table(["Species", "Unit", f"Initial ({profile_key(*REFERENCE)})", "Meaning"], rows)
    lines += ["", "Derived quantities (assignments, evaluated before the rates):", ""]
    lines += table(["Assignment", "Unit", "Definition", "Meaning"],
                   [[code(a.name), a.unit, code(a.expr), a.doc] for a in spec.assignments])
    return "\n".join(lines) + "\n"


def generated_equations() -> str:
    spec = _spec(*REFERENCE)
    lines = ["```text", "# functions: pos(x) = max(x, 0);  hill(x, K, n) = x^n / (K^n + x^n)", "",
             "# assignments"]
    width = max(len(a.name) for a in spec.assignments)
    lines += [f"{a.name:<{width}} = {a.expr}" for a in spec.assignments]
    lines += ["", "# d(species)/dt = sum over transitions of stoichiometry x rate   [transition name]"]
    for s in spec.species:
        terms = [(tr.name, tr.change[s.name], tr.rate) for tr in spec.transitions if s.name in tr.change]
        head = f"d({s.name})/dt ="
        if not terms:
            lines.append(f"{head} 0")
            continue
        for i, (name, n, rate) in enumerate(terms):
            sign = "+" if n > 0 else "-"
            coef = "" if abs(n) == 1 else f"{abs(n)} * "
            lead = head if i == 0 else " " * len(head)
            lines.append(f"{lead} {sign} {coef}{rate}   [{name}]")
        lines.append("")
    lines[-1:] = ["```"] if lines[-1] == "" else lines[-1:] + ["```"]
    return "\n".join(lines) + "\n"


def _range(low: float, high: float) -> str:
    if math.isinf(low) and low < 0:
        return f"≤ {fmt(high)}"
    if math.isinf(high) and high > 0:
        return f"≥ {fmt(low)}"
    return f"{fmt(low)} – {fmt(high)}"


def targets_table() -> str:
    rows = [[t.id, t.claim, _range(t.low, t.high), t.unit or "ratio / fraction", t.source] for t in TARGETS]
    return "\n".join(table(["ID", "Claim (what is measured)", "Accepted range", "Unit", "Source"], rows)) + "\n"


def _by_source_prefix(prefix: str, strip: str = "") -> list[list[str]]:
    """Parameters and profile initial states whose source starts with ``prefix``, merged over profiles."""
    merged: dict[tuple[str, str, float, str], list[str]] = {}
    order: list[tuple[str, str, float, str]] = []
    for (host, virus), pr in PROFILES.items():
        spec = pr.spec()
        items = [("parameter", p.name, p.value, p.unit, p.source) for p in spec.parameters]
        items += [("initial", name, v.value, spec.species[spec.species_names.index(name)].unit, v.source)
                  for name, v in pr.initial.items()]
        for kind, name, value, unit, source in items:
            if not source.startswith(prefix):
                continue
            key = (kind, name, value, source)
            if key not in merged:
                merged[key] = []
                order.append(key)
                merged[key].append(unit)
            merged[key].append(profile_key(host, virus))
    rows = []
    for key in order:
        kind, name, value, source = key
        unit, *profiles = merged[key]
        label = code(name) if kind == "parameter" else f"initial {code(name)}"
        reason = source[len(strip):] if strip and source.startswith(strip) else source
        where = "all profiles" if len(profiles) == len(PROFILES) else ", ".join(profiles)
        rows.append([label, fmt(value) if unit == "1" else f"{fmt(value)} {unit}", where, reason])
    return rows


def calibrated_parameters() -> str:
    rows = _by_source_prefix("calibrated", "calibrated: ")
    return "\n".join(table(["Parameter", "Value", "Profiles", "Calibrated to (source text in the code)"],
                           rows)) + "\n"


def assumed_parameters() -> str:
    rows = _by_source_prefix("assumption", "assumption (literature silent): ")
    return "\n".join(table(["Parameter", "Value", "Profiles", "Reasoning (source text in the code)"], rows)) + "\n"


SECTIONS: dict[str, Callable[[], str]] = {
    "SPECIES TABLE": species_table,
    "GENERATED EQUATIONS": generated_equations,
    "PARAMETER TABLES": parameter_tables,
    "TARGETS TABLE": targets_table,
    "CALIBRATED PARAMETERS": calibrated_parameters,
    "ASSUMED PARAMETERS": assumed_parameters,
}


# --------------------------------------------------------------------------------------------- rewriting


class MarkerError(ValueError):
    """A marker pair is missing, duplicated or out of order."""


def replace_section(text: str, name: str, body: str) -> str:
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    if text.count(begin) != 1 or text.count(end) != 1:
        raise MarkerError(f"docs/model.md needs exactly one {begin!r} and one {end!r}")
    i, j = text.index(begin) + len(begin), text.index(end)
    if j < i:
        raise MarkerError(f"{end!r} comes before {begin!r}")
    return text[:i] + "\n" + body + text[j:]


def render(text: str) -> str:
    """``text`` with every generated section replaced by its current content."""
    for name, make in SECTIONS.items():
        text = replace_section(text, name, make())
    return text


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the file is stale; write nothing")
    ap.add_argument("--path", type=Path, default=DOC, help=f"the Markdown file (default: {DOC})")
    args = ap.parse_args(argv)
    try:
        old = args.path.read_text(encoding="utf-8")
        new = render(old)
    except (OSError, MarkerError) as exc:
        print(f"gen_parameter_tables: error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if new != old:
            print(f"{args.path} is stale; run: python docs/gen_parameter_tables.py", file=sys.stderr)
            return 1
        return 0
    if new != old:
        args.path.write_text(new, encoding="utf-8")
        print(f"updated {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
