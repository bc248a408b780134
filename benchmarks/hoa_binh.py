"""Benchmark: the Hòa Bình scenario, 24 months. Prints beneficiary-payments per second and memory.

    python benchmarks/hoa_binh.py [--repeat 3] [--months 24] [--payments] [--no-toy]

"Beneficiary-payments" are beneficiary-months simulated (one monthly payment each, whatever its
channel or outcome). Simulation time excludes imports and scenario loading; output writing is
timed separately. Peak RSS is the process's maximum resident set size. CPU seconds (all
threads, the recorder's included) are printed beside the wall time: on a shared machine they
move far less. The numpy Lindley toy (benchmarks/reference_toy, 1 M payments × 3 months) runs
after the model in the same session, and the model's throughput is given as a ratio to it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "hoa_binh.yaml"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--months", type=int, default=None)
    parser.add_argument("--payments", action="store_true", help="also write payments.parquet")
    parser.add_argument("--no-toy", action="store_true", help="skip the reference toy")
    args = parser.parse_args()

    t0 = time.perf_counter()
    from welfare_sim.sim.run import write_run
    from welfare_sim.sim.scenario import load_scenario

    import_s = time.perf_counter() - t0
    scenario = load_scenario(args.scenario)
    months = args.months or scenario.months
    rows = []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            cpu = time.process_time()
            # as `welfare-sim run` does: the local cores (a one-province run records in a second thread)
            result, timings = write_run(scenario, Path(tmp) / "run", months=months, payments=args.payments,
                                        workers=os.cpu_count() or 1)
            cpu = time.process_time() - cpu
            wall = time.perf_counter() - t
        payments = int(result.monthly["beneficiaries"].sum())
        rows.append({**timings, "wall_s": wall, "cpu_s": cpu, "payments": payments})
        print(
            f"run {i + 1}: {payments:,} beneficiary-payments; build {timings['build_s']:.3f} s, "
            f"simulate {timings['simulate_s']:.3f} s, write {timings['write_s']:.3f} s, wall {wall:.3f} s, "
            f"CPU {cpu:.3f} s",
            file=sys.stderr,
        )
    sim_s = statistics.median(r["simulate_s"] + r["build_s"] for r in rows)
    out = {
        "scenario": scenario.name,
        "months": months,
        "beneficiaries": scenario.geography.n_beneficiaries,
        "beneficiary_payments": rows[0]["payments"],
        "import_s": round(import_s, 3),
        "build_s_median": round(statistics.median(r["build_s"] for r in rows), 3),
        "simulate_s_median": round(statistics.median(r["simulate_s"] for r in rows), 3),
        "write_s_median": round(statistics.median(r["write_s"] for r in rows), 3),
        "wall_s_median": round(statistics.median(r["wall_s"] for r in rows), 3),
        "cpu_s_median": round(statistics.median(r["cpu_s"] for r in rows), 3),  # build + simulate + write
        "payments_per_s": round(rows[0]["payments"] / sim_s),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "repeats": args.repeat,
        "load_average": round(os.getloadavg()[0], 2),
    }
    if not args.no_toy:
        toy = subprocess.run(
            [sys.executable, "run_one.py", "e2_numpy_vec", "1000000", "3"],
            capture_output=True, text=True, cwd=ROOT / "benchmarks" / "reference_toy", check=True,
        )
        rate = json.loads(toy.stdout.strip().splitlines()[-1])["payments_per_s"]
        out["toy_numpy_lindley_payments_per_s"] = rate
        out["ratio_to_numpy_lindley_toy"] = round(out["payments_per_s"] / rate, 3)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
