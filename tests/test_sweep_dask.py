"""The same sweep on a real Dask cluster (a LocalCluster of worker processes): identical rows
to the serial run, from the library and from `welfare-sim sweep --scheduler`, and a failing
point recorded there too."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from factory import small

from sim.sweep import load_sweep, read_results, run_sweep

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def write_sweep(folder: Path, grid: dict) -> Path:
    (folder / "small.yaml").write_text(yaml.safe_dump(small(months=2)), encoding="utf-8")
    path = folder / "sweep.yaml"
    path.write_text(
        yaml.safe_dump(
            {"base": "small.yaml", "parameters": {"grid": grid}, "seeds": 2, "monthly": True}
        ),
        encoding="utf-8",
    )
    return path


def test_dask_rows_are_identical_to_serial(tmp_path: Path, scheduler: str) -> None:
    path = write_sweep(
        tmp_path,
        {
            "interventions.drives.0.teams": [1, 2, 3],
            "assumptions.opening.monthly_apply_prob": [0.05, 0.2],
        },
    )
    serial = run_sweep(load_sweep(path, tmp_path / "serial"), workers=1)
    dask = run_sweep(load_sweep(path, tmp_path / "dask"), scheduler=scheduler)
    assert serial.ok and dask.ok and serial.ran == dask.ran == 12
    rows = read_results(tmp_path / "serial")
    assert rows.height == 12 and rows.equals(read_results(tmp_path / "dask"))

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "sweep",
            str(path),
            "--scheduler",
            scheduler,
            "--out",
            str(tmp_path / "cli"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert rows.equals(read_results(tmp_path / "cli"))
    import polars as pl

    monthly = [
        pl.scan_parquet(tmp_path / name / "monthly", hive_partitioning=True)
        .collect()
        .sort("point", "seed", "month")
        for name in ("serial", "dask", "cli")
    ]
    assert (
        monthly[0].height == 24 and monthly[0].equals(monthly[1]) and monthly[0].equals(monthly[2])
    )


def test_a_failing_point_on_dask_is_recorded(tmp_path: Path, scheduler: str) -> None:
    path = write_sweep(tmp_path, {"interventions.drives.0.teams": [0, 2]})  # teams must be ≥ 1
    outcome = run_sweep(load_sweep(path, tmp_path / "out"), scheduler=scheduler)
    assert outcome.ran == 4 and len(outcome.failures) == 2
    assert {f["kind"] for f in outcome.failures} == {"invalid scenario"}
    assert all(
        "interventions.drives[0].teams: must be ≥ 1 (got 0)" in f["error"] for f in outcome.failures
    )
    assert read_results(tmp_path / "out")["interventions.drives.0.teams"].to_list() == [2, 2]
    assert len(list((tmp_path / "out" / "failures").rglob("*.json"))) == 2
