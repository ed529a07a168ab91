"""The autolut benchmark: ``python -m benchmarks`` (``--quick`` for CI).

Measures, side by side on one machine, the simulation time of published
Hodgkin–Huxley-type models (`benchmarks.models`: the Traub–Miles COBA-HH
network, the Wang–Buzsaki interneuron, the Rothman–Manis VCN neuron, the squid
axon as a SpatialNeuron, Traub–Miles and Pospischil populations with a
constant or a per-neuron threshold shift, a neuron with a BK current) on the
numpy, cython and cpp_standalone targets, for populations of 100 to 100 000
neurons, in several variants (`benchmarks.variants`): exact Brian2, autolut,
hand-made lut4brian-style tables (the prior art) and the floor (rates
constant). Next to every time: the speedup over exact Brian2, the time per
neuron-step, the compile time, the table-build time, and the spike agreement
with the exact model (`benchmarks.agreement`). A second section compares the
cost of autolut's ``out_of_range`` policies.

Every measurement runs in a subprocess of its own (`benchmarks.worker`,
`benchmarks.runner`); the results go to JSON, Markdown, text and a PNG plot
(`benchmarks.report`, `benchmarks.plot`).
"""
