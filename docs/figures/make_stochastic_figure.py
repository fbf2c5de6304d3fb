"""Make docs/figures/stochastic_vs_ode.png: where the exact SSA, tau-leaping and the ODE agree, and where
chance matters. Run: python docs/figures/make_stochastic_figure.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from reawaken.experiments.stochastic import ode_total, run_stochastic  # noqa: E402
from reawaken.scenarios import Scenario  # noqa: E402

OUT = Path(__file__).with_name("stochastic_vs_ode.png")


def main() -> None:
    cases = [
        ("mouse lung, 1,000 dormant cells: chance averages out",
         Scenario("mouse", "influenza", initial={"dormant": 1000.0}), 200),
        ("human lung, 10 dormant cells: chance decides",
         Scenario("human", "influenza"), 2000),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), constrained_layout=True)
    for ax, (title, scenario, reps) in zip(axes[:2], cases):
        for method, colour in (("exact", "tab:blue"), ("tau-leap", "tab:orange")):
            res = run_stochastic(scenario, days=60, replicates=reps, seed=1, method=method)
            fold = res.total / res.d0
            days = np.asarray(res.days)
            q = np.quantile(fold, [0.05, 0.5, 0.95], axis=0)
            if method == "exact":
                ax.fill_between(days, q[0], q[2], color=colour, alpha=0.2, label="exact: 5-95% of lungs")
            ax.plot(days, fold.mean(axis=0), "o-", color=colour, label=f"{method}: mean")
        ode = ode_total(res)
        ax.plot(days, [ode[f"{d:g}"] / res.d0 for d in days], "k--", label="ODE")
        ax.set_yscale("log")
        ax.set_xlabel("days after infection")
        ax.set_ylabel("lung DCCs / day-0 count")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7)
    res = run_stochastic(Scenario("human", "influenza"), days=60, replicates=2000, seed=2)
    lesions = res.lesions_formed
    axes[2].hist(lesions, bins=np.arange(lesions.max() + 2) - 0.5, color="tab:blue")
    axes[2].set_xlabel("lesions (clones reaching 50 cells) per human lung")
    axes[2].set_ylabel("lungs (of 2,000)")
    axes[2].set_title(f"P(no lesion) = {np.mean(lesions == 0):.3f}; mean {lesions.mean():.2f}; "
                      "the ODE has no such number", fontsize=10)
    fig.savefig(OUT, dpi=100)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
