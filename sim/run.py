"""Run a scenario and write its run folder atomically.

A run folder holds monthly.parquet, payments.parquet (optional), points.parquet, waits.parquet,
subgroups.parquet, ledger.parquet, funnel.parquet, places.parquet (the districts and communes the
integer indices stand for), communes.parquet (month × commune figures), summary.json,
scenario.resolved.yaml and manifest.json.
Every file is written to a temporary name in the same folder and renamed into place, and the
folder itself is assembled under a temporary name and renamed last, so a killed run leaves no
half-written table behind.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from welfare_sim.sim.engine import RunTimings
from welfare_sim.sim.parts import run_country, run_one
from welfare_sim.sim.publish import (
    atomic_write_bytes,
    atomic_write_parquet,
    building,
    merge_parquet_parts,
    private_files,
    write_json,
)
from welfare_sim.sim.results import RunResult
from welfare_sim.sim.scenario import Scenario, dump_scenario

PACKAGES = ("welfare-sim", "simpy", "numpy", "scipy", "polars", "pydantic", "typer", "pyyaml")


def run_scenario(
    scenario: Scenario,
    seed: int | None = None,
    months: int | None = None,
    payments_dir: Path | None = None,
    on_month: Callable[[int], None] | None = None,
    timings: RunTimings | None = None,
    fine_grained: bool = False,
    workers: int = 1,
    scheduler: str | None = None,
) -> RunResult:
    """Simulate and collect the tables; per-beneficiary rows go to `payments_dir` if given.

    A many-province scenario runs as independent parts (sim/parts.py): on `workers` local processes,
    or on the Dask cluster at `scheduler`; its tables do not depend on the split."""
    if scenario.parts:
        return run_country(scenario, seed, months, payments_dir, on_month, timings, fine_grained, workers, scheduler)
    # one province: its recording overlaps the simulation in a second thread when a core is spare
    return run_one(scenario, seed, months, payments_dir, on_month, timings, fine_grained, record_in_thread=workers > 1)


def git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=here,
        capture_output=True,
        text=True,
        timeout=5,
        check=False,
    ).stdout.strip()
    return out.stdout.strip() + ("-dirty" if dirty else "")


def manifest(
    scenario: Scenario, source: str, seed: int, months: int, overrides: list[str], fine_grained: bool = False
) -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "scenario": scenario.name,
        "scenario_file": source,
        "scenario_sha256": scenario.digest(),
        "overrides": overrides,
        "seed": seed,
        "months": months,
        "queues": "fine-grained (one SimPy process per visit)" if fine_grained else "vectorised kernel",
        "python": platform.python_version(),
        "packages": versions,
        "git_commit": git_commit(),
    }


def write_run(
    scenario: Scenario,
    out_dir: Path,
    source: str = "",
    seed: int | None = None,
    months: int | None = None,
    overrides: list[str] | None = None,
    payments: bool = True,
    on_month: Callable[[int], None] | None = None,
    timings: RunTimings | None = None,
    fine_grained: bool = False,
    workers: int = 1,
    scheduler: str | None = None,
) -> tuple[RunResult, dict[str, float]]:
    """Run and write the run folder `out_dir`: a new path, or a run folder welfare-sim wrote, which
    is then replaced as a whole. Anything else raises OutputError before the simulation starts."""
    seed = scenario.seed if seed is None else seed
    months = scenario.months if months is None else months
    timings = timings or RunTimings()
    roster = scenario.resolved_roster
    if roster is not None and not roster.settings.per_person_tables:
        payments = False  # per-person rows from a real roster only when the scenario asks for them
    with private_files() if roster is not None else contextlib.nullcontext(), building(Path(out_dir), "run") as staging:
        parts_dir = staging / ".payment-parts" if payments else None
        if parts_dir is not None:
            parts_dir.mkdir()
        result = run_scenario(scenario, seed, months, parts_dir, on_month, timings, fine_grained, workers, scheduler)
        t0 = time.perf_counter()
        if parts_dir is not None:
            tmp = staging / ".payments.parquet.tmp"
            merge_parquet_parts(list(result.payment_parts), tmp)  # in month order (province by province)
            os.replace(tmp, staging / "payments.parquet")
            shutil.rmtree(parts_dir)
        for name, frame in (
            ("monthly", result.monthly),
            ("subgroups", result.subgroups),
            ("points", result.points),
            ("waits", result.waits),
            ("ledger", result.ledger),
            ("funnel", result.funnel),
            ("places", result.places),
            ("communes", result.communes),
        ):
            atomic_write_parquet(staging / f"{name}.parquet", frame)
        if roster is not None:
            result.summary["roster"] = {**roster.summary(), "filled_from_shares": result.roster_filled}
        summary = {"scenario": scenario.name, "seed": seed, **result.summary}
        write_json(staging / "summary.json", summary)
        atomic_write_bytes(staging / "scenario.resolved.yaml", dump_scenario(scenario).encode())
        write_json(staging / "manifest.json", manifest(scenario, source, seed, months, overrides or [], fine_grained))
        timings_out = {
            "build_s": timings.build_s,
            "simulate_s": timings.simulate_s,
            "record_s": timings.record_s,
            "record_wait_s": timings.record_wait_s,
            "write_s": time.perf_counter() - t0,
            "worker_peak_rss_kb": timings.worker_peak_rss_kb,
        }
    return result, timings_out
