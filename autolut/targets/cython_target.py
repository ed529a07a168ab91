"""The cython target: a ``cdef inline ... noexcept nogil`` wrapper around the C kernel.

``noexcept nogil`` and the C helper keep the lookup free of Python-level work
per call (no exception check, no bounds check, no Python division semantics),
so it compiles to the same inlined C as on cpp_standalone. The table bank is a
Function namespace array, loaded from the code object's namespace on every run:
new values need no recompile, a new grid changes the literals and recompiles.
"""

from __future__ import annotations

from . import c_kernel

__all__ = ["implementation"]


def implementation(lut):
    def code(owner):
        return (f"cdef inline double {lut.name}(double x) noexcept nogil:\n"
                f"    return {c_kernel.call('x', lut)}\n")

    # The table array comes with the bank, a dependency: loaded once per file.
    return dict(code=code, name=lut.name, namespace=lambda owner: {},
                dependencies={c_kernel.HELPER_NAME: c_kernel.HELPER, lut.bank.name: lut.bank})
