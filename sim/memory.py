"""Keep freed memory for reuse instead of handing it back to the OS after every big array.

A run allocates and frees arrays over the whole population many times a month (5 million
beneficiaries: 40 MB per int64 column). glibc serves any block above its mmap threshold
(128 KB, rising to at most 32 MB) with a fresh `mmap` and unmaps it on free, so every such
array is paged in again, one zeroed page fault at a time: on the national run a quarter of the
wall time went to the kernel. Raising the mmap and trim thresholds lets freed blocks be reused
from the heap. Peak memory is what the run holds at its busiest either way; the heap keeps
about that much until the process ends (measured by `benchmarks/national.py`).

Threads started afterwards share the main arena (M_ARENA_MAX=1), so that what they free is kept
the same way. Does nothing off glibc (macOS, Windows, musl): there the run is only slower. Setting the
environment variable WELFARE_SIM_SYSTEM_MALLOC=1 leaves the allocator as it is.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
_KEEP_BYTES = 1 << 30  # blocks up to 1 GiB come from the heap; up to 1 GiB free is kept

_done: bool | None = None


def keep_freed_memory() -> bool:
    """Tune glibc malloc once per process; True if it was tuned (glibc only)."""
    global _done
    if _done is not None:
        return _done
    _done = False
    if os.environ.get("WELFARE_SIM_SYSTEM_MALLOC"):  # opt out (benchmarks compare both)
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _done = bool(mallopt(_M_MMAP_THRESHOLD, _KEEP_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEEP_BYTES))
    # Threads started from now on (polars' pool, the recorder) allocate from the main arena, which
    # keeps freed memory as set above; each would otherwise get an arena of its own whose heaps (at
    # most 64 MiB) are handed back and paged in again. On a 2-million-beneficiary run this halved
    # the page faults (docs/performance.md). A thread that already has an arena keeps it: a Dask
    # worker's task thread does, so its workers are best started with MALLOC_ARENA_MAX=1.
    mallopt(_M_ARENA_MAX, 1)
    return _done
