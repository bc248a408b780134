"""Parameter sweeps: every (point, seed) exactly once, common random numbers, resumable after
SIGKILL, failures recorded without sinking the sweep, and a dataset polars, pandas and DuckDB
all read."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
import yaml
from factory import small

from welfare_sim.sim.experiments.sweep import (
    flatten_summary,
    load_sweep,
    point_id,
    read_results,
    result_path,
    run_sweep,
    scenario_data,
)
from welfare_sim.sim.run import run_scenario
from welfare_sim.sim.scenario import ScenarioError, validate_scenario

ROOT = Path(__file__).resolve().parents[1]
# staff are paid only in the bottom-up cost model: the sweeps use it
STAFF = "assumptions.costs.staff_per_team_day_vnd"
APPLY = "assumptions.opening.monthly_apply_prob"
TEAMS = "interventions.drives.0.teams"


def write_sweep(folder: Path, spec: dict[str, Any], months: int = 2, name: str = "sweep.yaml") -> Path:
    base = small(months=months, **{"assumptions.costs.model": "bottom_up"})
    (folder / "small.yaml").write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    path = folder / name
    path.write_text(yaml.safe_dump({"base": "small.yaml", **spec}, allow_unicode=True), encoding="utf-8")
    return path


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def cli(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "welfare_sim", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def part_files(out: Path) -> list[Path]:
    return sorted((out / "results").rglob("*.parquet"))


# --------------------------------------------------------------------------- sweep files


def test_grid_points_and_seeds(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, {"parameters": {"grid": {TEAMS: [1, 2, 3], APPLY: [0.05, 0.2]}}, "seeds": 3})
    sweep = load_sweep(path)
    assert len(sweep.points) == 6
    got = {(p.values[TEAMS], p.values[APPLY]) for p in sweep.points}
    assert got == {(t, a) for t in (1, 2, 3) for a in (0.05, 0.2)}
    assert sweep.seeds == [7, 8, 9]  # the base scenario's seed, then +1, +2
    assert sweep.out == Path("outputs/sweep-sweep")  # no out: given, so under ./outputs like `run`
    assert len({p.id for p in sweep.points}) == 6
    assert all(p.id == point_id(p.values) and p.id.startswith("p") for p in sweep.points)
    assert sweep.dtypes == {TEAMS: "Int64", APPLY: "Float64"}


def test_out_is_relative_to_the_sweep_file(tmp_path: Path) -> None:
    (tmp_path / "sweeps").mkdir()
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(small()), encoding="utf-8")
    path = tmp_path / "sweeps" / "s.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "base": "../small.yaml",
                "parameters": {"grid": {TEAMS: [1]}},
                "seeds": [3, 1],
                "out": "../outputs/s",
            }
        ),
        encoding="utf-8",
    )
    sweep = load_sweep(path)
    assert sweep.out.resolve() == (tmp_path / "outputs" / "s").resolve()
    assert sweep.seeds == [3, 1]
    assert sweep.base_file == (tmp_path / "small.yaml").resolve()


@pytest.mark.parametrize("method", ["lhs", "sobol"])
def test_space_filling_designs_stay_in_range_and_are_reproducible(tmp_path: Path, method: str) -> None:
    design = {
        "method": method,
        "points": 16,
        "seed": 3,
        "ranges": {APPLY: [0.01, 0.2], TEAMS: [1, 6]},
        "integer": [TEAMS],
    }
    sweep = load_sweep(write_sweep(tmp_path, {"parameters": {"design": design}, "seeds": 1}))
    values = [p.values for p in sweep.design]
    assert len(values) == 16
    assert all(0.01 <= v[APPLY] <= 0.2 and 1 <= v[TEAMS] <= 6 for v in values)
    assert all(isinstance(v[TEAMS], int) and isinstance(v[APPLY], float) for v in values)
    # space-filling: each tenth of the first range holds at least one point, for both methods
    assert len({int((v[APPLY] - 0.01) / 0.019) for v in values}) >= 9
    again = load_sweep(write_sweep(tmp_path, {"parameters": {"design": design}, "seeds": 1}))
    assert [p.id for p in again.design] == [p.id for p in sweep.design]
    other = load_sweep(write_sweep(tmp_path, {"parameters": {"design": {**design, "seed": 4}}, "seeds": 1}))
    assert [p.id for p in other.design] != [p.id for p in sweep.design]


def test_saltelli_design_has_n_times_d_plus_2_points(tmp_path: Path) -> None:
    design = {
        "method": "saltelli",
        "samples": 8,
        "ranges": {APPLY: [0.01, 0.2], STAFF: [3e5, 9e5], TEAMS: [1, 4]},
    }
    sweep = load_sweep(write_sweep(tmp_path, {"parameters": {"design": design}, "seeds": 1}))
    assert len(sweep.design) == 8 * (3 + 2)


@pytest.mark.parametrize(
    ("spec", "needles"),
    [
        (
            {"parameters": {"grid": {TEAMS: [1]}}, "seeds": 1, "seed": 4},
            ["sweep.yaml › seed: unknown key", "valid keys here:", "seeds"],
        ),
        (
            {"parameters": {"grid": {"assumptions.opening.monthly_apply_prop": [0.1]}}, "seeds": 1},
            [
                "sweep.yaml › parameters.grid",
                "unknown key 'monthly_apply_prop'",
                "monthly_apply_prob",
            ],
        ),
        (
            {"parameters": {"grid": {"interventions.drives.3.teams": [1]}}, "seeds": 1},
            ["interventions.drives.3 is not an item of a list of 1"],
        ),
        (
            {
                "parameters": {
                    "grid": {TEAMS: [1]},
                    "design": {"method": "lhs", "points": 4, "ranges": {APPLY: [0, 1]}},
                },
                "seeds": 1,
            },
            ["sweep.yaml › parameters: give exactly one of grid: or design:"],
        ),
        (
            {
                "parameters": {"design": {"method": "sobol", "points": 10, "ranges": {APPLY: [0, 1]}}},
                "seeds": 1,
            },
            ["power of 2", "got 10"],
        ),
        (
            {
                "parameters": {"design": {"method": "lhs", "points": 4, "ranges": {APPLY: [0.3, 0.1]}}},
                "seeds": 1,
            },
            ["low < high"],
        ),
        ({"parameters": {"grid": {"seed": [1, 2]}}, "seeds": 1}, ["cannot be swept", "seeds:"]),
        ({"parameters": {"grid": {TEAMS: [1, 1]}}, "seeds": 1}, ["more than once"]),
        ({"parameters": {"grid": {TEAMS: [1]}}, "seeds": 0}, ["sweep.yaml › seeds:", "≥ 1"]),
        (
            {"parameters": {"grid": {TEAMS: [1]}}, "seeds": "two"},
            ["sweep.yaml › seeds: seeds must be a number of seeds", "[1, 2, 3] (got 'two')"],
        ),
        (
            {
                "parameters": {"design": {"method": "lhs", "points": 4, "ranges": {APPLY: [0.1]}}},
                "seeds": 1,
            },
            [f"ranges.{APPLY} must be two numbers [low, high] (got [0.1])"],
        ),
        (
            {
                "parameters": {"design": {"method": "halton", "points": 4, "ranges": {APPLY: [0, 1]}}},
                "seeds": 1,
            },
            ["parameters.design.method: must be one of 'sobol', 'lhs' or 'saltelli'", "halton"],
        ),
        (
            {"parameters": {"grid": {TEAMS: [1]}}, "seeds": 1, "base": "nowhere.yaml"},
            ["sweep.yaml › base: nowhere.yaml: file not found"],
        ),
    ],
)
def test_bad_sweep_files_name_the_key_and_the_fix(tmp_path: Path, spec: dict, needles: list[str]) -> None:
    with pytest.raises(ScenarioError) as info:
        load_sweep(write_sweep(tmp_path, spec))
    text = "\n".join(info.value.problems)
    for needle in needles:
        assert needle in text, text


def test_a_sweep_file_that_is_not_a_mapping_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- base\n- seeds\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="list.yaml: a sweep file must be a YAML mapping"):
        load_sweep(path)


def test_bad_sweep_file_exits_2_without_traceback(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, {"parameters": {"grid": {"assumptions.opening.nope": [1]}}, "seeds": 1})
    proc = cli("sweep", str(path), "--workers", "1")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "unknown key 'nope'" in proc.stderr
    assert not (tmp_path / "outputs").exists()


# --------------------------------------------------------------------------- results


def test_rows_are_the_runs_headline_with_common_random_numbers(tmp_path: Path) -> None:
    spec = {
        "parameters": {"grid": {STAFF: [400000, 900000], TEAMS: [1, 3]}},
        "seeds": 2,
        "out": "out",
        "monthly": True,
    }
    sweep = load_sweep(write_sweep(tmp_path, spec))
    outcome = run_sweep(sweep, workers=1)
    assert outcome.ok and outcome.ran == outcome.runs == 8 and outcome.skipped == 0
    rows = read_results(sweep.out)
    assert rows.height == 8
    assert rows.select("point", "seed").n_unique() == 8
    # common random numbers: every point ran with the same seeds
    assert rows.group_by("point").agg(pl.col("seed").sort())["seed"].to_list() == [[7, 8]] * 4

    # a row holds the parameters and exactly the headline of that run, done directly
    point = sweep.points[3]
    direct = run_scenario(validate_scenario(scenario_data(sweep.base, point.values)), seed=8, months=2)
    row = rows.filter(pl.col("point") == point.id, pl.col("seed") == 8).row(0, named=True)
    assert {k: row[k] for k in point.values} == point.values
    assert {k: row[k] for k in flatten_summary(direct.summary)} == flatten_summary(direct.summary)

    # the staff cost changes the state's cost but not one draw: coverage is identical per seed
    by = rows.group_by(TEAMS, "seed").agg(
        pl.col("account_coverage.last_month").n_unique().alias("coverage_values"),
        pl.col("cost_vnd.state_total").n_unique().alias("cost_values"),
    )
    assert by["coverage_values"].to_list() == [1] * 4
    assert by["cost_values"].to_list() == [2] * 4

    monthly = pl.scan_parquet(sweep.out / "monthly", hive_partitioning=True).collect()
    assert monthly.height == 8 * 2
    assert set(monthly["month"].to_list()) == {0, 1}


def test_dataset_reads_in_polars_pandas_and_duckdb(tmp_path: Path) -> None:
    import duckdb
    import pandas as pd

    sweep = load_sweep(write_sweep(tmp_path, {"parameters": {"grid": {TEAMS: [1, 2, 3]}}, "seeds": 2, "out": "o"}))
    assert run_sweep(sweep, workers=1).ok
    results = sweep.out / "results"
    lazy = pl.scan_parquet(results, hive_partitioning=True).collect().sort("point", "seed")
    frame = pd.read_parquet(results).sort_values(["point", "seed"])
    duck = duckdb.sql(
        'select point, seed, "cost_vnd.state_total" as cost '
        f"from read_parquet('{results}/**/*.parquet', "
        "hive_partitioning=true) order by point, seed"
    ).fetchall()
    assert lazy.height == len(frame) == len(duck) == 6
    assert lazy["cost_vnd.state_total"].to_list() == frame["cost_vnd.state_total"].tolist() == [c for _, _, c in duck]
    assert lazy["point"].to_list() == [str(p) for p in frame["point"]] == [p for p, _, _ in duck]
    assert lazy["seed"].to_list() == [int(s) for s in frame["seed"]] == [s for _, s, _ in duck]
    # every partition file has the same columns and types
    schemas = {str(pq.read_schema(f)) for f in part_files(sweep.out)}
    assert len(schemas) == 1


def test_a_kill_during_set_up_does_not_block_the_rerun(tmp_path: Path) -> None:
    # killed after OUT/.tmp was made and before sweep.json was written: only the staging folder
    # (perhaps with a half-written sweep.json in it) is there; the rerun must take the folder
    sweep = load_sweep(write_sweep(tmp_path, {"parameters": {"grid": {TEAMS: [1, 2]}}, "seeds": 1, "out": "o"}))
    (sweep.out / ".tmp").mkdir(parents=True)
    (sweep.out / ".tmp" / "sweep.json.abc.tmp").write_text('{"half', encoding="utf-8")
    result = run_sweep(load_sweep(tmp_path / "sweep.yaml"), workers=1)
    assert result.ok and result.ran == 2
    assert read_results(sweep.out).height == 2
    assert not (sweep.out / ".tmp").exists()


def test_rerun_skips_finished_runs_and_clears_leftovers(tmp_path: Path) -> None:
    sweep = load_sweep(write_sweep(tmp_path, {"parameters": {"grid": {TEAMS: [1, 2]}}, "seeds": 2, "out": "o"}))
    assert run_sweep(sweep, workers=1).ran == 4
    before = read_results(sweep.out)
    gone = result_path(sweep.out, sweep.points[1].id, 8)
    gone.unlink()
    (sweep.out / ".tmp").mkdir()
    (sweep.out / ".tmp" / "part.parquet.abc.tmp").write_bytes(b"half a file")
    # what a kill between writing a retried run's result and removing its old failure leaves
    stale = sweep.out / "failures" / f"point={sweep.points[0].id}" / "seed=7.json"
    stale.parent.mkdir(parents=True)
    stale.write_text('{"error": "an earlier failure"}', encoding="utf-8")
    again = run_sweep(load_sweep(tmp_path / "sweep.yaml"), workers=1)
    assert (again.ran, again.skipped) == (1, 3)
    assert gone.exists()
    assert not stale.exists()
    assert not (sweep.out / ".tmp").exists()
    assert read_results(sweep.out).equals(before)
    third = run_sweep(load_sweep(tmp_path / "sweep.yaml"), workers=1)
    assert (third.ran, third.skipped) == (0, 4)


def test_a_folder_of_another_sweep_is_refused(tmp_path: Path) -> None:
    sweep = load_sweep(write_sweep(tmp_path, {"parameters": {"grid": {TEAMS: [1]}}, "seeds": 1, "out": "o"}))
    run_sweep(sweep, workers=1)
    changed = write_sweep(tmp_path, {"parameters": {"grid": {TEAMS: [1]}}, "seeds": 1, "out": "o", "months": 1})
    with pytest.raises(ScenarioError, match="holds results of a different sweep .months changed"):
        run_sweep(load_sweep(changed), workers=1)


def test_extending_a_grid_keeps_the_finished_points(tmp_path: Path) -> None:
    sweep = load_sweep(write_sweep(tmp_path, {"parameters": {"grid": {TEAMS: [1, 2]}}, "seeds": 1, "out": "o"}))
    run_sweep(sweep, workers=1)
    bigger = load_sweep(write_sweep(tmp_path, {"parameters": {"grid": {TEAMS: [1, 2, 3]}}, "seeds": 1, "out": "o"}))
    outcome = run_sweep(bigger, workers=1)
    assert (outcome.ran, outcome.skipped) == (1, 2)


# --------------------------------------------------------------------------- failures


def test_a_failing_point_is_recorded_and_the_others_finish(tmp_path: Path) -> None:
    path = write_sweep(
        tmp_path,
        {
            "parameters": {"grid": {"assumptions.opening.success_prob": [0.5, 1.5, 0.9]}},
            "seeds": 2,
            "out": "o",
        },
    )
    # as on a terminal, so that the progress bar is drawn (to stderr) and can be checked
    proc = cli("sweep", str(path), "--workers", "2", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    stderr = ANSI.sub("", proc.stderr)
    # (text mode turns the bar's carriage returns into newlines: one frame per line)
    last_frame = [line for line in stderr.splitlines() if " runs · " in line][-1]
    assert re.search(r"6/6 runs · 3/3 points · 2 failed \d:\d\d:\d\d eta \d:\d\d:\d\d", last_frame), last_frame
    assert re.search(r"[0-5]/6 runs · [0-3]/3 points · [0-2] failed .* eta ", stderr), stderr
    assert "2 run(s) failed" in proc.stderr
    assert "assumptions.opening.success_prob: must be ≤ 1 (got 1.5)" in proc.stderr
    sweep = load_sweep(path)
    bad = next(p for p in sweep.points if p.values["assumptions.opening.success_prob"] == 1.5)
    rows = read_results(sweep.out)
    assert rows.height == 4 and bad.id not in rows["point"].to_list()
    failures = sorted((sweep.out / "failures").rglob("*.json"))
    assert [f.parent.name for f in failures] == [f"point={bad.id}"] * 2
    record = yaml.safe_load(failures[0].read_text(encoding="utf-8"))
    assert record["kind"] == "invalid scenario"
    assert "success_prob: must be ≤ 1" in record["error"]
    assert record["parameters"] == {"assumptions.opening.success_prob": 1.5}
    # re-running retries only the failed runs; they fail again the same way
    again = cli("sweep", str(path), "--workers", "1")
    assert again.returncode == 3
    assert "2 ran now, 4 were already done, 2 failed" in " ".join(again.stdout.split())


# --------------------------------------------------------------------------- parallel and killed


def test_serial_and_process_pool_give_identical_rows(tmp_path: Path) -> None:
    spec = {
        "parameters": {
            "design": {
                "method": "lhs",
                "points": 6,
                "seed": 1,
                "ranges": {APPLY: [0.02, 0.3], TEAMS: [1, 4]},
                "integer": [TEAMS],
            }
        },
        "seeds": 2,
    }
    path = write_sweep(tmp_path, spec)
    serial = run_sweep(load_sweep(path, tmp_path / "serial"), workers=1)
    pool = run_sweep(load_sweep(path, tmp_path / "pool"), workers=2)
    assert serial.ok and pool.ok and serial.ran == pool.ran == 12
    a, b = read_results(tmp_path / "serial"), read_results(tmp_path / "pool")
    assert a.height == 12 and a.equals(b)


def test_sigkill_at_any_moment_then_rerun_completes(tmp_path: Path) -> None:
    # 24 points × 2 seeds of 6 months: long enough to be killed part way, twice
    spec = {
        "parameters": {"grid": {APPLY: [round(0.01 * i, 2) for i in range(1, 25)]}},
        "seeds": 2,
        "out": "o",
    }
    path = write_sweep(tmp_path, spec, months=6)
    sweep = load_sweep(path)
    total = len(sweep.points) * len(sweep.seeds)
    cmd = [sys.executable, "-m", "welfare_sim", "sweep", str(path), "--workers", "2"]

    # first as soon as the folder is set up (before any run finished), then twice mid-sweep
    for kill_after in (0, 3, 3):
        start = len(part_files(sweep.out)) if sweep.out.exists() else 0
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 300
        while not (sweep.out / ".tmp").exists() or len(part_files(sweep.out)) < start + kill_after:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its worker processes, at once
        proc.wait()
        done = len(part_files(sweep.out))
        assert done < total, "the kill came too late to test anything"
        for f in part_files(sweep.out):  # whatever is in the dataset is whole
            assert pl.read_parquet(f).height == 1

    final = cli("sweep", str(path), "--workers", "2")
    assert final.returncode == 0, final.stderr
    assert f"{total - done} ran now, {done} were already done, 0 failed" in " ".join(final.stdout.split())
    rows = read_results(sweep.out)
    assert rows.height == total and rows.select("point", "seed").n_unique() == total
    assert not (sweep.out / ".tmp").exists()
    assert not [f for f in sweep.out.rglob("*") if f.is_file() and f.suffix not in (".parquet", ".json")]
    # and the rows are those of an uninterrupted serial sweep
    clean = run_sweep(load_sweep(path, tmp_path / "clean"), workers=1)
    assert clean.ok and read_results(tmp_path / "clean").equals(rows)
