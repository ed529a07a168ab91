"""Fixtures shared by the test modules."""

import pytest
from brian2 import defaultclock, ms, prefs, start_scope


@pytest.fixture
def numpy_target():
    """The numpy target in a fresh scope of Brian2's magic network; afterwards the
    previous target and Brian2's default time step (0.1 ms) again. Modules that run
    at another time step set it in a fixture of their own that uses this one."""
    previous = prefs.codegen.target
    prefs.codegen.target = "numpy"
    start_scope()
    yield
    prefs.codegen.target = previous
    defaultclock.dt = 0.1 * ms
