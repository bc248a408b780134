"""Benchmark: what a scattered read and a fresh array cost on this machine, beside its caches.

    python benchmarks/memory_costs.py [--repeat 5]

Two costs set most of the difference in cost per payment between machines of the same kind
(docs/performance.md):

* gathering `x[idx]` from a column of n people, with idx in order (by commune, contiguous) or
  scattered (in person-id order across communes): ns per element, for n from 10 thousand
  (in L2) to 5 million (40 MB per int64 column: more than most L3 caches);
* writing a new 40 MB array (first touch: one page fault per 4 KiB page unless the allocator
  reuses freed memory) against writing into a buffer kept from before: ms per array, and the
  minor page faults the process took (getrusage), with glibc's defaults and with
  `sim/memory.py`'s keep_freed_memory().

Each figure is the best of --repeat tries (the machine may be shared); page faults are counts,
which a busy machine does not change.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def best(f, repeat: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def gathers(repeat: int) -> list[dict]:
    import numpy as np

    rng = np.random.default_rng(0)
    rows = []
    for n in (10_000, 100_000, 1_000_000, 5_000_000):
        x = rng.integers(0, 1 << 40, n)
        ordered = np.arange(n)
        scattered = rng.permutation(n)
        row = {"n": n, "column_mb": round(x.nbytes / 2**20, 1)}
        for name, idx in (("ordered", ordered), ("scattered", scattered)):
            out = np.empty(n, x.dtype)
            row[f"{name}_ns"] = round(best(lambda x=x, idx=idx, out=out: np.take(x, idx, out=out), repeat) / n * 1e9, 2)
        row["scattered_over_ordered"] = round(row["scattered_ns"] / row["ordered_ns"], 1)
        rows.append(row)
    return rows


def fresh_arrays(repeat: int) -> dict:
    """In a child process (its own allocator settings): new 40 MB arrays against a reused one."""
    import numpy as np

    n = 5_000_000
    src = np.arange(n, dtype=np.int64)
    faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    fresh = best(lambda: np.add(src, 1), repeat)  # a new result array each time
    faults1 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    buf = np.empty(n, np.int64)
    reused = best(lambda: np.add(src, 1, out=buf), repeat)
    faults2 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    return {
        "fresh_ms": round(fresh * 1e3, 2),
        "reused_ms": round(reused * 1e3, 2),
        "fresh_faults_per_array": round((faults1 - faults0) / repeat),
        "reused_faults_per_array": round((faults2 - faults1) / repeat),
    }


def child(kind: str, repeat: int) -> None:
    if kind == "kept":
        from welfare_sim.sim.memory import keep_freed_memory

        keep_freed_memory()
    print(json.dumps(fresh_arrays(repeat)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", choices=("glibc", "kept"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.repeat)
        return
    sys.path.insert(0, str(HERE))
    from national import machine, print_machine

    print_machine(machine())
    print("gather x[idx] from an int64 column of n people, ns per element (best of "
          f"{args.repeat}):")
    print(f"{'n':>10} {'MB':>6} {'ordered':>8} {'scattered':>10} {'ratio':>6}")
    for r in gathers(args.repeat):
        print(f"{r['n']:>10,} {r['column_mb']:>6} {r['ordered_ns']:>8} {r['scattered_ns']:>10} "
              f"{r['scattered_over_ordered']:>6}")
    print("a 5 M-long int64 result (40 MB): new array each time against a kept buffer")
    for kind, label in (("glibc", "glibc defaults"), ("kept", "keep_freed_memory()")):
        env = {k: v for k, v in os.environ.items() if k != "WELFARE_SIM_SYSTEM_MALLOC"}
        out = subprocess.run([sys.executable, __file__, "--child", kind, "--repeat", str(args.repeat)],
                             capture_output=True, text=True, check=True, env=env)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"  {label:>20}: new {r['fresh_ms']} ms ({r['fresh_faults_per_array']:,} page faults), "
              f"kept buffer {r['reused_ms']} ms ({r['reused_faults_per_array']:,} page faults)")


if __name__ == "__main__":
    main()
