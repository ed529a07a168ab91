"""The dry-run report: one row per candidate subexpression, printable and as plain data."""

from __future__ import annotations

import dataclasses
import html

from brian2 import Quantity

from .analysis import LOOKUP_COST

__all__ = ["Row", "Report"]



@dataclasses.dataclass(frozen=True)
class Row:
    """One candidate subexpression of a group and what autolut does with it.

    ``low``, ``high``, ``step`` and ``max_error`` (the largest absolute error
    measured) are Brian2 quantities (None for candidates that got no table).
    ``relative_error`` is the largest error relative to the function's local
    magnitude, with a floor at its largest magnitude where the neuron lives
    (what the tolerance bounds, see `autolut.tabulate.ErrorScale`); it is found
    at the axis value ``worst``, where the function is ``worst_value``.
    ``segments`` is 1 for a uniform grid; a piecewise-uniform grid has that many
    equal segments, each with its own step, and ``step`` is the smallest of them.

    A 2-D table (``variable`` names both axes, ``'v, Ca'``) has ``low``,
    ``high``, ``step`` and ``worst`` as pairs of quantities, one per axis, and
    ``shape`` ``(nx, ny)``; ``points`` is ``nx*ny``. ``shape`` is ``(points,)``
    for a table of one axis, and empty without a table.
    """

    name: str
    expression: str
    variable: str | None
    low: Quantity | None
    high: Quantity | None
    step: Quantity | None
    points: int
    nbytes: int
    max_error: Quantity | None
    relative_error: float | None
    tolerance: float
    cost: int
    tabulated: bool
    reason: str
    segments: int = 1
    worst: Quantity | None = None
    worst_value: Quantity | None = None
    shape: tuple[int, ...] = ()

    @property
    def saved_operations(self) -> int:
        """Estimated operations saved per evaluation (0 when not tabulated); a lookup
        costs `LOOKUP_COST` per axis."""
        return max(self.cost - LOOKUP_COST * len(self.shape), 0) if self.tabulated else 0

    def to_dict(self) -> dict:
        """Plain data: quantities as SI floats with their unit's name under
        ``<field>_unit`` (lists of both for the pairs of a 2-D table)."""
        plain = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, tuple) and value and isinstance(value[0], Quantity):
                plain[field.name] = [float(part) for part in value]
                plain[field.name + "_unit"] = [_unit_name(part) for part in value]
            elif isinstance(value, Quantity):
                plain[field.name] = float(value)           # SI
                plain[field.name + "_unit"] = _unit_name(value)
            else:
                plain[field.name] = list(value) if isinstance(value, tuple) else value
        plain["saved_operations"] = self.saved_operations
        return plain


def _unit_name(quantity: Quantity) -> str:
    return str(quantity.get_best_unit()) if hasattr(quantity, "get_best_unit") else ""


@dataclasses.dataclass(frozen=True)
class Report:
    """What autolut does (or would do) to one group.

    ``print(report)`` shows a table; ``report.candidates`` holds the `Row`
    objects; ``report.to_dict()`` gives plain data.
    """

    group: str
    tolerance: float
    candidates: tuple[Row, ...]
    axes: tuple[str, ...] = ()  # the range of every table axis, and where it comes from

    @property
    def tabulated(self) -> tuple[Row, ...]:
        return tuple(row for row in self.candidates if row.tabulated)

    @property
    def nbytes(self) -> int:
        return sum(row.nbytes for row in self.tabulated)

    def to_dict(self) -> dict:
        return {"group": self.group, "tolerance": self.tolerance,
                "table_bytes": self.nbytes, "axes": list(self.axes),
                "candidates": [row.to_dict() for row in self.candidates]}

    _HEADER = ("from", "expression", "axis", "range", "step", "points", "memory", "max error",
               "rel. error", "at", "ops saved", "tabulated")

    def _summary(self) -> str:
        return (f"autolut report for '{self.group}': {len(self.tabulated)} of "
                f"{len(self.candidates)} candidate expressions tabulated, "
                f"{self.nbytes / 1024:.1f} KiB of tables, tolerance {self.tolerance:g} "
                f"(error relative to each function's value, and at least to its largest "
                f"value where the neuron lives)")

    def _cells(self) -> list[tuple[str, ...]]:
        """One tuple of texts per candidate, in the columns of `_HEADER`."""
        rows = []
        for row in self.candidates:
            if (row.tabulated or row.points) and len(row.shape) == 2:
                cells = (" x ".join(f"[{_short(low)}, {_short(high)}]"
                                    for low, high in zip(row.low, row.high)),
                         " x ".join(_short(step) for step in row.step),
                         f"{row.points} ({row.shape[0]} x {row.shape[1]})",
                         f"{row.nbytes / 1024:.1f} KiB", _short(row.max_error),
                         f"{row.relative_error:.1e}",
                         "(" + ", ".join(_short(value) for value in row.worst) + ")")
            elif row.tabulated or row.points:
                cells = (f"[{_short(row.low)}, {_short(row.high)}]",
                         _short(row.step) + (" (smallest)" if row.segments > 1 else ""),
                         str(row.points) + (f" in {row.segments} segments"
                                            if row.segments > 1 else ""),
                         f"{row.nbytes / 1024:.1f} KiB", _short(row.max_error),
                         f"{row.relative_error:.1e}", _short(row.worst))
            else:
                cells = ("", "", "", "", "", "", "")
            rows.append((row.name, _shorten(row.expression), row.variable or "", *cells,
                         str(row.saved_operations) if row.tabulated else "",
                         "yes" if row.tabulated else "no: " + row.reason))
        return rows

    def __str__(self) -> str:
        lines = [self._summary()] + [f"  axis {text}" for text in self.axes]
        rows = [self._HEADER] + self._cells()
        widths = [max(len(r[k]) for r in rows) for k in range(len(self._HEADER) - 1)]
        for r in rows:
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths)) + "  " + r[-1])
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):  # IPython's text display
        printer.text(str(self))

    def _repr_html_(self) -> str:
        """The report as an HTML table (Jupyter notebooks)."""
        def cells(texts, tag):
            return "".join(f"<{tag} style='text-align:left'>{html.escape(text)}</{tag}>"
                           for text in texts)

        axes = "".join(f"<li>axis {html.escape(text)}</li>" for text in self.axes)
        rows = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in self._cells())
        return (f"<p>{html.escape(self._summary())}</p><ul>{axes}</ul>"
                f"<table><thead><tr>{cells(self._HEADER, 'th')}</tr></thead>"
                f"<tbody>{rows}</tbody></table>")


def _short(quantity) -> str:
    if isinstance(quantity, Quantity) and not quantity.is_dimensionless:
        return quantity.in_best_unit(precision=3)
    return f"{float(quantity):.3g}"


def _shorten(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
