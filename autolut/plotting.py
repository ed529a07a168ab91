"""Plots of an optimized group's tables (matplotlib, optional: ``pip install 'autolut[plot]'``).

Like brian2tools' plotting functions, every function draws on the Axes it is
given (or on new ones) and returns them, labelled with names and units.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from brian2 import NeuronGroup
>>> import autolut
>>> group = autolut.optimize(NeuronGroup(1, '''dv/dt = (-65*mV - v)/(10*ms) : volt
...     dm/dt = (1 - m)/exprel(-(v + 40*mV)/(10*mV))/ms
...             - 4*m*exp(-(v + 65*mV)/(18*mV))/ms : 1'''))
>>> axes = autolut.plot_tables(group)
>>> axes.shape, axes[0, 0].get_ylabel(), axes[1, 0].get_xlabel()
((2, 2), 'lut_m (kHz)', 'v (mV)')
"""

from __future__ import annotations

import numpy as np
from brian2.units.fundamentalunits import get_dimensions, get_unit

from .options import display_unit
from .views import TableView, tables

__all__ = ["plot_table", "plot_tables"]

#: Points at which the curves and the error are drawn (per axis of a 2-D table:
#: `SAMPLES_2D`).
SAMPLES = 4001
SAMPLES_2D = 201


def _pyplot():
    try:
        import matplotlib.pyplot as pyplot
    except ImportError:
        raise ImportError("autolut's plots need matplotlib: pip install 'autolut[plot]' "
                          "(or pip install matplotlib)") from None
    return pyplot


def plot_table(table: TableView, axes=None):
    """Draw one table: the exact curve with the table above, the error below.

    Parameters
    ----------
    table : TableView
        A table of `autolut.tables(group)`.
    axes : pair of matplotlib Axes, optional
        Where to draw the curves and the error; new ones (one figure) if None.

    Returns
    -------
    (Axes, Axes)
        The curves' Axes and the error's Axes. The error is drawn relative to
        the table's error scale (what the tolerance bounds), on a log scale,
        with the tolerance as a dashed line. A 2-D table is drawn as two maps
        over its axes: the exact function, and the error's base-10 logarithm.
    """
    if axes is None:
        _, axes = _pyplot().subplots(2, 1, sharex=True, figsize=(6, 5))
    if table.dimensions == 2:
        return _plot_table_2d(table, axes)
    curve_ax, error_ax = axes
    grid = np.asarray(table.grid)
    x = np.linspace(grid[0], grid[-1], SAMPLES)
    x_scale, x_unit = display_unit(get_unit(get_dimensions(table.grid)),
                                   max(abs(grid[0]), abs(grid[-1])))
    exact = np.asarray(table.exact(x))
    y_scale, y_unit = display_unit(get_unit(get_dimensions(table.values)),
                                   float(np.max(np.abs(exact[np.isfinite(exact)]), initial=0)))
    curve_ax.plot(x / x_scale, exact / y_scale, color="0.6", lw=3, label="exact")
    curve_ax.plot(x / x_scale, np.asarray(table.lookup(x)) / y_scale, color="C0", lw=1,
                  label=f"table ({len(grid)} points)")
    curve_ax.set(ylabel=f"{table.name} ({y_unit})" if y_unit else table.name,
                 title=f"{table.name}: {', '.join(table.origins)}")
    curve_ax.legend(loc="best", fontsize="small")
    error = np.abs(np.asarray(table.lookup(x)) - exact) / np.asarray(table.error_scale(x))
    error_ax.semilogy(x / x_scale, np.where(error > 0, error, np.nan), color="C1", lw=0.8)
    error_ax.axhline(table.tolerance, color="k", ls="--", lw=1,
                     label=f"tolerance {table.tolerance:g}")
    error_ax.set(xlabel=f"{table.variable} ({x_unit})" if x_unit else table.variable,
                 ylabel="error / scale")
    error_ax.legend(loc="best", fontsize="small")
    return curve_ax, error_ax


def _plot_table_2d(table: TableView, axes):
    """`plot_table` of a 2-D table: maps of the exact function and of the error."""
    curve_ax, error_ax = axes
    samples, scales, labels = [], [], []
    for grid, name in zip(table.grid, table.variable.split(", ")):
        scale, unit = display_unit(get_unit(get_dimensions(grid)),
                                   max(abs(float(grid[0])), abs(float(grid[-1]))))
        grid = np.asarray(grid)
        samples.append(np.linspace(grid[0], grid[-1], SAMPLES_2D))
        scales.append(scale)
        labels.append(f"{name} ({unit})" if unit else name)
    x, y = samples[0][:, None], samples[1][None, :]
    exact = np.asarray(table.exact(x, y))
    z_scale, z_unit = display_unit(get_unit(get_dimensions(table.values)),
                                   float(np.max(np.abs(exact[np.isfinite(exact)]), initial=0)))
    shown = (samples[0] / scales[0], samples[1] / scales[1])
    mesh = curve_ax.pcolormesh(*shown, (exact / z_scale).T, shading="auto")
    curve_ax.figure.colorbar(mesh, ax=curve_ax, label=z_unit or None)
    curve_ax.set(ylabel=labels[1], title=f"{table.name}: {', '.join(table.origins)} "
                                         f"({' x '.join(map(str, table.values.shape))} points)")
    error = np.abs(np.asarray(table.lookup(x, y)) - exact) / np.asarray(table.error_scale(x, y))
    with np.errstate(divide="ignore"):
        mesh = error_ax.pcolormesh(*shown, np.log10(np.where(error > 0, error, np.nan)).T,
                                   shading="auto", vmax=np.log10(table.tolerance))
    error_ax.figure.colorbar(mesh, ax=error_ax, label="log10(error / scale)")
    error_ax.set(xlabel=labels[0], ylabel=labels[1],
                 title=f"tolerance {table.tolerance:g} (the colour scale's top)")
    return curve_ax, error_ax


def plot_tables(group, axes=None):
    """Draw every table of an optimized group (see `plot_table`), one column each.

    Parameters
    ----------
    group : NeuronGroup
        An optimized group.
    axes : array of matplotlib Axes of shape (2, number of tables), optional
        New ones (one figure) if None.

    Returns
    -------
    numpy.ndarray of Axes, shape (2, number of tables)
        Curves in the first row, errors in the second.
    """
    views = tables(group)
    if not views:
        raise ValueError(f"autolut: group '{group.name}' has no tables to plot")
    if axes is None:
        _, axes = _pyplot().subplots(2, len(views), sharex="col", squeeze=False,
                                     figsize=(4 * len(views), 5), constrained_layout=True)
    axes = np.asarray(axes).reshape(2, len(views))
    for column, view in enumerate(views):
        plot_table(view, axes[:, column])
    return axes
