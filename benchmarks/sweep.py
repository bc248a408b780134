"""Benchmark: a Hòa Bình sweep, serial and on a process pool. Prints runs per minute and the
parallel efficiency.

    python benchmarks/sweep.py [--runs 200] [--seeds 5] [--months 24] [--workers 2] [--dask]

The sweep varies the drive's teams (1, 2, ... one value per point) with `--seeds` seeds each:
200 runs = 40 points × 5 seeds by default, 24 months, no payments table. It runs the sweep
serially in this process (`--workers 1`), then again into a fresh folder on a spawn process
pool of `--workers` processes, and with `--dask` on a LocalCluster of that many single-thread
worker processes. Wall times include starting the workers, and the serial and parallel result
rows are checked to be identical. Speedup = serial time ÷ parallel time; parallel efficiency
= speedup ÷ workers.

To tell overheads from a busy machine it also prints, per mode: the mean time of one run inside
its worker (above the serial one: the cores were shared), the workers' busy share of the wall
time (below 100 %: start-up, dispatch, waiting), the load average before, and for the pool the
extra CPU seconds it spent beyond the serial sweep (spawning, imports, passing data); for Dask
the same, counted over the whole cluster (scheduler, nannies, workers). `--dask-cli` times a
cluster started as on real machines, `dask scheduler` plus `dask worker --nthreads 1` processes.
Dask workers get MALLOC_ARENA_MAX=1 (`--malloc-arenas ''` leaves glibc's default): their task
thread would otherwise allocate from an arena of its own, which hands freed memory back
(docs/performance.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its children that have ended."""
    import resource

    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def tree_cpu_seconds() -> float:
    """User + system CPU seconds of this process and of every live process below it: a Dask
    cluster's scheduler, nannies and workers (LocalCluster's or the CLI's), while they run."""
    import psutil

    total = 0.0
    me = psutil.Process()
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.Error:  # ended meanwhile
            continue
        total += t.user + t.system
    return total


def same_rows(tmp: str, label: str) -> bool:
    """Whether a parallel sweep's rows equal the serial ones; names the columns that differ."""
    from welfare_sim.sim.experiments.sweep import read_results

    a, b = read_results(Path(tmp) / "serial"), read_results(Path(tmp) / label)
    if a.equals(b):
        return True
    if a.columns != b.columns or a.height != b.height:
        print(f"{label}: columns or row count differ from serial", file=sys.stderr)
        return False
    differ = [c for c in a.columns if a[c].to_list() != b[c].to_list()]
    print(
        f"{label}: rows differ from serial in {', '.join(differ)} (was the model's code edited during the benchmark?)",
        file=sys.stderr,
    )
    return False


def worker_env(args: argparse.Namespace) -> dict[str, str]:
    """The Dask workers' environment: one glibc malloc arena (see sim/memory.py), unless
    --malloc-arenas says otherwise ('' leaves glibc's default, 8 per core)."""
    return {"MALLOC_ARENA_MAX": args.malloc_arenas} if args.malloc_arenas else {}


@contextlib.contextmanager
def dask_cli_cluster(workers: int, tmp: Path, env: dict[str, str]) -> Iterator[str]:
    """`dask scheduler` and `dask worker` (nannies, one thread each) as separate processes, as on
    a real cluster; yields the scheduler's address and stops both."""
    scheduler_file = tmp / "scheduler.json"
    logs = open(tmp / "dask-cli.log", "w")  # noqa: SIM115 - closed below
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--scheduler-file", str(scheduler_file),
         "--port", "0", "--no-dashboard"],
        stdout=logs, stderr=subprocess.STDOUT,
    )
    worker = None
    try:
        for _ in range(300):
            if scheduler_file.exists() and scheduler_file.stat().st_size:
                break
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", str(workers),
             "--nthreads", "1", "--no-dashboard"],
            stdout=logs, stderr=subprocess.STDOUT, env={**os.environ, **env},
        )
        from distributed import Client

        with Client(address) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for proc in (worker, scheduler):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        logs.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "hoa_binh.yaml"))
    parser.add_argument("--runs", type=int, default=200, help="runs in all (points × seeds)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dask", action="store_true", help="also time a Dask LocalCluster")
    parser.add_argument(
        "--dask-cli", action="store_true", help="also time `dask scheduler` + `dask worker` processes (the CLI)"
    )
    parser.add_argument("--malloc-arenas", default="1", help="MALLOC_ARENA_MAX for the Dask workers ('' = glibc's)")
    parser.add_argument("--skip-serial", action="store_true", help="time only the parallel run(s)")
    args = parser.parse_args()

    from welfare_sim.sim.experiments.sweep import load_sweep, run_sweep

    seeds = min(args.seeds, args.runs)
    points = max(1, args.runs // seeds)
    runs = points * seeds
    figures: dict[str, object] = {
        "scenario": Path(args.scenario).stem,
        "runs": runs,
        "points": points,
        "seeds": seeds,
        "months": args.months,
        "cores": os.cpu_count(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        sweep_file = Path(tmp) / "bench.yaml"
        sweep_file.write_text(
            yaml.safe_dump(
                {
                    "base": str(Path(args.scenario).resolve()),
                    "parameters": {"grid": {"interventions.drives.0.teams": list(range(1, points + 1))}},
                    "seeds": seeds,
                    "months": args.months,
                }
            ),
            encoding="utf-8",
        )

        def timed(label: str, **how: object) -> float:
            sweep = load_sweep(sweep_file, Path(tmp) / label)
            load = os.getloadavg()[0]
            dask = label.startswith("dask")
            cpu0 = tree_cpu_seconds() if dask else cpu_seconds()
            t = time.perf_counter()
            outcome = run_sweep(sweep, **how)  # type: ignore[arg-type]
            wall = time.perf_counter() - t
            cpu = (tree_cpu_seconds() if dask else cpu_seconds()) - cpu0
            if outcome.failures or outcome.ran != runs:
                sys.exit(f"{label}: {len(outcome.failures)} failed, {outcome.ran} of {runs} ran")
            n = int(how.get("workers") or args.workers)  # type: ignore[call-overload]
            # utilisation: share of the workers' wall time spent inside model runs; the rest is
            # start-up, dispatch and waiting for the writer. Mean run time rising above the
            # serial one means the cores were shared (other processes, memory bandwidth).
            print(
                f"{label}: {runs} runs in {wall:.1f} s = {60 * runs / wall:.1f} runs/min; "
                f"mean run {outcome.busy_s / runs:.2f} s ({outcome.busy_cpu_s / runs:.2f} CPU s); workers busy "
                f"{outcome.busy_s / (n * wall):.1%}; load average before {load:.1f}",
                file=sys.stderr,
            )
            figures[f"{label}_s"] = round(wall, 2)
            figures[f"{label}_runs_per_min"] = round(60 * runs / wall, 1)
            figures[f"{label}_mean_run_s"] = round(outcome.busy_s / runs, 3)
            figures[f"{label}_mean_run_cpu_s"] = round(outcome.busy_cpu_s / runs, 3)
            figures[f"{label}_worker_utilisation"] = round(outcome.busy_s / (n * wall), 3)
            figures[f"{label}_load_average_before"] = round(load, 2)
            figures[f"{label}_cpu_s"] = round(cpu, 2)  # Dask: the whole cluster's, its start excepted
            return wall

        serial = None if args.skip_serial else timed("serial", workers=1)
        parallel = timed("pool", workers=args.workers)
        if serial is not None:
            figures["pool_rows_identical_to_serial"] = same_rows(tmp, "pool")
            figures["pool_speedup"] = round(serial / parallel, 3)
            figures["pool_parallel_efficiency"] = round(serial / parallel / args.workers, 3)
            # CPU seconds of this process and its (joined) workers: what the pool costs beyond
            # the runs themselves (spawning, imports, passing data), whatever else the machine
            # is doing. serial CPU ÷ pool CPU is the efficiency the pool would reach on cores
            # it had to itself, if the runs were spread evenly.
            figures["pool_cpu_overhead"] = round(
                figures["pool_cpu_s"] / figures["serial_cpu_s"] - 1,
                3,  # type: ignore[operator]
            )
        if args.dask:
            from distributed import LocalCluster

            with LocalCluster(
                n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None,
                env=worker_env(args),
            ) as cluster:
                dask_s = timed("dask", scheduler=cluster.scheduler_address)
            if serial is not None:
                figures["dask_rows_identical_to_serial"] = same_rows(tmp, "dask")
                figures["dask_speedup"] = round(serial / dask_s, 3)
                figures["dask_parallel_efficiency"] = round(serial / dask_s / args.workers, 3)
        if args.dask_cli:
            with dask_cli_cluster(args.workers, Path(tmp), worker_env(args)) as address:
                cli_s = timed("dask_cli", scheduler=address)
            if serial is not None:
                figures["dask_cli_rows_identical_to_serial"] = same_rows(tmp, "dask_cli")
                figures["dask_cli_speedup"] = round(serial / cli_s, 3)
                figures["dask_cli_parallel_efficiency"] = round(serial / cli_s / args.workers, 3)
        for label in ("dask", "dask_cli"):
            if serial is not None and f"{label}_cpu_s" in figures:
                figures[f"{label}_cpu_overhead"] = round(
                    figures[f"{label}_cpu_s"] / figures["serial_cpu_s"] - 1, 3  # type: ignore[operator]
                )
        for label in ("pool", "dask", "dask_cli"):
            # serial CPU per run ÷ this mode's: the efficiency on cores it had to itself, if the
            # runs were spread evenly (start-up and dispatch aside); a busy machine hardly moves it
            if serial is not None and f"{label}_mean_run_cpu_s" in figures:
                figures[f"{label}_cpu_efficiency_per_run"] = round(
                    figures["serial_mean_run_cpu_s"] / figures[f"{label}_mean_run_cpu_s"], 3  # type: ignore[operator]
                )
    figures["workers"] = args.workers
    figures["dask_malloc_arena_max"] = args.malloc_arenas or "glibc default"
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
