"""Benchmark: the national run, on the local cores (`--workers 1`: one process), beside the reference
toy in the same session.

    python benchmarks/national.py                       # vietnam.yaml, 24 months, full population
    python benchmarks/national.py --sample 0.2          # a 20% sample (same people as the full run)
    python benchmarks/national.py --scaling             # 10k, 100k, 1M and 5M beneficiaries
    python benchmarks/national.py --payments            # also write payments.parquet (streamed)
    python benchmarks/national.py --profile --sample 0.2 --months 6   # where the time goes
    python benchmarks/national.py --workers 1           # one process (the toy ratios compare like with like)
    python benchmarks/national.py --dask 2              # on a real 2-worker Dask LocalCluster
    python benchmarks/national.py --scale-up 3.95       # the country about four times over (19.98 M)

Each measurement runs in a fresh child process, so peak RSS is that run's alone. Printed:
wall time, beneficiary-payments per second, peak RSS, and a breakdown by phase (population
build, monthly runs, waiting for the recorder, output writing; and the recorder's own CPU time:
a country's provinces record in line, so it is part of the monthly runs; a one-province run
records in a thread that overlaps them). The toy designs from
`benchmarks/reference_toy/` (one SimPy process per payment; one per cash-out point; numpy
Lindley) run in the same session, and welfare-sim's throughput is given as a ratio to each.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TOY = HERE / "reference_toy"


def machine() -> dict:
    """CPU model, cores, caches, memory and transparent huge pages, from /proc and sysfs (Linux;
    elsewhere what `platform` knows). The cost per payment depends on them: see docs/performance.md."""
    import os
    import platform

    info: dict = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()}
    try:
        text = Path("/proc/cpuinfo").read_text()
        names = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")]
        mhz = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("cpu MHz")]
        info["cpu"] = names[0] if names else info["cpu"]
        info["mhz"] = float(mhz[0]) if mhz else None
        info["hypervisor"] = " hypervisor" in text
    except OSError:
        pass
    caches = {}
    for d in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level, kind, size = ((d / f).read_text().strip() for f in ("level", "type", "size"))
            shared = (d / "shared_cpu_list").read_text().strip()
        except OSError:
            continue
        caches[f"L{level}{'d' if kind == 'Data' else 'i' if kind == 'Instruction' else ''}"] = f"{size} (cpus {shared})"
    info["caches"] = caches
    try:
        mem = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()
        info["memory_gb"] = round(int(mem[1]) / 2**20, 1)
        thp = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
        info["transparent_hugepages"] = thp[thp.index("[") + 1 : thp.index("]")]
    except (OSError, ValueError, IndexError):
        pass
    info["load_average"] = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    return info


def print_machine(info: dict) -> None:
    caches = ", ".join(f"{k} {v}" for k, v in info.get("caches", {}).items())
    print(f"machine: {info['cpu']}, {info['cores']} cores"
          + (f" at {info['mhz']:.0f} MHz" if info.get("mhz") else "")
          + (" (virtual machine)" if info.get("hypervisor") else "")
          + (f"; caches {caches}" if caches else "")
          + (f"; {info['memory_gb']} GB RAM" if info.get("memory_gb") else "")
          + (f"; huge pages {info['transparent_hugepages']}" if info.get("transparent_hugepages") else "")
          + (f"; load average {info['load_average']}" if info.get("load_average") is not None else ""))


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of `pid` and all its descendants now (Linux /proc; 0 where it cannot be read)."""
    total = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            total = next((int(line.split()[1]) for line in f if line.startswith("VmRSS")), 0)
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                total += sum(_tree_rss_kb(int(c)) for c in f.read().split())
    except (OSError, ValueError):
        pass
    return total


class TreePeak:
    """The largest resident memory of this process and its workers together, sampled every 0.1 s: what
    the run needed of the machine at its busiest moment (the per-process peaks do not add up, since
    they fall at different times)."""

    def __init__(self) -> None:
        import threading

        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(os.getpid()))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return max(self.peak_kb, _tree_rss_kb(os.getpid()))


def scaled_up(path: str, factor: float, overrides: list[str]):  # noqa: ANN201 (a Scenario)
    """The scenario with every province's beneficiaries and ATMs `factor` times over, on the same communes
    (`--scale-up 3.95`: the country about four times over, 19.98 million beneficiaries, under the
    scenario's cap of 20 million): a size the country does not have, to see how the cost grows."""
    from welfare_sim.sim.scenario import apply_overrides, read_yaml, resolve_extends, validate_scenario

    data = resolve_extends(Path(path).resolve(), read_yaml(Path(path)))
    for entry in data["geography"]["provinces"]:
        for key in ("beneficiaries", "atms"):
            if entry.get(key) is not None:
                entry[key] = round(int(entry[key]) * factor)
    data.pop("calibration", None)
    return validate_scenario(apply_overrides(data, overrides) if overrides else data, f"{path} × {factor}")


@contextlib.contextmanager
def dask_cluster(workers: int) -> Iterator[str | None]:
    """A real Dask LocalCluster of `workers` single-thread worker processes (None: no cluster)."""
    if not workers:
        yield None
        return
    from distributed import LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def child(args: argparse.Namespace) -> None:
    tree = TreePeak()
    t0 = time.perf_counter()
    from welfare_sim.sim.engine import RunTimings
    from welfare_sim.sim.run import write_run
    from welfare_sim.sim.scenario import load_scenario

    import_s = time.perf_counter() - t0
    overrides = [f"geography.sample_fraction={args.sample}"] if args.sample < 1 else []
    scenario = scaled_up(args.scenario, args.scale_up, overrides) if args.scale_up > 1 else load_scenario(
        args.scenario, overrides
    )
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp, dask_cluster(args.dask) as scheduler:
        t = time.perf_counter()
        result, timings = write_run(
            scenario, Path(tmp) / "run", months=args.months, payments=args.payments, timings=RunTimings(),
            workers=args.workers, scheduler=scheduler,
        )
        wall = time.perf_counter() - t
        size_mb = sum(p.stat().st_size for p in (Path(tmp) / "run").iterdir()) / 2**20
    tree_peak_kb = tree.stop()
    payments = int(result.monthly["beneficiaries"].sum())
    print(json.dumps({
        "beneficiaries": int(result.summary["beneficiaries"]["first_month"]),
        "months": args.months or scenario.months,
        "beneficiary_payments": payments,
        "import_s": round(import_s, 3),
        "wall_s": round(wall, 3),
        "build_s": round(timings["build_s"], 3),
        "monthly_runs_s": round(timings["simulate_s"] - timings["record_wait_s"], 3),
        "recording_s": round(timings["record_s"], 3),  # CPU: in line (a country), or in its thread (one province)
        "record_wait_s": round(timings["record_wait_s"], 3),  # the simulation waiting for it
        "writing_s": round(timings["write_s"], 3),
        "payments_per_s": round(payments / wall),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        # the largest peak of a process that ran provinces (this one when serial), as each measured its own
        "worker_peak_rss_mb": round(timings.get("worker_peak_rss_kb", 0) / 1024, 1),
        "total_peak_rss_mb": round(tree_peak_kb / 1024, 1),
        "workers": args.workers,
        "parts": len(getattr(scenario, "parts", ())) and min(args.workers, len(scenario.parts)),
        "output_mb": round(size_mb, 1),
    }))


def run_child(argv: list[str]) -> dict:
    out = subprocess.run([sys.executable, *argv], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"benchmark child failed: {' '.join(argv)}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def toy(design: str, n: int, months: int) -> dict:
    out = subprocess.run(
        [sys.executable, "run_one.py", design, str(n), str(months)], capture_output=True, text=True, cwd=TOY, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def model(args: argparse.Namespace, sample: float) -> dict:
    argv = [__file__, "--child", "--scenario", args.scenario, "--sample", str(sample)]
    if args.months:
        argv += ["--months", str(args.months)]
    if args.payments:
        argv.append("--payments")
    argv += ["--workers", str(args.workers), "--dask", str(args.dask), "--scale-up", str(args.scale_up)]
    return run_child(argv)


def profile(args: argparse.Namespace) -> None:
    """The hot path, by internal and by cumulative time (simulation only, no output writing)."""
    import cProfile
    import pstats

    from welfare_sim.sim.run import run_scenario
    from welfare_sim.sim.scenario import load_scenario

    overrides = [f"geography.sample_fraction={args.sample}"] if args.sample < 1 else []
    scenario = load_scenario(args.scenario, overrides)
    profiler = cProfile.Profile()
    profiler.runcall(run_scenario, scenario, months=args.months)
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumtime").print_stats(r"/(models|sim)/", 25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "vietnam.yaml"))
    parser.add_argument("--months", type=int, default=None)
    parser.add_argument("--sample", type=float, default=1.0)
    parser.add_argument("--payments", action="store_true")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1,
        help="processes for a many-province scenario's parts (default: the local cores, as `welfare-sim run`)",
    )
    parser.add_argument("--scaling", action="store_true", help="10k, 100k, 1M and 5M beneficiaries")
    parser.add_argument("--scale-up", type=float, default=1.0,
                        help="every province's beneficiaries and ATMs this many times over (3.95: 20 million)")
    parser.add_argument("--dask", type=int, default=0, metavar="N",
                        help="run on a real Dask LocalCluster of N single-thread workers (each province a task)")
    parser.add_argument("--no-toy", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile one run; print the top functions")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tmp", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.profile:
        profile(args)
        return

    runs = []
    if args.scaling:
        from welfare_sim.sim.scenario import load_scenario

        total = load_scenario(args.scenario).geography.n_beneficiaries
        for target in (10_000, 100_000, 1_000_000, total):
            runs.append(model(args, min(1.0, target / total)))
            print(json.dumps(runs[-1]), file=sys.stderr)
    else:
        runs.append(model(args, args.sample))
    print("phases, in seconds: build = population build; months = monthly runs; rec wait = the runs waiting\n"
          "for the recorder; write = output writing (these four make the wall time); recorder = CPU time spent\n"
          "summarising months: in line for a country's provinces (part of months), in its own thread for one\n"
          "province (overlapping the runs)")
    print(f"{'beneficiaries':>13} {'months':>6} {'wall s':>8} {'build':>7} {'months':>8} {'rec wait':>8} "
          f"{'write':>7} {'recorder':>9} {'payments/s':>12} {'peak RSS MB':>12} {'worker MB':>10} {'total MB':>9} "
          f"{'workers':>7}")
    for r in runs:
        print(f"{r['beneficiaries']:>13,} {r['months']:>6} {r['wall_s']:>8.2f} {r['build_s']:>7.2f} "
              f"{r['monthly_runs_s']:>8.2f} {r['record_wait_s']:>8.2f} {r['writing_s']:>7.2f} "
              f"{r['recording_s']:>9.2f} {r['payments_per_s']:>12,} {r['peak_rss_mb']:>12,.0f} "
              f"{r['worker_peak_rss_mb']:>10,.0f} {r['total_peak_rss_mb']:>9,.0f} {r['workers']:>7}")
    print("peak RSS: the main process; worker MB: the largest peak of a process that ran provinces (its own\n"
          "RUSAGE_SELF; 0 for a one-province scenario); total MB: the main process and its workers together\n"
          "at their busiest moment (sampled every 0.1 s): what the run needs of the machine")
    if len(runs) > 1:
        base = runs[0]
        print("cost per beneficiary-payment relative to the smallest run: " + ", ".join(
            f"{r['beneficiaries']:,}: {base['payments_per_s'] / r['payments_per_s']:.2f}×" for r in runs))
    print_machine(machine())
    if args.no_toy:
        return
    # the toy, same machine, same session: 1M × 3 months for the fast designs, 50k × 1 for naive
    toys = {
        "naive (one SimPy process per payment)": toy("a_simpy_naive", 50_000, 1),
        "server per point (one SimPy process per point)": toy("b2_simpy_server", 1_000_000, 3),
        "numpy Lindley bound": toy("e2_numpy_vec", 1_000_000, 3),
    }
    rate = runs[-1]["payments_per_s"]
    print(f"\nwelfare-sim: {rate:,} beneficiary-payments/s ({runs[-1]['beneficiaries']:,} beneficiaries)")
    for name, r in toys.items():
        print(f"  toy {name}: {r['payments_per_s']:,}/s  → welfare-sim is {rate / r['payments_per_s']:.2f}× it")


if __name__ == "__main__":
    main()
