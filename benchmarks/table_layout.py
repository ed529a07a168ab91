"""Does an interleaved table layout pay off? Separate arrays vs one row per grid point.

All tables of one axis share one grid, so that the compiler computes the index
``(i, f)`` once per neuron for all lookups of the same ``v``. They can be stored
as one array per table (value and slope side by side), or interleaved, all
curves of a grid point in one row (as MOOSE's HSolve and chaste_codegen do;
autolut's `TableBank` does this since this benchmark measured it faster). The
access pattern is the real one: the gate update of the Traub–Miles model (3
gates, 6 tables of 7475 points, the grid autolut builds at dt = 0.01 ms) for
the membrane potentials of a simulated population (recorded on the numpy
target), compiled with Brian2's default flags.

Variants, in one C program, timed side by side (best of 5):

* ``separate``: 6 arrays, one per table, index shared by the compiler;
* ``interleaved``: one array, the 6 (value, slope) pairs of a grid point in one row
  (autolut's layout).

Usage: ``python benchmarks/table_layout.py [--neurons 10000]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CURVES, POINTS, LOW, HIGH = 6, 7475, -0.12, 0.08

C_PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define K %(curves)d
#define NPOINTS %(points)d
static const double LOW = %(low)r, INV = %(inv)r, LAST = %(last)r;

static inline void index_of(double x, int* i, double* f) {
    double u = (x - LOW) * INV;
    u = u > 0.0 ? u : 0.0;
    u = u < LAST ? u : LAST;
    *i = (int)u; *f = u - *i;
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
                          return t.tv_sec + 1e-9 * t.tv_nsec; }

__attribute__((noinline)) void separate(int n, const double* v, double* g,
                                        double* const* tables) {
    for (int j = 0; j < n; j++) {
        int i; double f; index_of(v[j], &i, &f);
        for (int c = 0; c < K; c += 2) {
            double inf = tables[c][2*i] + f * tables[c][2*i+1];
            double fac = tables[c+1][2*i] + f * tables[c+1][2*i+1];
            g[3*j + c/2] = inf + (g[3*j + c/2] - inf) * fac;
        }
    }
}
__attribute__((noinline)) void interleaved(int n, const double* v, double* g,
                                           const double* rows) {
    for (int j = 0; j < n; j++) {
        int i; double f; index_of(v[j], &i, &f);
        const double* row = rows + 2*K*i;
        for (int c = 0; c < K; c += 2) {
            double inf = row[2*c] + f * row[2*c+1];
            double fac = row[2*c+2] + f * row[2*c+3];
            g[3*j + c/2] = inf + (g[3*j + c/2] - inf) * fac;
        }
    }
}

int main(int argc, char** argv) {
    FILE* in = fopen(argv[1], "rb");
    int n, steps; fread(&n, sizeof(int), 1, in); fread(&steps, sizeof(int), 1, in);
    double* v = malloc(sizeof(double) * n * steps);
    fread(v, sizeof(double), (size_t)n * steps, in); fclose(in);
    double* tables[K]; double* rows = malloc(sizeof(double) * 2 * K * NPOINTS);
    for (int c = 0; c < K; c++) {
        tables[c] = malloc(sizeof(double) * 2 * NPOINTS);
        for (int p = 0; p < NPOINTS; p++) {
            double value = 0.5 + 0.4 * (p %% 97) / 97.0 * (c %% 2 ? 1 : -1);
            tables[c][2*p] = rows[2*K*p + 2*c] = value;
            tables[c][2*p+1] = rows[2*K*p + 2*c + 1] = 1e-4;
        }
    }
    double* g = calloc(3 * (size_t)n, sizeof(double));
    const char* names[2] = {"separate", "interleaved (autolut)"};
    for (int variant = 0; variant < 2; variant++) {
        double best = 1e30;
        for (int repeat = 0; repeat < 5; repeat++) {
            double start = now();
            for (int s = 0; s < steps; s++) {
                if (variant == 0) separate(n, v + (size_t)s * n, g, tables);
                else interleaved(n, v + (size_t)s * n, g, rows);
            }
            double t = now() - start;
            best = t < best ? t : best;
        }
        printf("%%-28s %%8.2f ns per neuron-step\n", names[variant], 1e9 * best / n / steps);
    }
    double check = 0; for (int j = 0; j < 3 * n; j++) check += g[j];
    fprintf(stderr, "checksum %%g\n", check);
    return 0;
}
"""


def recorded_voltages(neurons: int, steps: int) -> np.ndarray:
    """Membrane potentials (steps × neurons, volt) of the demo population, every 0.1 ms."""
    from brian2 import StateMonitor, defaultclock, ms, prefs, run

    import autolut
    from autolut.models import traub_miles

    prefs.codegen.target = "numpy"
    defaultclock.dt = 0.01 * ms
    group = autolut.optimize(traub_miles(neurons))
    run(20 * ms)  # past the initial transient
    monitor = StateMonitor(group, "v", record=True, dt=0.1 * ms)
    run(steps * 0.1 * ms)
    return np.ascontiguousarray(monitor.v_[:].T)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=10000)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args(argv)
    v = recorded_voltages(args.neurons, args.steps)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with open(tmp / "v.bin", "wb") as out:
            np.array(v.shape[::-1], dtype=np.int32).tofile(out)
            v.astype(np.float64).tofile(out)
        source = C_PROGRAM % dict(curves=CURVES, points=POINTS, low=LOW,
                                  inv=(POINTS - 1) / (HIGH - LOW), last=float(POINTS - 1))
        (tmp / "layout.c").write_text(source)
        flags = ["-O3", "-ffast-math", "-fno-finite-math-only", "-march=native"]  # Brian2's
        subprocess.run(["gcc", *flags, str(tmp / "layout.c"), "-o", str(tmp / "layout")],
                       check=True)
        print(f"{args.neurons} neurons x {args.steps} recorded steps, {CURVES} tables of "
              f"{POINTS} points ({CURVES * POINTS * 16 / 1024:.0f} KiB), gcc {' '.join(flags)}")
        sys.stdout.flush()
        subprocess.run([str(tmp / "layout"), str(tmp / "v.bin")], check=True)


if __name__ == "__main__":
    main()
