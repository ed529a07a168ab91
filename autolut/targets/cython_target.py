"""The cython target: the C function of `c_kernel`, behind a Cython wrapper.

The lookup is C code in a ``cdef extern`` block; a ``cdef inline`` wrapper
passes it the table bank's array (a Cython global that C code cannot name).
Declared ``noexcept nogil``, the lookup has no Python-level work per call (no
exception check, no bounds check, no Python division semantics): the same
inlined C as on cpp_standalone. The table bank is a Function namespace array,
loaded from the code object's namespace on every run: new values need no
recompile, a new grid changes the literals and recompiles.

With ``out_of_range='error'`` a lookup outside the range sets a Python
``RuntimeError`` and returns -1; the function is declared ``except? -1`` so
that Cython checks for the error only when -1 comes back.
"""

from __future__ import annotations

from . import c_kernel

__all__ = ["implementation"]


def _fail(message: str) -> str:
    return f"PyErr_SetString(PyExc_RuntimeError, {message});"


def implementation(lut):
    def code(owner):
        inner = f"{lut.name}_lookup"
        packed = f"_namespace{lut.bank.key}"
        axes = c_kernel.ARGUMENTS[:len(lut.axes)]  # x (and y)
        error = lut.policy == "error"
        flags = "except? -1.0" if error else "noexcept nogil"
        neuron = ["neuron"] if error else []
        signature = ", ".join([f"double {axis}" for axis in axes] + ["int neuron"] * error)
        declaration = ", ".join([f"double {axis}" for axis in axes] + ["const double* packed"]
                                + ["int neuron"] * error)
        call = ", ".join([*axes, packed, *neuron])
        source = c_kernel.function_source(lut, _fail, name=inner, packed="packed")
        return (c_kernel.cython_extern(source, f"double {inner}({declaration}) {flags}")
                + f"cdef inline double {lut.name}({signature}) {flags}:\n"
                  f"    return {inner}({call})\n")

    # The table array comes with the bank, a dependency: loaded once per file.
    return dict(code=code, name=lut.name, namespace=lambda owner: {},
                dependencies={lut.bank.name: lut.bank})
