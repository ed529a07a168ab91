"""Exact vs autolut-optimized Hodgkin–Huxley populations, side by side, on each target.

Every variant runs in a fresh subprocess with the same layout: build the
Traub–Miles population (drive rising from silent to fast firing), generate and
compile code (timed apart), then simulate (timed). The variants:

* exact: Brian2 as is;
* autolut: `autolut.optimize` with default settings;
* floor: every rate function replaced by a constant (its value at -65 mV) —
  the fastest any tabulation of the rates could be.

Printed per target, method and size: simulation times, speedup, autolut/floor
ratio, compile and table-build times, and the spike agreement of autolut with
the exact model (neurons with identical spike counts, total spikes).

Usage::

    python benchmarks/bench_targets.py                       # all targets, N=1000 and 10000
    python benchmarks/bench_targets.py --targets numpy --sizes 1000 --duration 200
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import sympy  # noqa: E402
from brian2 import (Equations, SpikeMonitor, defaultclock, device, ms, prefs, run,  # noqa: E402
                    set_device)
from brian2.equations.equations import Expression, SingleEquation  # noqa: E402
from brian2.parsing.sympytools import str_to_sympy, sympy_to_str  # noqa: E402

import autolut  # noqa: E402
from autolut import analysis, api, brian_model  # noqa: E402
from autolut.demo import traub_miles  # noqa: E402
from autolut.options import Options  # noqa: E402


def simulate(target: str, method: str, N: int, duration_ms: float, variant: str,
             workdir: str) -> dict:
    """One variant in this process; returns timings and per-neuron spike counts."""
    defaultclock.dt = 0.01 * ms
    floor = floor_equations(method) if variant == "floor" else None
    if target == "cpp_standalone":
        set_device("cpp_standalone", directory=workdir, build_on_run=False)
    else:
        prefs.codegen.target = target
        prefs.codegen.runtime.cython.cache_dir = workdir + "/cython_cache"
    # the floor: same group and initial state, rate functions constant
    group = traub_miles(N, method, equations=floor) if floor else traub_miles(N, method)
    spikes = SpikeMonitor(group)
    start = time.perf_counter()
    if variant == "autolut":
        autolut.optimize(group)
    optimize_s = time.perf_counter() - start
    if target == "cpp_standalone":
        run(duration_ms * ms)
        start = time.perf_counter()
        device.build(compile=True, run=True)
        total = time.perf_counter() - start
        run_s = device._last_run_time
        compile_s = total - run_s
    else:
        start = time.perf_counter()
        run(defaultclock.dt)  # code generation and compilation
        compile_s = time.perf_counter() - start
        start = time.perf_counter()
        run(duration_ms * ms)
        run_s = time.perf_counter() - start
    return dict(optimize_s=optimize_s, compile_s=compile_s, run_s=run_s,
                counts=np.asarray(spikes.count[:]).tolist())


def floor_equations(method, v_rest=-0.065) -> Equations:
    """The Traub–Miles equations with every rate function replaced by its value at `v_rest`.

    Uses autolut's own analysis to find the rate functions, so the floor has
    exactly the expressions autolut would tabulate replaced by constants. Call it
    before choosing a standalone device (it builds a throw-away group).
    """
    group = traub_miles(2, method, name="floor_source")
    group_model, found, planned, _ = api._analyse(group, Options(integration_tables=False), {})
    constants = {}
    for index, item in enumerate(planned):
        if item.table is not None:
            function = brian_model.make_function(group, group_model, item.candidate.expression,
                                                 item.candidate.axis)
            value = float(np.asarray(function(np.array([v_rest]))).reshape(-1)[0])
            dimension = item.unit.dim
            unit = "1" if dimension.is_dimensionless else \
                dimension._str_representation(python_code=True)
            constants[index] = sympy.Float(value) * str_to_sympy(unit)
    rewritten = analysis.rewrite_model(group_model.model, found, constants)
    return Equations([
        SingleEquation(eq.type, eq.varname, eq.dim, var_type=eq.var_type, flags=eq.flags,
                       expr=Expression(sympy_to_str(rewritten[eq.varname])))
        if eq.varname in rewritten else eq for eq in group.user_equations.values()])


def run_variant(target, method, N, duration_ms, variant) -> dict:
    with tempfile.TemporaryDirectory(prefix="autolut_bench_") as workdir:
        output = subprocess.run(
            [sys.executable, __file__, "--worker", json.dumps(
                [target, method, N, duration_ms, variant, workdir])],
            capture_output=True, text=True, cwd=workdir)
    if output.returncode != 0:
        raise RuntimeError(f"{target}/{method}/N={N}/{variant} failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def compare(target, method, N, duration_ms) -> dict:
    exact, fast, floor = (run_variant(target, method, N, duration_ms, variant)
                          for variant in ("exact", "autolut", "floor"))
    same = sum(a == b for a, b in zip(exact["counts"], fast["counts"]))
    return dict(target=target, method=method, N=N, duration_ms=duration_ms,
                exact_s=exact["run_s"], optimized_s=fast["run_s"], floor_s=floor["run_s"],
                speedup=exact["run_s"] / fast["run_s"],
                optimized_over_floor=fast["run_s"] / floor["run_s"],
                exact_compile_s=exact["compile_s"], optimized_compile_s=fast["compile_s"],
                table_build_s=fast["optimize_s"],
                identical_counts=same, spikes_exact=sum(exact["counts"]),
                spikes_optimized=sum(fast["counts"]))


HEADER = (f"{'target':15} {'method':18} {'N':>6} {'exact s':>8} {'autolut s':>9} "
          f"{'floor s':>8} {'speedup':>7} {'aut/floor':>9} {'compile s exact/aut':>19} "
          f"{'tables s':>8} {'same counts':>12} {'spikes exact/aut':>17}")


def format_row(r: dict) -> str:
    return (f"{r['target']:15} {r['method']:18} {r['N']:>6} {r['exact_s']:8.2f} "
            f"{r['optimized_s']:9.2f} {r['floor_s']:8.2f} {r['speedup']:6.2f}x "
            f"{r['optimized_over_floor']:8.2f}x "
            f"{r['exact_compile_s']:9.1f}/{r['optimized_compile_s']:<9.1f} "
            f"{r['table_build_s']:8.2f} {r['identical_counts']:>5}/{r['N']:<6} "
            f"{r['spikes_exact']:>8}/{r['spikes_optimized']:<8}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="numpy,cython,cpp_standalone")
    parser.add_argument("--methods", default="exponential_euler,euler")
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--duration", type=float, default=200.0, help="simulated ms")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(simulate(*json.loads(args.worker))))
        return
    rows = []
    print(HEADER, flush=True)
    for target in args.targets.split(","):
        for method in args.methods.split(","):
            for N in map(int, args.sizes.split(",")):
                rows.append(compare(target, method, N, args.duration))
                print(format_row(rows[-1]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
