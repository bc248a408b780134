"""Sobol' sensitivity from a saltelli-design sweep: a parameter that cannot move a figure gets
indices of exactly zero (common random numbers), one that does gets a large total index."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml
from factory import small

from welfare_sim.sim.experiments.sensitivity import point_means, sobol_indices
from welfare_sim.sim.experiments.sweep import load_sweep, read_results, run_sweep
from welfare_sim.sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
APPLY = "assumptions.opening.monthly_apply_prob"
# staff are paid only in the bottom-up cost model: the sweeps use it
STAFF = "assumptions.costs.staff_per_team_day_vnd"
REACH = "interventions.drives.0.reach"


def write_sweep(folder: Path, parameters: dict, seeds: int = 2) -> Path:
    base = small(months=2, **{"assumptions.costs.model": "bottom_up"})
    (folder / "small.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    path = folder / "sobol.yaml"
    path.write_text(
        yaml.safe_dump({"base": "small.yaml", "parameters": parameters, "seeds": seeds, "out": "out"}),
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def saltelli_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("saltelli")
    design = {
        "method": "saltelli",
        "samples": 8,
        "seed": 5,
        "integer": [STAFF],
        "ranges": {APPLY: [0.02, 0.4], STAFF: [300000, 900000], REACH: [0.2, 0.9]},
    }
    sweep = load_sweep(write_sweep(folder, {"design": design}))
    outcome = run_sweep(sweep, workers=1)
    assert outcome.ok and outcome.ran == len(sweep.points) * 2
    return sweep.out


def test_a_parameter_that_cannot_move_a_figure_gets_zero(saltelli_sweep: Path) -> None:
    table, _ = sobol_indices(saltelli_sweep, ["account_coverage.last_month", "cost_vnd.state_total"], resamples=100)
    index = {(r["figure"], r["parameter"]): r for r in table.iter_rows(named=True)}
    assert table.height == 2 * 3
    coverage_staff = index[("account_coverage.last_month", STAFF)]
    # staff pay changes no draw, so with the same seeds at every point the coverage is untouched
    assert coverage_staff["S1"] == 0 and coverage_staff["ST"] == 0
    assert index[("account_coverage.last_month", APPLY)]["ST"] > 0.5
    assert index[("cost_vnd.state_total", STAFF)]["ST"] > 0.2
    for r in table.iter_rows(named=True):
        assert r["S1_conf"] >= 0 and r["ST_conf"] >= 0


def test_figures_are_averaged_over_seeds_in_design_order(saltelli_sweep: Path) -> None:
    figure = "cashless_share.run_payments"
    manifest, means = point_means(saltelli_sweep, [figure])
    assert means["point"].to_list() == [d["point"] for d in manifest["design"]]
    assert means["seeds"].to_list() == [2] * len(manifest["design"])
    rows = read_results(saltelli_sweep)
    first = manifest["design"][0]["point"]
    assert means[figure][0] == pytest.approx(rows.filter(pl.col("point") == first)[figure].mean(), abs=0)


def sensitivity_cli(sweep_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "welfare_sim", "sensitivity", str(sweep_dir), "--resamples", "100"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


def test_command_prints_and_writes_the_chart_and_table(saltelli_sweep: Path) -> None:
    proc = sensitivity_cli(saltelli_sweep)
    assert proc.returncode == 0, proc.stderr
    assert "first order S1" in proc.stdout and "total ST" in proc.stdout
    assert "what drives each figure" in proc.stdout
    folder = saltelli_sweep / "sensitivity"
    png = (folder / "sensitivity.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    table = pl.read_parquet(folder / "indices.parquet")
    assert set(table["parameter"]) == {APPLY, STAFF, REACH}
    assert pl.read_csv(folder / "indices.csv").height == table.height


def test_a_grid_sweep_is_refused_with_the_fix(tmp_path: Path) -> None:
    sweep = load_sweep(write_sweep(tmp_path, {"grid": {APPLY: [0.1, 0.2]}}, seeds=1))
    run_sweep(sweep, workers=1)
    with pytest.raises(ScenarioError, match="method: saltelli"):
        sobol_indices(sweep.out)
    proc = subprocess.run(
        [sys.executable, "-m", "welfare_sim", "sensitivity", str(sweep.out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "the sweep is a grid design" in proc.stderr and "parameters.design.method: saltelli" in proc.stderr


def test_the_installed_command_offers_sensitivity() -> None:
    """Registered by welfare_sim.sim.cli.sweep:register (entry point `sweep`), so the console script has it."""
    script = shutil.which("welfare-sim") or str(Path(sys.executable).parent / "welfare-sim")
    proc = subprocess.run(
        [script, "sensitivity", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "Sobol' indices from a saltelli-design sweep" in proc.stdout
    assert "--figure" in proc.stdout and "--resamples" in proc.stdout


def test_a_small_sample_warns_and_the_chart_marks_what_runs_past_its_axis(
    saltelli_sweep: Path, tmp_path: Path
) -> None:
    from welfare_sim.sim.experiments.sensitivity import plot_indices, reliability_warnings

    table, _ = sobol_indices(saltelli_sweep, resamples=100)
    warnings = reliability_warnings(table, 8)
    assert any("samples: 8" in w and "64 or more" in w for w in warnings)
    # the case: an index of 1.469 ± 7.205 from a 4-sample design
    wild = pl.DataFrame(
        {
            "figure": ["f", "f"],
            "parameter": ["a", "b"],
            "S1": [1.469, 0.3],
            "S1_conf": [7.205, 0.05],
            "ST": [0.5, 0.35],
            "ST_conf": [0.1, 0.05],
            "mean": [1.0, 1.0],
            "std": [0.1, 0.1],
        }
    )
    warned = reliability_warnings(wild, 1024)
    assert len(warned) == 1 and "a S1 1.469 ± 7.205" in warned[0] and "b " not in warned[0]
    calm = wild.with_columns(pl.Series("S1", [0.6, 0.3]), pl.Series("S1_conf", [0.05, 0.05]))
    assert reliability_warnings(calm, 1024) == []
    marks = plot_indices(wild, tmp_path / "s.png", "t")
    assert marks == ["f / a: S1 1.47 ± 7.21"]
    assert plot_indices(calm, tmp_path / "c.png", "t") == []


def test_the_command_warns_of_a_small_sample(saltelli_sweep: Path) -> None:
    proc = sensitivity_cli(saltelli_sweep)
    assert proc.returncode == 0, proc.stderr
    assert "warning: the design has samples: 8" in proc.stderr
    assert "unreliable, see the warnings" in " ".join(proc.stdout.split())
