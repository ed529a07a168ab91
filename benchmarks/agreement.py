"""How closely the spikes of a variant agree with those of a reference run.

For the single-cell populations (unconnected neurons, each with its own
drive) every neuron can be compared with its twin: identical spike counts, and
the shift of each spike time. The COBA-HH network is chaotic: a shift of one
spike changes the whole network's spike train within tens of milliseconds, so
it is compared statistically as well: mean rate, mean coefficient of variation
of the interspike intervals, and the Kolmogorov–Smirnov distance between the
distributions of per-neuron rates.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Spikes", "compare"]


class Spikes:
    """The spikes of one run, sorted by neuron and then time.

    Parameters
    ----------
    i, t
        Neuron indices and times (seconds) as recorded by a `SpikeMonitor`.
    N
        Number of neurons.
    """

    def __init__(self, i: np.ndarray, t: np.ndarray, N: int):
        order = np.lexsort((t, i))
        self.i, self.t = np.asarray(i)[order], np.asarray(t)[order]
        self.counts = np.bincount(self.i, minlength=N)

    @classmethod
    def load(cls, path, N: int) -> Spikes:
        """Read the ``.npz`` file written by `benchmarks.worker`."""
        with np.load(path) as data:
            return cls(data["i"], data["t"], N)

    def mean_cv(self) -> float:
        """Mean CV of the interspike intervals over the neurons with at least 3 spikes."""
        same_neuron = np.diff(self.i) == 0
        isi, owner = np.diff(self.t)[same_neuron], self.i[1:][same_neuron]
        # per-neuron sums instead of a loop over up to 100 000 neurons
        n = np.bincount(owner, minlength=len(self.counts))
        keep = n >= 2
        if not keep.any():
            return float("nan")
        mean = np.bincount(owner, isi, len(n))[keep] / n[keep]
        square = np.bincount(owner, isi**2, len(n))[keep] / n[keep]
        return float(np.mean(np.sqrt(np.maximum(square - mean**2, 0)) / mean))


def compare(reference: Spikes, other: Spikes, duration_s: float, network: bool) -> dict:
    """Agreement of `other` with `reference` (two runs of the same neurons).

    Parameters
    ----------
    reference, other
        The spikes of the two runs.
    duration_s
        Simulated time, for the rates.
    network
        Whether to add the statistical comparison (rates, CV, KS distance).

    Returns
    -------
    dict
        ``spikes`` and ``spikes_reference`` (totals); ``same_counts``: neurons
        whose spike counts are identical, out of ``neurons``;
        ``shift_mean_ms`` and ``shift_max_ms``: mean and largest absolute
        difference of paired spike times over the neurons with identical counts
        (the k-th spike of a neuron with its k-th spike; NaN without spikes);
        for networks ``rate_hz``, ``rate_reference_hz``, ``rate_change``
        (relative), ``cv``, ``cv_reference`` and ``rate_ks`` (largest
        difference of the empirical distribution functions of per-neuron
        rates, 0 to 1).
    """
    same = reference.counts == other.counts
    # with equal counts per neuron, the spikes of these neurons pair up in order
    shifts = np.abs(reference.t[same[reference.i]] - other.t[same[other.i]]) * 1e3
    result = dict(spikes=int(other.counts.sum()), spikes_reference=int(reference.counts.sum()),
                  neurons=len(same), same_counts=int(same.sum()),
                  shift_mean_ms=float(shifts.mean()) if len(shifts) else float("nan"),
                  shift_max_ms=float(shifts.max()) if len(shifts) else float("nan"))
    if network:
        rate, rate_reference = (spikes.counts.mean() / duration_s for spikes in (other, reference))
        change = rate / rate_reference - 1 if rate_reference else float("nan")
        result.update(rate_hz=float(rate), rate_reference_hz=float(rate_reference),
                      rate_change=float(change),
                      cv=other.mean_cv(), cv_reference=reference.mean_cv(),
                      rate_ks=ks_distance(reference.counts, other.counts))
    return result


def ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Kolmogorov–Smirnov distance between the empirical distributions of `a` and `b`."""
    values = np.union1d(a, b)
    cdf_a = np.searchsorted(np.sort(a), values, side="right") / len(a)
    cdf_b = np.searchsorted(np.sort(b), values, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))
