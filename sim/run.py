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
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

from welfare_sim.models.payment_run import MonthRecord, Province
from welfare_sim.sim.engine import RunTimings, simulate
from welfare_sim.sim.publish import (
    atomic_write_bytes,
    atomic_write_parquet,
    building,
    merge_parquet_parts,
    private_files,
    write_json,
)
from welfare_sim.sim.recorder import Recorder
from welfare_sim.sim.results import RunResult, collect, headline
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
) -> RunResult:
    """Simulate and collect the tables; per-beneficiary rows go to `payments_dir` if given.

    Each month's record is summarised in a second thread while the next month is simulated
    (numpy and polars release the GIL, so on two cores the two overlap). One thread takes the
    records in month order, so the tables are the same as recording in line; at most one month
    waits to be recorded, so memory stays bounded. An error while recording is raised here."""
    recorder: Recorder | None = None
    pending: Future | None = None

    def wait_for_recorder() -> None:
        nonlocal pending
        if pending is not None:
            t0 = time.perf_counter()
            done, pending = pending, None
            done.result()  # re-raises what went wrong while recording
            if timings is not None:
                timings.record_wait_s += time.perf_counter() - t0

    def record_now(rec: MonthRecord, province: Province) -> None:
        t0 = time.perf_counter()
        assert recorder is not None
        recorder(rec, province)
        if timings is not None:
            timings.record_s += time.perf_counter() - t0

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="welfare-sim-recorder") as pool:

        def record(rec: MonthRecord, province: Province) -> None:
            nonlocal recorder, pending
            if recorder is None:
                recorder = Recorder(province, payments_dir, _pseudonyms(scenario) if payments_dir else None)
            wait_for_recorder()
            pending = pool.submit(record_now, rec, province)
            if on_month is not None:
                on_month(rec.month)

        try:
            simulate(scenario, seed=seed, months=months, on_month=record, timings=timings, fine_grained=fine_grained)
            wait_for_recorder()
        finally:
            if pending is not None:
                pending.cancel()
    assert recorder is not None
    result = collect(recorder)
    result.summary = headline(result)
    result.payment_parts = recorder.payment_parts
    result.roster_filled = recorder.p.people.roster_filled
    return result


def _pseudonyms(scenario: Scenario) -> dict[int, str] | None:
    """Model id -> pseudonym of a roster run's people (None for a synthetic population)."""
    roster = scenario.resolved_roster
    if roster is None:
        return None
    return dict(zip(roster.people.ids().tolist(), roster.pseudonyms, strict=True))


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
        result = run_scenario(scenario, seed, months, parts_dir, on_month, timings, fine_grained)
        t0 = time.perf_counter()
        if parts_dir is not None:
            tmp = staging / ".payments.parquet.tmp"
            merge_parquet_parts(sorted(result.payment_parts), tmp)
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
        }
    return result, timings_out
