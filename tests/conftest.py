"""Fixtures shared by the test modules."""

import pytest


@pytest.fixture
def numpy_target():
    import brian2
    previous = brian2.prefs.codegen.target
    brian2.prefs.codegen.target = "numpy"
    yield
    brian2.prefs.codegen.target = previous
