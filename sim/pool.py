"""Process pools whose workers die with the process that started them.

A worker of a plain ProcessPoolExecutor outlives a parent killed with SIGKILL: it waits for work
that never comes, and keeps multiprocessing's resource tracker alive with it (the tracker exits
only once every process holding its pipe has gone). Each worker here therefore

* asks Linux to send it SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG), and
* runs a watchdog thread that ends it once its parent process id changes (it was re-parented),
  which also covers a parent that died before the prctl call and systems without prctl.

With the workers gone the resource tracker sees its pipe close and exits on its own.
Workers are spawned (not forked): they start clean, without copies of the parent's threads and
locks (polars and the recorder thread hold some), and import the package themselves.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

PR_SET_PDEATHSIG = 1
WATCH_INTERVAL_S = 0.2


def die_with_parent(parent_pid: int) -> None:
    """Make this process end when `parent_pid` (its parent) ends."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (AttributeError, OSError):
            pass  # the watchdog below still ends the process
    if os.getppid() != parent_pid:  # the parent died before the prctl call took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid,), name="welfare-sim-parent-watch", daemon=True).start()


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_INTERVAL_S)
    os._exit(1)


def _start_worker(parent_pid: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    die_with_parent(parent_pid)
    if initializer is not None:
        initializer(*initargs)


def process_pool(
    workers: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """A spawn-context ProcessPoolExecutor of `workers` processes that die with this one.

    Create it from the main thread: Linux sends the death signal when the *thread* that started
    a worker ends."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(os.getpid(), initializer, initargs),
    )


def connect_dask(address: str) -> Any:  # noqa: ANN401 (a distributed.Client; dask is an optional extra)
    """A client of the Dask scheduler at `address`, or bad input that says how to start one. Waits
    up to distributed.comm.timeouts.connect (30 s by default; the environment variable
    DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s gives up sooner)."""
    from distributed import Client

    from welfare_sim.sim.scenario import ScenarioError

    try:
        return Client(address)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ScenarioError(
            [
                f"--scheduler {address}: cannot reach a Dask scheduler there ({exc}); start one with "
                "`dask scheduler` and give its address, such as tcp://10.0.0.5:8786"
            ]
        ) from None
