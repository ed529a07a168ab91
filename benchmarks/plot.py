"""The plot: speedup per model and target, and simulation time per neuron-step vs N."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display (CI)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from .models import MODELS  # noqa: E402
from .variants import VARIANTS  # noqa: E402

__all__ = ["plot"]

STYLES = {"exact": "-", "autolut": "--", "lut4brian": ":", "floor": "-."}


def plot(rows: list[dict], path: Path) -> None:
    """Save the figure of the main comparison to `path` (PNG).

    Top: speedup over exact Brian2 of autolut, lut4brian and floor, per model
    and target, at the largest N measured for that model and target (log
    scale). Bottom, one panel per model: nanoseconds of simulation per
    neuron and time step against N, per target (colour) and variant (line style).
    """
    rows = [row for row in rows if not row["error"]]
    models = [m for m in MODELS if any(row["model"] == m for row in rows)]
    targets = sorted({row["target"] for row in rows}, key=["numpy", "cython",
                                                            "cpp_standalone"].index)
    colours = dict(zip(["numpy", "cython", "cpp_standalone"], ["C0", "C1", "C2"]))
    figure = plt.figure(figsize=(4.5 * max(len(models), 2), 8.5), layout="constrained")
    top, bottom = figure.subfigures(2, 1)
    axis = top.subplots()
    labels, position, width = [], 0, 0.25
    for model in models:
        for target in targets:
            at = [row for row in rows if row["model"] == model and row["target"] == target]
            if not at:
                continue
            N = max(row["N"] for row in at)
            for k, variant in enumerate(VARIANTS[1:]):
                speedup = next((row.get("speedup") for row in at
                                if row["N"] == N and row["variant"] == variant), None)
                if speedup:
                    axis.bar(position + (k - 1) * width, speedup, width, color=f"C{k + 3}",
                             label=variant if not labels else None)
            labels.append((position, f"{model}\n{target}\nN={N:,}"))
            position += 1
    axis.axhline(1, color="grey", linewidth=0.8)
    axis.set_yscale("log")
    axis.set_xticks([p for p, _ in labels], [text for _, text in labels], fontsize=8)
    axis.set_ylabel("speedup over exact Brian2")
    axis.legend(loc="upper left")
    axis.set_title("Speedup (simulation time of exact / variant)")
    for axis, model in zip(bottom.subplots(1, len(models), squeeze=False)[0], models):
        for target in targets:
            for variant in VARIANTS:
                points = sorted((row["N"], row["ns_per_neuron_step"]) for row in rows
                                if (row["model"], row["target"], row["variant"])
                                == (model, target, variant))
                if points:
                    axis.plot(*zip(*points), STYLES[variant], marker="o", markersize=3,
                              color=colours[target])
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("neurons N")
        axis.set_ylabel("ns per neuron-step")
        axis.set_title(MODELS[model].title, fontsize=9)
    # one legend for all panels: colour = target, line style = variant
    handles = [Line2D([], [], color=colours[target], label=target) for target in targets] + \
        [Line2D([], [], linestyle=STYLES[variant], color="black", label=variant)
         for variant in VARIANTS]
    bottom.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8)
    figure.savefig(path, dpi=110)
    plt.close(figure)
