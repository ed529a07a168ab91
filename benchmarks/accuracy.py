"""Exact vs optimized with default options on the models of issue 11:
``python -m benchmarks.accuracy [cython|numpy]``.

AdEx and EIF (100 neurons, 200 ms), Mainen & Sejnowski (200 neurons, 300 ms,
with and without a Ca range) and Hodgkin–Huxley 1952 (100 neurons, 100 ms;
on numpy with euler and rk4), each through `autolut.validate`; then the time
and the largest table of a report at ``tolerance=1e-12``.
"""

from __future__ import annotations

import sys
import time

from brian2 import BrianLogger, defaultclock, ms, prefs

import autolut
from autolut.models import (MAINEN_SEJNOWSKI_RANGES, adex, hh_1952, mainen_sejnowski,
                            traub_miles)


def show(label: str, result) -> None:
    [group] = result.groups
    print(f"{label:42} same counts {group.same_counts}/{group.neurons} "
          f"({group.spikes_exact} vs {group.spikes_optimized} spikes), shift max "
          f"{group.max_shift}, exact {result.exact_time:.2f} s, optimized "
          f"{result.optimized_time:.2f} s, ratio {result.speedup:.2f}x, "
          f"tables {len(result.reports[0].tabulated)}", flush=True)


def main(target: str = "cython") -> None:
    BrianLogger.log_level_warn()
    prefs.codegen.target = target
    if target == "numpy":
        defaultclock.dt = 0.01 * ms
        for method in ("euler", "rk4"):
            show(f"HH 1952, 100 neurons, 100 ms, {method}",
                 autolut.validate(lambda: hh_1952(100, method=method), 100 * ms))
        return
    defaultclock.dt = 0.1 * ms
    show("AdEx, 100 neurons, 200 ms", autolut.validate(lambda: adex(100), 200 * ms))
    show("EIF, 100 neurons, 200 ms",
         autolut.validate(lambda: adex(100, adaptation=False), 200 * ms))
    show("Mainen-Sejnowski, 200 neurons, 300 ms",
         autolut.validate(lambda: mainen_sejnowski(200), 300 * ms))
    show("Mainen-Sejnowski with a Ca range", autolut.validate(
        lambda: mainen_sejnowski(200), 300 * ms, ranges=MAINEN_SEJNOWSKI_RANGES))
    defaultclock.dt = 0.01 * ms
    show("HH 1952, 100 neurons, 100 ms", autolut.validate(lambda: hh_1952(100), 100 * ms))
    start = time.perf_counter()
    report = autolut.report(traub_miles(2), tolerance=1e-12)
    print(f"report(tolerance=1e-12): {time.perf_counter() - start:.1f} s, largest table "
          f"{max(row.points for row in report.candidates)} points")


if __name__ == "__main__":
    main(*sys.argv[1:2])
