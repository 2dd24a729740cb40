"""Rules that compiled code calls: one definition, run by numpy and by numba alike.

:func:`jitable` marks a rule written in the subset of Python both understand (arithmetic and
comparisons on scalars, positional arguments). Called from Python it is the plain function, so
it broadcasts over numpy arrays as before and the Mesa agents call it on floats; called from a
numba-compiled function (the core's month step, :mod:`sim.engine.kernel`) numba compiles the
same source for the scalar types it is given. There is no second implementation to keep in step.

:func:`ndtr` and :func:`log_ndtr` are scipy's normal distribution function and its logarithm,
callable from both sides too: from Python they are :func:`scipy.special.ndtr` and
:func:`scipy.special.log_ndtr`; compiled code calls the same C functions, which scipy exports
through :mod:`scipy.special.cython_special`, so both give the same bits.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

import llvmlite.binding as llvm
import scipy.special.cython_special as cython_special
from numba import types
from numba.extending import get_cython_function_address, overload, register_jitable
from numpy.typing import ArrayLike, NDArray
from scipy import special


def jitable[F: Callable](fn: F) -> F:
    """Make ``fn`` callable from numba-compiled code; returns ``fn`` itself, unchanged.

    ``fn`` must take positional arguments only (numba binds no keyword-only ones) and use only
    operations numba compiles for scalars.

    References
    ----------
    .. [1] Lam, S. K., Pitrou, A. and Seibert, S. (2015). Numba: a LLVM-based Python JIT
       compiler. Proceedings of the Second Workshop on the LLVM Compiler Infrastructure in HPC.
    """
    return register_jitable(fn)


def _scipy_double(name: str) -> types.ExternalFunction:
    """scipy's C function ``name`` of one double, as a function compiled code calls.

    The function is found among :mod:`scipy.special.cython_special`'s exports by its signature
    (its fused variants differ in argument type, and their mangled names are not part of scipy's
    API) and registered with LLVM under a name of ours, so that numba's on-disk cache refers to
    it by name, not by an address that changes from one process to the next.
    """
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    exports = cython_special.__pyx_capi__  # type: ignore[attr-defined]
    found = [
        key
        for key, capsule in exports.items()
        if (key == name or key.endswith(f"fuse_1{name}"))
        and get_name(capsule).startswith(b"double (double,")
    ]
    if len(found) != 1:
        raise ImportError(f"scipy.special.cython_special exports no double {name}(double)")
    symbol = f"aiplus_scipy_{name}"
    llvm.add_symbol(symbol, get_cython_function_address("scipy.special.cython_special", found[0]))
    # The exported functions take a second argument, Cython's skip_dispatch flag.
    return types.ExternalFunction(symbol, types.float64(types.float64, types.intc))


_NDTR = _scipy_double("ndtr")
_LOG_NDTR = _scipy_double("log_ndtr")


def ndtr(x: ArrayLike) -> NDArray:
    """Standard normal distribution function ``Phi(x)``: :func:`scipy.special.ndtr`."""
    return special.ndtr(x)


def log_ndtr(x: ArrayLike) -> NDArray:
    """``log(Phi(x))``, precise in the lower tail: :func:`scipy.special.log_ndtr`."""
    return special.log_ndtr(x)


@overload(ndtr)
def _ndtr_compiled(x):
    """:func:`ndtr` in compiled code: scipy's C function."""
    return lambda x: _NDTR(x, 0)


@overload(log_ndtr)
def _log_ndtr_compiled(x):
    """:func:`log_ndtr` in compiled code: scipy's C function."""
    return lambda x: _LOG_NDTR(x, 0)
