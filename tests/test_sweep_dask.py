"""The same sweep on real Dask clusters: a LocalCluster of worker processes, and a `dask
scheduler` with a `dask worker` started as commands and reached by address, as on several
machines. Identical rows to the serial run, from the library and from `welfare-sim sweep
--scheduler`; a failing point recorded there too; an unreachable scheduler is bad input."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from factory import small

from welfare_sim.sim.experiments.sweep import load_sweep, read_results, run_sweep

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def sweep_cli(path: Path, scheduler: str, out: Path, timeout: float, env: dict | None = None):
    """`welfare-sim sweep PATH --scheduler ADDRESS --out OUT` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "welfare_sim", "sweep", str(path), "--scheduler", scheduler, "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        env=env,
    )


def write_sweep(folder: Path, grid: dict) -> Path:
    (folder / "small.yaml").write_text(yaml.safe_dump(small(months=2)), encoding="utf-8")
    path = folder / "sweep.yaml"
    path.write_text(
        yaml.safe_dump({"base": "small.yaml", "parameters": {"grid": grid}, "seeds": 2, "monthly": True}),
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

    proc = sweep_cli(path, scheduler, str(tmp_path / "cli"), timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert rows.equals(read_results(tmp_path / "cli"))
    import polars as pl

    monthly = [
        pl.scan_parquet(tmp_path / name / "monthly", hive_partitioning=True).collect().sort("point", "seed", "month")
        for name in ("serial", "dask", "cli")
    ]
    assert monthly[0].height == 24 and monthly[0].equals(monthly[1]) and monthly[0].equals(monthly[2])


def test_a_failing_point_on_dask_is_recorded(tmp_path: Path, scheduler: str) -> None:
    path = write_sweep(tmp_path, {"interventions.drives.0.teams": [0, 2]})  # teams must be ≥ 1
    outcome = run_sweep(load_sweep(path, tmp_path / "out"), scheduler=scheduler)
    assert outcome.ran == 4 and len(outcome.failures) == 2
    assert {f["kind"] for f in outcome.failures} == {"invalid scenario"}
    assert all("interventions.drives[0].teams: must be ≥ 1 (got 0)" in f["error"] for f in outcome.failures)
    assert read_results(tmp_path / "out")["interventions.drives.0.teams"].to_list() == [2, 2]
    assert len(list((tmp_path / "out" / "failures").rglob("*.json"))) == 2


def test_sweep_on_a_dask_scheduler_and_worker_started_as_commands(tmp_path: Path) -> None:
    """`dask scheduler` and `dask worker` as separate programs, reached by their address."""
    path = write_sweep(tmp_path, {"interventions.drives.0.teams": [1, 3]})
    serial = run_sweep(load_sweep(path, tmp_path / "serial"), workers=1)
    assert serial.ok
    sched_file = tmp_path / "scheduler.json"
    started: list[subprocess.Popen] = []

    def start(*args: str) -> None:
        started.append(
            subprocess.Popen(
                [os.path.join(os.path.dirname(sys.executable), "dask"), *args],
                cwd=tmp_path,  # away from the checkout: workers import the installed package
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, to stop it with its children
            )
        )

    try:
        start(
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(sched_file),
        )
        deadline = time.monotonic() + 60
        while not sched_file.exists():
            assert started[0].poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.1)  # the file is complete once it parses
        address = json.loads(sched_file.read_text(encoding="utf-8"))["address"]
        assert address.startswith("tcp://127.0.0.1:")
        start("worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard")
        proc = sweep_cli(path, address, str(tmp_path / "remote"), timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert f"Dask scheduler {address}" in proc.stderr
        rows = read_results(tmp_path / "remote")
        assert rows.height == 4 and rows.equals(read_results(tmp_path / "serial"))
    finally:
        for p in reversed(started):
            os.killpg(p.pid, signal.SIGTERM)
        for p in started:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def test_an_unreachable_scheduler_is_bad_input(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = write_sweep(tmp_path, {"interventions.drives.0.teams": [1]})
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    proc = sweep_cli(path, f"tcp://127.0.0.1:{port}", str(tmp_path / "out"), timeout=120, env=env)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"--scheduler tcp://127.0.0.1:{port}: cannot reach a Dask scheduler there" in proc.stderr
    assert "dask scheduler" in proc.stderr
