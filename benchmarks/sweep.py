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
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "hoa_binh.yaml"))
    parser.add_argument("--runs", type=int, default=200, help="runs in all (points × seeds)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dask", action="store_true", help="also time a Dask LocalCluster")
    parser.add_argument("--skip-serial", action="store_true", help="time only the parallel run(s)")
    args = parser.parse_args()

    from sim.sweep import load_sweep, read_results, run_sweep

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
                    "parameters": {
                        "grid": {"interventions.drives.0.teams": list(range(1, points + 1))}
                    },
                    "seeds": seeds,
                    "months": args.months,
                }
            ),
            encoding="utf-8",
        )

        def timed(label: str, **how: object) -> float:
            sweep = load_sweep(sweep_file, Path(tmp) / label)
            t = time.perf_counter()
            outcome = run_sweep(sweep, **how)  # type: ignore[arg-type]
            wall = time.perf_counter() - t
            if outcome.failures or outcome.ran != runs:
                sys.exit(f"{label}: {len(outcome.failures)} failed, {outcome.ran} of {runs} ran")
            print(
                f"{label}: {runs} runs in {wall:.1f} s = {60 * runs / wall:.1f} runs/min",
                file=sys.stderr,
            )
            figures[f"{label}_s"] = round(wall, 2)
            figures[f"{label}_runs_per_min"] = round(60 * runs / wall, 1)
            return wall

        parallel = timed("pool", workers=args.workers)
        if not args.skip_serial:
            serial = timed("serial", workers=1)
            same = read_results(Path(tmp) / "serial").equals(read_results(Path(tmp) / "pool"))
            figures["pool_rows_identical_to_serial"] = same
            figures["pool_speedup"] = round(serial / parallel, 3)
            figures["pool_parallel_efficiency"] = round(serial / parallel / args.workers, 3)
        if args.dask:
            from distributed import LocalCluster

            with LocalCluster(
                n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster:
                dask_s = timed("dask", scheduler=cluster.scheduler_address)
            if not args.skip_serial:
                figures["dask_rows_identical_to_serial"] = read_results(
                    Path(tmp) / "serial"
                ).equals(read_results(Path(tmp) / "dask"))
                figures["dask_speedup"] = round(serial / dask_s, 3)
                figures["dask_parallel_efficiency"] = round(serial / dask_s / args.workers, 3)
    figures["workers"] = args.workers
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
