"""The Python API (`import welfare_sim as ws`): every call, and the same numbers as the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from factory import small
from matplotlib.figure import Figure

import welfare_sim as ws
from welfare_sim.sim.api import SERIES

ROOT = Path(__file__).resolve().parents[1]
HOA_BINH = ROOT / "scenarios" / "hoa_binh.yaml"
ATMS = "geography.districts.1.atms"


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "welfare_sim", *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )


def write_scenario(folder: Path, data: dict, name: str = "small.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def same_files(a: Path, b: Path, names: list[str]) -> None:
    assert names
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.fixture(scope="module")
def base() -> ws.Scenario:
    return ws.Scenario.from_dict(small(), "tests/factory.py")


@pytest.fixture(scope="module")
def result(base: ws.Scenario) -> ws.Result:
    return ws.Sim(base, seed=3).run()


# --------------------------------------------------------------------------- import


LAZY_CHECK = """
import json, sys
import welfare_sim as ws
stages = {"import": sorted(sys.modules)}
sc = ws.load(sys.argv[1], set={"months": 1})
result = ws.Sim(sc, seed=1).run()
stages["run"] = sorted(sys.modules)
result.plot("account_coverage")
stages["plot"] = sorted(sys.modules)
print(json.dumps(stages))
"""


def test_import_welfare_sim_stays_light(tmp_path: Path) -> None:
    """`import welfare_sim` loads none of the heavy modules; running loads no plotting, Dask,
    SALib or optimiser; plotting loads matplotlib (so the check does see what a call imports)."""
    proc = subprocess.run(
        [sys.executable, "-c", LAZY_CHECK, str(HOA_BINH)], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    stages = {k: set(v) for k, v in json.loads(proc.stdout).items()}
    heavy = {"polars", "numpy", "pydantic", "yaml", "simpy", "scipy", "matplotlib", "dask", "distributed", "SALib"}
    assert {m.split(".")[0] for m in stages["import"]} & heavy == set()
    assert not any(m.startswith("welfare_sim.") for m in stages["import"])
    late = {"matplotlib", "dask", "distributed", "SALib", "scipy.optimize", "typer"}
    assert stages["run"] & late == set()
    assert "polars" in stages["run"] and "matplotlib" in stages["plot"]


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        ws.nothing_here  # noqa: B018
    assert {"load", "Sim", "compare", "sweep", "calibrate"} <= set(dir(ws))


# --------------------------------------------------------------------------- scenarios


def test_load_with_overrides_and_change_in_code() -> None:
    sc = ws.load(HOA_BINH, set={"months": 2})
    assert sc.months == 2 and sc.overrides == ["months=2"]
    assert ws.load(HOA_BINH, set=["months=2"]).digest() == sc.digest()
    before = sc.geography.districts[0].atms
    sc2 = sc.with_changes({"geography.districts.0.atms": before + 50, "start": "2023-02"}, name="more atms")
    assert sc2.geography.districts[0].atms == before + 50 and sc2.model.start == "2023-02"
    assert sc2.name == "more atms" and sc2.months == 2
    assert sc.geography.districts[0].atms == before  # the original is unchanged
    # the changes are recorded as `--set` writes them, for the run folder's manifest
    assert sc2.overrides == ["months=2", f"geography.districts.0.atms={before + 50}", "start=2023-02", "name=more atms"]


@pytest.mark.parametrize(
    "override, api_call",
    [
        ("geography.districts.0.atms=-1", lambda: ws.load(HOA_BINH).with_changes({"geography.districts.0.atms": -1})),
        ("months=0", lambda: ws.load(HOA_BINH, set={"months": 0})),
        ("geography.nonsense=1", lambda: ws.load(HOA_BINH, set={"geography.nonsense": 1})),
    ],
)
def test_bad_values_raise_the_cli_message(override: str, api_call) -> None:  # noqa: ANN001
    with pytest.raises(ws.ScenarioError) as caught:
        api_call()
    proc = cli("validate", str(HOA_BINH), "--set", override)
    assert proc.returncode == 2, proc.stderr
    message = proc.stderr.strip().removeprefix("error:").strip()
    assert " ".join(str(caught.value).split()) == " ".join(message.split())
    assert len(caught.value.problems) == 1


# --------------------------------------------------------------------------- a run


def test_result_tables_and_summary(base: ws.Scenario, result: ws.Result) -> None:
    assert set(result.tables) == {"monthly", "subgroups", "points", "waits", "ledger", "funnel", "communes"}
    for name, frame in result.tables.items():
        assert isinstance(frame, pl.DataFrame) and frame.height > 0, name
        assert frame.equals(getattr(result, name))
    assert result.monthly["month"].n_unique() == base.months
    assert result.summary["scenario"] == base.name and result.summary["seed"] == 3
    assert result.summary["months"] == base.months


def test_timeseries_adds_up_to_the_summary(result: ws.Result) -> None:
    ts = result.timeseries
    s = result.summary
    assert ts.columns == ["month", "period", *SERIES]
    periods = ts["period"].dt.strftime("%Y-%m")
    assert ts.height == s["months"] and [periods[0], periods[-1]] == s["period"]
    assert int(ts["state_cost_vnd"].sum()) == s["cost_vnd"]["state_total"]
    assert int(ts["beneficiary_cost_vnd"].sum()) == s["cost_vnd"]["beneficiary_total"]
    assert int(ts["failed_credits"].sum()) == s["failed_credits"]["count"]
    assert round(ts["account_coverage"][-1], 6) == s["account_coverage"]["last_month"]
    assert round(ts["account_coverage"][0], 6) == s["account_coverage"]["first_month"]
    assert ts["beneficiaries"][-1] == s["beneficiaries"]["last_month"]
    # the months' means, weighted by the payments they count, give the run's mean
    counted = result.run_result.days_hist.sum(axis=1)
    run_mean = float((ts["days_to_money_mean"].to_numpy() * counted).sum() / counted.sum())
    assert round(run_mean, 3) == s["days_to_money"]["mean_days"]


@pytest.mark.parametrize("name", [*SERIES, "coverage"])
def test_plot_draws_the_figure_over_time(result: ws.Result, name: str) -> None:
    fig = result.plot(name)
    assert isinstance(fig, Figure)
    [ax] = fig.axes
    [line] = ax.get_lines()
    key = {"coverage": "account_coverage"}.get(name, name)
    expected = result.timeseries[key].cast(pl.Float64).to_numpy()
    assert np.allclose(line.get_ydata().astype(float), expected, equal_nan=True)
    assert [t.get_text() for t in ax.get_xticklabels()][0] == result.timeseries["period"][0].strftime("%Y-%m")


def test_plot_of_an_unknown_figure_lists_the_allowed_names(result: ws.Result) -> None:
    with pytest.raises(ValueError, match="unknown figure; allowed: account_coverage, cashless_share"):
        result.plot("happiness")


def test_sim_keeps_its_result(base: ws.Scenario) -> None:
    sim = ws.Sim(base, seed=3, months=2)
    with pytest.raises(RuntimeError, match=r"sim\.run\(\)"):
        sim.summary  # noqa: B018
    out = sim.run()
    assert sim.result is out and sim.summary is out.summary and out.summary["months"] == 2
    assert isinstance(sim.plot("cashless_share"), Figure)


def test_multisim_runs_each_seed(base: ws.Scenario) -> None:
    ms = ws.MultiSim(base, seeds=[3, 4], months=2)
    with pytest.raises(RuntimeError, match="run"):
        ms.summary  # noqa: B018
    ms.run()
    one = ws.Sim(base, seed=4, months=2).run()
    assert ms.results[1].summary == one.summary
    assert ms.summary["seed"].to_list() == [3, 4]
    assert ms.summary["account_coverage.last_month"][1] == one.summary["account_coverage"]["last_month"]
    assert ms.timeseries.height == 4 and ms.timeseries["seed"].to_list() == [3, 3, 4, 4]
    [line] = ms.plot("unpaid_share").axes[0].get_lines()
    means = ms.timeseries.group_by("month").agg(pl.col("unpaid_share").mean()).sort("month")
    assert np.allclose(line.get_ydata(), means["unpaid_share"].to_numpy())


def test_save_writes_the_same_bytes_as_the_cli(tmp_path: Path) -> None:
    """`Sim(...).run().save(dir)`, `Sim(...).run(out=dir)` and `welfare-sim run --out` write
    the same run folder for the same scenario, changes and seed."""
    sc = ws.load(HOA_BINH, set={"months": 2})
    saved = ws.Sim(sc, seed=11).run().save(tmp_path / "api")
    ws.run(sc, seed=11, out=tmp_path / "api-out")
    proc = cli("run", str(HOA_BINH), "--set", "months=2", "--seed", "11", "--out", str(tmp_path / "cli"), "--json")
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in (tmp_path / "cli").iterdir())
    assert "payments.parquet" in names and "monthly.parquet" in names
    assert sorted(p.name for p in saved.iterdir()) == names
    same_files(saved, tmp_path / "cli", names)
    same_files(tmp_path / "api-out", tmp_path / "cli", names)


def test_save_and_report_never_replace_what_is_not_a_run_folder(result: ws.Result, tmp_path: Path) -> None:
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "thesis.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(FileExistsError, match="not a run folder"):
        result.save(mine)
    with pytest.raises(FileExistsError, match="not a run folder"):
        result.report(mine)
    assert [p.name for p in mine.iterdir()] == ["thesis.txt"]


def test_report_writes_html_into_the_run_folder(base: ws.Scenario, tmp_path: Path) -> None:
    res = ws.Sim(base, seed=3, months=2).run()
    with pytest.raises(ValueError, match="give the folder to write"):
        res.report()
    html = res.report(tmp_path / "run")
    assert html.parent == tmp_path / "run" and html.suffix == ".html"
    assert "<html" in html.read_text(encoding="utf-8").lower()
    assert json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8")) == res.summary
    with pytest.raises(ValueError, match="xx"):
        res.report(lang="xx")


# --------------------------------------------------------------------------- a comparison


def test_compare_matches_the_cli(tmp_path: Path) -> None:
    base_file = write_scenario(tmp_path, small())
    other = small(**{ATMS: 3})
    other["name"] = "atms"
    other_file = write_scenario(tmp_path, other, "atms.yaml")
    cmp = ws.compare(ws.load(base_file), [other_file], seeds=2)
    assert cmp.names == ["small", "atms"] and cmp.seeds == [7, 8]
    assert cmp.runs.height == 4 and set(cmp.table["scenario"]) == {"small", "atms"}
    base_rows = cmp.table.filter(pl.col("scenario") == "small")
    assert (base_rows["diff_mean"] == 0).all()
    saved = cmp.save(tmp_path / "api")
    proc = cli("compare", str(base_file), str(other_file), "--seeds", "2", "--out", str(tmp_path / "cli"))
    assert proc.returncode == 0, proc.stderr
    same_files(
        saved,
        tmp_path / "cli",
        ["table.parquet", "runs.parquet", "timeseries.parquet", "strategies.parquet", "comparison.json", "table.md"],
    )
    assert cmp.markdown() == (saved / "table.md").read_text(encoding="utf-8")


def test_compare_plots(base: ws.Scenario) -> None:
    cmp = ws.compare(base, [base.with_changes({ATMS: 3}, name="atms")], seeds=[1, 2], months=2)
    fig = cmp.plot("account_coverage")
    lines = fig.axes[0].get_lines()
    assert [ln.get_label() for ln in lines] == ["small (base)", "atms"]
    means = cmp.timeseries.group_by("scenario", "month").agg(pl.col("account_coverage").mean()).sort("month")
    expected = means.filter(pl.col("scenario") == "atms")["account_coverage"].to_numpy()
    assert np.allclose(lines[1].get_ydata(), expected)
    forest = cmp.plot("state_cost_per_payment_vnd")
    assert [t.get_text() for t in forest.axes[0].get_yticklabels()] == ["atms"]
    with pytest.raises(ValueError, match="unknown figure"):
        cmp.plot("happiness")


def test_compare_needs_the_same_months(base: ws.Scenario) -> None:
    with pytest.raises(ws.ScenarioError, match="give them the same start and months"):
        ws.compare(base, [base.with_changes({"months": 2})], seeds=1)


# --------------------------------------------------------------------------- sweep and calibrate


def test_sweep_in_code_gives_the_runs_numbers(base: ws.Scenario) -> None:
    sweep = ws.sweep(base, grid={ATMS: [0, 4]}, seeds=2, months=2)
    assert sweep.ok and sweep.out is None
    assert sweep.table.height == 4 and sweep.table[ATMS].to_list() == [0, 0, 4, 4]
    assert sweep.table["seed"].to_list() == [7, 8, 7, 8]
    assert len(sweep.records) == 4 and sweep.records[0][ATMS] == 0
    # each row is the run of that point and seed
    row = sweep.records[3]
    direct = ws.Sim(base.with_changes({ATMS: 4}), seed=8, months=2).run().summary
    assert row["account_coverage.last_month"] == direct["account_coverage"]["last_month"]
    assert row["cost_vnd.state_total"] == direct["cost_vnd"]["state_total"]


def test_sweep_file_and_bad_grid(tmp_path: Path, base: ws.Scenario) -> None:
    write_scenario(tmp_path, small())
    spec = {"base": "small.yaml", "parameters": {"grid": {ATMS: [0, 4]}}, "seeds": 2, "months": 2}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    from_file = ws.sweep(tmp_path / "s.yaml", out=tmp_path / "out")
    assert from_file.out == tmp_path / "out" and (tmp_path / "out" / "sweep.json").is_file()
    in_code = ws.sweep(base, grid={ATMS: [0, 4]}, seeds=2, months=2)
    assert from_file.table.equals(in_code.table)
    with pytest.raises(ws.ScenarioError, match="unknown key 'atmz'"):
        ws.sweep(base, grid={"geography.districts.1.atmz": [1]})


def test_calibrate_from_code(tmp_path: Path) -> None:
    from test_calibration import TRUE, generated_targets, tiny

    from welfare_sim.calibration.fit import calibrate as fit
    from welfare_sim.calibration.targets import Target

    data = tiny()
    targets = generated_targets(data, TRUE, seeds=(101,))
    sc = ws.Scenario.from_dict(data, "tiny")
    cal = ws.calibrate(sc, targets, seeds=[7], budget=10, loo=False)
    direct = fit(sc.model, data, [Target.model_validate(t) for t in targets], [7], budget=10, loo=False)
    assert cal.parameters["value"].to_list() == [p.value for p in direct.parameters]
    assert cal.targets["name"].to_list() == [t["name"] for t in targets]
    assert cal.targets["model"].to_list() == [t.model for t in direct.targets]
    fitted = cal.parameters.filter(pl.col("path") == "assumptions.opening.monthly_apply_prob")["value"][0]
    assert cal.scenario.assumptions.opening.monthly_apply_prob == pytest.approx(fitted)
    written = cal.save(tmp_path / "fit")
    assert {p.name for p in written} >= {"fit_report.md", "fit_report.json", "fit.png"}
    with pytest.raises(ws.ScenarioError, match="no free parameters"):
        ws.calibrate(ws.Scenario.from_dict(small(), "small"), targets)
