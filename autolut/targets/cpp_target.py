"""The cpp_standalone target: a static inline C++ function per table.

The table bank reaches the code as a Function namespace array, which the
standalone device writes to ``static_arrays/<key>`` and loads at start-up; the
grid constants are literals in the code. No file is written by autolut.
"""

from __future__ import annotations

from brian2.devices.device import get_device

from . import c_kernel

__all__ = ["implementation", "check_device"]

SUPPORTED_DEVICES = ("CPPStandaloneDevice",)


def check_device():
    """Refuse C++-derived devices (brian2cuda, brian2genn...) that would reuse this code."""
    device = type(get_device()).__name__
    if device not in SUPPORTED_DEVICES:
        raise NotImplementedError(
            f"autolut tables have no implementation for the device '{device}'. "
            f"Supported: the runtime device (numpy and cython targets) and "
            f"cpp_standalone. Call autolut.restore(group) to run the exact model.")


def implementation(lut):
    def code(owner):
        return (f"static inline double {lut.name}(const double x)\n{{\n"
                f"    return {c_kernel.call('x', lut)};\n}}\n")

    # The table array comes with the bank, a dependency: loaded once per file.
    return dict(code=code, name=lut.name, availability_check=check_device,
                namespace=lambda owner: {},
                dependencies={c_kernel.HELPER_NAME: c_kernel.HELPER, lut.bank.name: lut.bank})
