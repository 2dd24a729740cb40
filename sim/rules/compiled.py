"""Rules that compiled code calls: one definition, run by numpy and by numba alike.

:func:`jitable` marks a rule written in the subset of Python both understand (arithmetic and
comparisons on scalars, positional arguments). Called from Python it is the plain function, so
it broadcasts over numpy arrays as before and the Mesa agents call it on floats; called from a
numba-compiled function (the core's month step, :mod:`sim.engine.kernel`) numba compiles the
same source for the scalar types it is given. There is no second implementation to keep in step.
"""

from __future__ import annotations

from collections.abc import Callable

from numba.extending import register_jitable


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
