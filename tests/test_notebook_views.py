"""Notebook views: the report as an HTML table, and plots of the tables."""

import html
import sys

import matplotlib
import numpy as np
import pytest

import autolut
from autolut.models import traub_miles

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def group():
    return autolut.optimize(traub_miles(2, name="views"), namespace={})


def test_the_report_renders_as_an_html_table(group):
    report = autolut.report(group)
    text = report._repr_html_()
    assert text.count("<tr>") == len(report.candidates) + 1  # the header row
    for row in report.candidates:
        assert row.name in text
    assert "&#x27;views&#x27;" in text and "'views'" not in text  # escaped
    assert report.axes and all(f"<li>axis {html.escape(line)}</li>" in text
                               for line in report.axes)


def test_plot_tables_draws_every_table_with_its_error(group):
    views = autolut.tables(group)
    axes = autolut.plot_tables(group)
    assert axes.shape == (2, len(views))
    for column, view in enumerate(views):
        curves, errors = axes[:, column]
        assert errors.get_xlabel() == "v (mV)"
        assert curves.get_ylabel().startswith(view.name)
        exact, table = (line.get_ydata() for line in curves.get_lines())
        x = curves.get_lines()[0].get_xdata() * 1e-3  # drawn in mV
        scale = float(np.max(np.abs(view.exact(x)))) / np.max(np.abs(exact))
        np.testing.assert_allclose(table * scale, np.asarray(view.lookup(x)), rtol=1e-12)
        error = errors.get_lines()[0].get_ydata()
        assert np.nanmax(error) <= view.tolerance * (1 + 1e-6)  # what the report promised
        assert errors.get_lines()[1].get_ydata()[0] == view.tolerance
    matplotlib.pyplot.close("all")


def test_plots_need_matplotlib_and_say_how_to_get_it(group, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'autolut\[plot\]'"):
        autolut.plot_tables(group)


def test_an_unoptimized_group_has_nothing_to_plot():
    with pytest.raises(ValueError, match="not optimized"):
        autolut.plot_tables(traub_miles(2))
