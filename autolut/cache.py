"""Where autolut keeps files between processes: a per-user cache directory.

Never inside the installed package: a cache written into ``site-packages/autolut``
outlives ``pip uninstall`` (pip only removes the files it installed), and the
leftover directory then shadows a later editable install as an empty namespace
package. Like numba and Brian2, autolut caches per user instead:
``$AUTOLUT_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/autolut``, else
``~/.cache/autolut``.
"""

from __future__ import annotations

import os

__all__ = ["cache_directory", "cache_numba_kernel"]


def cache_directory() -> str:
    """The per-user cache directory of autolut (not created here)."""
    if os.environ.get("AUTOLUT_CACHE_DIR"):
        return os.environ["AUTOLUT_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "autolut")


def cache_numba_kernel(dispatcher):
    """Have numba cache the compiled `dispatcher` in ``cache_directory()/numba``.

    Uses numba's cache classes (``numba.core.caching``); with a numba that has
    other ones, or without a writable cache directory, the kernel is compiled
    once per process instead.
    """
    try:
        from numba.core.caching import (CompileResultCacheImpl, FunctionCache,
                                        UserProvidedCacheLocator)
    except ImportError:
        return dispatcher

    class Locator(UserProvidedCacheLocator):
        def __init__(self, py_func, py_file):
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            # one subdirectory per installation (numba's own scheme)
            self._cache_path = os.path.join(cache_directory(), "numba",
                                            self.get_suitable_cache_subpath(py_file))

        @classmethod
        def from_function(cls, py_func, py_file):
            locator = cls(py_func, py_file)
            try:
                locator.ensure_cache_path()
            except OSError:
                return None
            return locator

    class Implementation(CompileResultCacheImpl):
        _locator_classes = [Locator]

    class Cache(FunctionCache):
        _impl_class = Implementation

    try:
        dispatcher._cache = Cache(dispatcher.py_func)
    except (RuntimeError, OSError, AttributeError):
        pass  # compiled once per process
    return dispatcher
