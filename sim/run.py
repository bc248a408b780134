"""Run a scenario and write its run folder atomically.

A run folder holds monthly.parquet, payments.parquet (optional), points.parquet, waits.parquet,
subgroups.parquet, ledger.parquet, funnel.parquet, places.parquet (the districts and communes the
integer indices stand for), summary.json, scenario.resolved.yaml and manifest.json.
Every file is written to a temporary name in the same folder and renamed into place, and the
folder itself is assembled under a temporary name and renamed last, so a killed run leaves no
half-written table behind.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

from welfare_sim.models.payment_run import MonthRecord, Province
from welfare_sim.sim.columns import parquet_metadata
from welfare_sim.sim.engine import RunTimings, simulate
from welfare_sim.sim.recorder import Recorder
from welfare_sim.sim.results import RunResult, collect, headline
from welfare_sim.sim.scenario import Scenario, dump_scenario

_UMASK = os.umask(0)
os.umask(_UMASK)
_FILE_MODE = 0o666 & ~_UMASK
_DIR_MODE = 0o777 & ~_UMASK

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
                recorder = Recorder(province, payments_dir)
            wait_for_recorder()
            pending = pool.submit(record_now, rec, province)
            if on_month is not None:
                on_month(rec.month)

        try:
            simulate(
                scenario, seed=seed, months=months, on_month=record, timings=timings, fine_grained=fine_grained
            )
            wait_for_recorder()
        finally:
            if pending is not None:
                pending.cancel()
    assert recorder is not None
    result = collect(recorder)
    result.summary = headline(result)
    result.payment_parts = recorder.payment_parts
    return result


def write_json(path: Path, data: Any) -> None:
    atomic_write_bytes(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())


def publish_folder(staging: Path, out_dir: Path) -> None:
    """Put the finished folder `staging` in place as `out_dir`, replacing any old one whole (the
    old folder is moved aside first, so `out_dir` is never half old, half new)."""
    os.chmod(staging, _DIR_MODE)
    if out_dir.exists():
        trash = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.", suffix=".old"))
        os.replace(out_dir, trash / "old")
        os.replace(staging, out_dir)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(staging, out_dir)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_parquet(path: Path, frame: pl.DataFrame) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        frame.write_parquet(tmp, statistics=True, metadata=parquet_metadata(frame))
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=here, capture_output=True,
        text=True, timeout=5, check=False,
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
    """Run and write the run folder `out_dir` (replaced as a whole if it exists)."""
    seed = scenario.seed if seed is None else seed
    months = scenario.months if months is None else months
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.", suffix=".partial"))
    timings = timings or RunTimings()
    try:
        parts_dir = staging / ".payment-parts" if payments else None
        if parts_dir is not None:
            parts_dir.mkdir()
        result = run_scenario(scenario, seed, months, parts_dir, on_month, timings, fine_grained)
        t0 = time.perf_counter()
        if parts_dir is not None:
            tmp = staging / ".payments.parquet.tmp"
            parts = pl.scan_parquet(sorted(result.payment_parts))
            parts.sink_parquet(tmp, statistics=True, metadata=parquet_metadata(parts.collect_schema()))
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
        ):
            atomic_write_parquet(staging / f"{name}.parquet", frame)
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
        publish_folder(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return result, timings_out
