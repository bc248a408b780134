"""Are two run folders' tables the same? For speed work that must not change results.

    python benchmarks/compare_runs.py RUN_A RUN_B

Compares every parquet file the two folders hold (same names, same columns, same rows in the same
order, values equal, NaN equal to NaN); prints each file's verdict; exits 1 on any difference."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl


def compare(a: Path, b: Path) -> list[str]:
    problems = []
    names_a = {p.name for p in a.glob("*.parquet")}
    names_b = {p.name for p in b.glob("*.parquet")}
    if names_a != names_b:
        problems.append(f"files differ: only in A {sorted(names_a - names_b)}, only in B {sorted(names_b - names_a)}")
    for name in sorted(names_a & names_b):
        fa, fb = pl.read_parquet(a / name), pl.read_parquet(b / name)
        same = fa.columns == fb.columns and fa.shape == fb.shape and fa.equals(fb, null_equal=True)
        print(f"{name}: {'identical' if same else 'DIFFERENT'} ({fa.height:,} rows)")
        if not same:
            problems.append(name)
    return problems


if __name__ == "__main__":
    problems = compare(Path(sys.argv[1]), Path(sys.argv[2]))
    for p in problems:
        print("difference:", p)
    sys.exit(1 if problems else 0)
