"""`autolut demo`: a Hodgkin–Huxley population, exact vs optimized, side by side.

The model is the Traub & Miles (1991) neuron of the COBA-HH benchmark (Brette et
al. 2007), with an input current rising with the neuron index so that the
population covers silent to fast-firing neurons.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from brian2 import (Equations, NeuronGroup, SpikeMonitor, cm, defaultclock, device, ms,
                    msiemens, mV, nA, prefs, run, set_device, siemens, start_scope, ufarad,
                    umetre)

__all__ = ["TRAUB_MILES", "TRAUB_MILES_NAMESPACE", "traub_miles", "main"]

_AREA = 20000 * umetre**2
TRAUB_MILES_NAMESPACE = dict(
    Cm=1 * ufarad * cm**-2 * _AREA, gl=5e-5 * siemens * cm**-2 * _AREA, El=-65 * mV,
    EK=-90 * mV, ENa=50 * mV, g_na=100 * msiemens * cm**-2 * _AREA,
    g_kd=30 * msiemens * cm**-2 * _AREA, VT=-63 * mV)
TRAUB_MILES = Equations("""
dv/dt = (gl*(El-v) - g_na*(m*m*m)*h*(v-ENa) - g_kd*(n*n*n*n)*(v-EK) + I)/Cm : volt
dm/dt = 0.32*(mV**-1)*4*mV/exprel((13.*mV-v+VT)/(4*mV))/ms*(1-m)-0.28*(mV**-1)*5*mV/exprel((v-VT-40.*mV)/(5*mV))/ms*m : 1
dn/dt = 0.032*(mV**-1)*5*mV/exprel((15.*mV-v+VT)/(5*mV))/ms*(1.-n)-.5*exp((10.*mV-v+VT)/(40.*mV))/ms*n : 1
dh/dt = 0.128*exp((17.*mV-v+VT)/(18.*mV))/ms*(1.-h)-4./(1+exp((40.*mV-v+VT)/(5.*mV)))/ms*h : 1
I : amp
""")


def traub_miles(N: int, method: str = "exponential_euler", I_max=1.5 * nA, name=None,
                equations=TRAUB_MILES):
    """A Traub–Miles population whose drive rises from 0 to `I_max` with the index."""
    group = NeuronGroup(N, equations, threshold="v > -20*mV", refractory=3 * ms,
                        method=method, namespace=dict(TRAUB_MILES_NAMESPACE, I_max=I_max),
                        name=name or "traub_miles*")
    group.v = -65 * mV
    group.I = "I_max * i / (N - 1)"
    return group


def _simulate(N, duration, method, target, optimize_group, options, directory):
    from . import api
    start_scope()
    defaultclock.dt = 0.01 * ms
    if target == "cpp_standalone":
        set_device("cpp_standalone", directory=directory, build_on_run=False)
    else:
        prefs.codegen.target = target
    group = traub_miles(N, method)
    spikes = SpikeMonitor(group)
    report = None
    if optimize_group:
        api.optimize(group, **options)
        report = api.report(group)
    if target == "cpp_standalone":
        run(duration)
        device.build(directory=directory, compile=True, run=True)
        elapsed = device._last_run_time
        counts = np.asarray(spikes.count[:]).copy()
        device.reinit()
        set_device("runtime")
        return counts, elapsed, report
    run(defaultclock.dt)  # code generation and compilation, timed apart
    start = time.perf_counter()
    run(duration)
    elapsed = time.perf_counter() - start
    return np.asarray(spikes.count[:]).copy(), elapsed, report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="autolut demo", description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=200.0, help="simulated ms")
    parser.add_argument("--target", default="numpy",
                        choices=["numpy", "cython", "cpp_standalone"])
    parser.add_argument("--method", default="exponential_euler")
    parser.add_argument("--tolerance", type=float, default=None)
    args = parser.parse_args(argv)
    from . import api
    options = {} if args.tolerance is None else {"tolerance": args.tolerance}
    duration = args.duration * ms
    print(f"simulating {args.neurons} neurons for {duration} on {args.target} "
          f"({args.method}), exact and optimized ...", flush=True)
    import tempfile
    with tempfile.TemporaryDirectory(prefix="autolut_demo_") as tmp:
        exact, t_exact, _ = _simulate(args.neurons, duration, args.method, args.target, False,
                                      options, tmp + "/exact")
        fast, t_fast, report = _simulate(args.neurons, duration, args.method, args.target,
                                         True, options, tmp + "/optimized")
    print(report, end="\n\n")
    same = int(np.sum(exact == fast))
    print(f"exact:     {t_exact:7.2f} s   {exact.sum()} spikes")
    print(f"optimized: {t_fast:7.2f} s   {fast.sum()} spikes")
    print(f"speed ratio exact/optimized: {t_exact / t_fast:.2f}x")
    print(f"neurons with identical spike counts: {same} of {args.neurons} "
          f"(max difference {int(np.max(np.abs(exact - fast)))})")
    return 0
