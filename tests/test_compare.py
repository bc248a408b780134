"""`welfare-sim compare`: common random numbers, paired intervals, the folder, parallel runs."""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import typer
import yaml
from factory import small
from scipy import stats

from welfare_sim.sim.cli import compare as compare_command
from welfare_sim.sim.experiments import compare
from welfare_sim.sim.run import run_scenario
from welfare_sim.sim.scenario import validate_scenario

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "welfare_sim", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )


def strategy_world(**changes: Any) -> dict[str, Any]:
    data = small(**{"months": 3, **changes})
    data["interventions"]["cash_closure"] = [{"name": "close", "start": "2023-02"}]
    data["interventions"]["atm_points"] = [
        {"name": "po", "start": "2023-02", "communes_per_month": 3}
    ]
    return data


# --------------------------------------------------------------------------- statistics


def test_paired_interval_is_the_t_interval_of_the_differences() -> None:
    diffs = np.array([1.0, 2.5, 0.5, 1.5, 2.0])
    mean, lo, hi = compare.paired_interval(diffs)
    want_lo, want_hi = stats.t.interval(
        0.95, len(diffs) - 1, loc=diffs.mean(), scale=stats.sem(diffs)
    )
    assert mean == pytest.approx(diffs.mean())
    assert (lo, hi) == pytest.approx((want_lo, want_hi))
    # one seed: one draw, no interval
    mean, lo, hi = compare.paired_interval(np.array([3.0]))
    assert mean == 3.0 and math.isnan(lo) and math.isnan(hi)


def test_distinguishable_marks_only_intervals_that_exclude_zero() -> None:
    runs = pl.DataFrame(
        {
            "scenario": ["b"] * 3 + ["s"] * 3,
            "seed": [1, 2, 3] * 2,
            **{k: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0] for k in compare.FIGURE_KEYS},
        }
    )
    # a clear shift in one figure, noise around zero in another
    runs = runs.with_columns(
        pl.when(pl.col("scenario") == "s")
        .then(pl.Series([0.0, 0.0, 0.0, 0.30, 0.31, 0.29]))
        .otherwise(pl.col("account_coverage_last"))
        .alias("account_coverage_last"),
        pl.when(pl.col("scenario") == "s")
        .then(pl.Series([0.0, 0.0, 0.0, 0.2, -0.3, 0.1]))
        .otherwise(pl.col("wait_p95_min"))
        .alias("wait_p95_min"),
    )
    table = compare.comparison_table(runs, ["b", "s"], [1, 2, 3])
    row = {r["figure"]: r for r in table.filter(pl.col("scenario") == "s").iter_rows(named=True)}
    assert row["account_coverage_last"]["distinguishable"] is True
    assert row["account_coverage_last"]["diff_lo"] > 0.25
    assert row["wait_p95_min"]["distinguishable"] is False
    assert row["wait_p95_min"]["diff_lo"] < 0 < row["wait_p95_min"]["diff_hi"]
    assert not table.filter(pl.col("scenario") == "b")["distinguishable"].any()
    assert (table["n_seeds"] == 3).all()


def test_a_difference_too_small_to_print_is_not_distinguishable() -> None:
    def table_for(shift: float) -> dict[str, Any]:
        runs = pl.DataFrame(
            {
                "scenario": ["b"] * 3 + ["s"] * 3,
                "seed": [1, 2, 3] * 2,
                **{k: [1.0, 2.0, 3.0, 1.0, 2.0, 3.0] for k in compare.FIGURE_KEYS},
            }
        ).with_columns(
            pl.when(pl.col("scenario") == "s")
            .then(pl.col("days_to_money_mean") + shift)
            .otherwise(pl.col("days_to_money_mean"))
            .alias("days_to_money_mean")
        )
        table = compare.comparison_table(runs, ["b", "s"], [1, 2, 3])
        return table.filter((pl.col("scenario") == "s") & (pl.col("figure") == "days_to_money_mean")).row(
            0, named=True
        )

    tiny = table_for(0.001)  # prints as "+0.00 days [0.00, 0.00]"
    assert tiny["diff_lo"] > 0 and tiny["distinguishable"] is False
    clear = table_for(0.02)
    assert clear["diff_lo"] > 0 and clear["distinguishable"] is True


# --------------------------------------------------------------------------- runs


def test_a_scenario_compared_with_itself_differs_by_exactly_zero() -> None:
    sc = validate_scenario(strategy_world(), "test")
    results = compare.run_all([sc, sc], ["a.yaml", "a.yaml"], [7, 8])
    names = compare.unique_names([sc, sc], ["a.yaml", "a.yaml"])
    assert names == ["small", "small #2"]
    table = compare.comparison_table(compare.runs_frame(names, results), names, [7, 8])
    other = table.filter(pl.col("scenario") == "small #2")
    assert other.height == len(compare.FIGURES)
    assert (other["diff_mean"] == 0.0).all()
    assert (other["diff_lo"] == 0.0).all() and (other["diff_hi"] == 0.0).all()
    assert not other["distinguishable"].any()
    # and the seeds do differ from each other: the zeros are not for want of noise
    first = compare.runs_frame(names, results).filter(pl.col("scenario") == "small")
    assert first["travel_min_per_payment"][0] != first["travel_min_per_payment"][1]


def test_parallel_runs_give_exactly_the_serial_results() -> None:
    a = validate_scenario(small(months=2), "test")
    b = validate_scenario(strategy_world(months=2), "test")
    serial = compare.run_all([a, b], ["a", "b"], [1, 2], workers=1)
    parallel = compare.run_all([a, b], ["a", "b"], [1, 2], workers=2)
    assert json.dumps(serial, sort_keys=True) == json.dumps(parallel, sort_keys=True)
    assert [(r["index"], r["seed"]) for r in parallel] == [(0, 1), (0, 2), (1, 1), (1, 2)]


def test_figures_add_the_strategies_costs_to_the_state() -> None:
    sc = validate_scenario(strategy_world(), "test")
    (one,) = compare.run_all([sc], ["s"], [7])
    fig = one["figures"]
    spent = one["strategies"]
    assert spent["atm_points_vnd"] > 0 and spent["drives_vnd"] > 0
    # the escorted cash runs are logistics already charged in the points table, not strategy spending
    cost_keys = [k for k in spent if k.endswith("_vnd") and k != "cash_in_transit_cost_vnd"]
    assert fig["strategy_cost_vnd"] == sum(spent[k] for k in cost_keys)
    run = run_scenario(sc, seed=7)
    plain = run.summary["cost_vnd"]
    # `run` and `compare` report one state cost, strategy spending included
    assert plain["state_strategies"] == fig["strategy_cost_vnd"] > 0
    assert fig["state_cost_total_vnd"] == plain["state_total"]
    # who is left behind: each subgroup's coverage in the last month, from the subgroup table
    last = run.subgroups.filter(pl.col("month") == run.subgroups["month"].max())
    for row in last.iter_rows(named=True):
        if row["subgroup"] != "all":
            want = row["with_account"] / row["beneficiaries"]
            assert fig[f"account_coverage_last_{row['subgroup']}"] == pytest.approx(want)
    assert fig["account_coverage_last_mountain_communes"] < fig["account_coverage_last"]
    assert fig["total_cost_vnd"] == fig["state_cost_total_vnd"] + fig["beneficiary_cost_total_vnd"]


# --------------------------------------------------------------------------- common random numbers


def one_more(data: dict[str, Any], district: int, commune: int) -> dict[str, Any]:
    """The same world with one more beneficiary at the end of one commune."""
    more = copy.deepcopy(data)
    d = more["geography"]["districts"][district]
    d["commune_beneficiaries"][commune] += 1
    d["beneficiaries"] += 1
    return more


def payments_of(data: dict[str, Any]) -> pl.DataFrame:
    return run_with_payments(data)[1]


def run_with_payments(data: dict[str, Any]) -> tuple[Any, pl.DataFrame]:
    with tempfile.TemporaryDirectory() as tmp:
        result = run_scenario(validate_scenario(data, "test"), payments_dir=Path(tmp))
        payments = pl.read_parquet(sorted(Path(tmp).glob("part-*.parquet"))).sort(
            "beneficiary_id", "month"
        )
    return result, payments


def crn_world(ample: bool) -> dict[str, Any]:
    data = small(months=5)
    counts = ([120, 100, 80], [90, 60])
    for district, c in zip(data["geography"]["districts"], counts, strict=True):
        district["commune_beneficiaries"] = list(c)
        district["beneficiaries"] = sum(c)
        district["atms"] = 1  # each district its own ATM: no queue shared across districts
    data["interventions"].update(
        {
            "atm_points": [
                {"name": "po", "start": "2023-02", "communes_per_month": 2, "targeting": "random"}
            ],
            "agents": [
                {"name": "ag", "start": "2023-03", "communes_per_month": 5, "targeting": "random"}
            ],
            "chip_id_payment": [{"name": "chip", "start": "2023-02"}],
            "home_delivery": [
                {"name": "home", "start": "2023-02", "deliveries_per_courier_day": 500}
            ],
            "digital_teams": [{"name": "dt", "start": "2023-01", "helps_per_team_per_month": 500}],
            "fee_waivers": [{"name": "fw", "start": "2023-02", "apply_multiplier": 2.0}],
            "cash_closure": [{"name": "close", "start": "2023-04"}],
        }
    )
    if ample:
        # enough counters that every queue clears before closing, and more cash than anyone asks
        # for; people still queue (and wait) behind each other
        points = data["assumptions"]["points"]
        for kind in ("commune_point", "post_office", "atm"):
            points[kind]["counters"] = 2
            points[kind]["float_vnd_per_day"] = 10**12
        for district in data["geography"]["districts"]:
            district["post_office_counters"] = 2
        data["interventions"]["atm_points"][0].update(
            counters=2, float_cap_vnd=10**12, float_cover=100
        )
        data["interventions"]["agents"][0].update(counters=2, float_vnd_per_day=10**12)
    return data


STATIC = [
    "beneficiary_id",
    "district",
    "commune",
    "category",
    "terrain",
    "age_group",
    "disabled",
    "ethnic_minority",
]


def test_one_more_beneficiary_changes_nothing_for_the_others() -> None:
    """What "nothing for the others" can truthfully mean when people share a queue.

    Every draw is keyed by the beneficiary's own id (and month, day, point), so the newcomer
    takes no one's draws: everyone keeps their attributes, their chance draws and their plans.
    But the newcomer does join queues and draws on cash floats at the points of their district
    (commune point, district post office, ATM, a strategy's point) and on its capacities (a
    courier's day, a team's month), and the drives and point placements order communes by size.
    So the strongest true statements are:
    * beneficiaries of a district that shares no point, float or capacity with the newcomer (here
      each district has its own ATM, and the drive order does not change) are not touched at all:
      their payment rows are identical, every column of every month;
    * in the newcomer's own district everyone keeps their attributes; their waits can change, and
      when a queue runs past closing time or a float runs short, who is paid that day can change,
      and through retries, suspension and the account funnel's eligibility that can carry on;
    * so when the shared points have room and cash for everyone (the next test), everything but
      the waits (and the time cost they carry) is identical for everyone else too.
    """
    data = crn_world(ample=False)
    before = payments_of(data)
    # commune 1: 100 → 101, the order of communes by size stays; the newcomer is paid in cash at
    # the commune point, among people of later communes and of the other district
    after = payments_of(one_more(data, district=0, commune=1))
    newcomer = 1 * (1 << 24) + 100
    assert (
        after.filter(
            (pl.col("beneficiary_id") == newcomer) & (pl.col("channel") == "cash_commune")
        ).height
        > 0
    )
    assert after.filter(pl.col("beneficiary_id") == newcomer).height == 5
    assert before.filter(pl.col("beneficiary_id") == newcomer).height == 0
    other_district = pl.col("district") == 1
    assert after.filter(other_district).equals(before.filter(other_district))
    same_district = (pl.col("district") == 0) & (pl.col("beneficiary_id") != newcomer)
    assert (
        after.filter(same_district)
        .select(STATIC)
        .equals(before.filter(same_district).select(STATIC))
    )


def test_with_room_for_everyone_one_more_beneficiary_changes_only_the_waits() -> None:
    data = crn_world(ample=True)
    data["seed"] = 10  # a seed where the newcomer stands in front of others in a queue
    run_before, before = run_with_payments(data)
    run_after, after = run_with_payments(
        one_more(data, district=1, commune=1)
    )  # Hills' smaller commune
    for result in (run_before, run_after):  # room for everyone: nobody turned away
        assert (
            result.waits["not_reached"].sum() == 0
            and result.waits["turned_away_no_cash"].sum() == 0
        )
    newcomer = 4 * (1 << 24) + 60  # commune 4, rank 60
    assert after.filter(pl.col("beneficiary_id") == newcomer).height == 5
    after = after.filter(pl.col("beneficiary_id") != newcomer)
    assert after.height == before.height
    queue_only = ["wait_min", "time_cost_vnd"]
    assert after.drop(queue_only).equals(before.drop(queue_only))
    # the newcomer did share a queue: others waited longer behind them, and only in Hills
    longer = after.filter(pl.col("wait_min") != before["wait_min"])
    assert longer.height > 0 and (longer["district"] == 1).all()
    assert (
        longer["wait_min"] > before.filter(pl.col("wait_min") != after["wait_min"])["wait_min"]
    ).all()


# --------------------------------------------------------------------------- the command


def write_scenarios(tmp: Path) -> tuple[Path, Path]:
    base = small(months=3)
    (tmp / "base.yaml").write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    other = {
        "extends": "base.yaml",
        "name": "closed",
        "interventions": {
            "cash_closure": [{"name": "close", "start": "2023-02"}],
            "drives+": [
                {
                    "name": "more",
                    "start": "2023-01",
                    "end": "2023-02",
                    "teams": 2,
                    "communes_per_team_per_month": 2,
                    "reach": 0.9,
                    "apply_prob": 0.9,
                }
            ],
        },
    }
    (tmp / "closed.yaml").write_text(yaml.safe_dump(other, allow_unicode=True), encoding="utf-8")
    return tmp / "base.yaml", tmp / "closed.yaml"


def test_compare_writes_the_comparison_folder(tmp_path: Path) -> None:
    base, other = write_scenarios(tmp_path)
    out = tmp_path / "cmp"
    proc = cli(
        "compare",
        str(base),
        str(other),
        str(base),
        "--seeds",
        "3",
        "--workers",
        "2",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((out / "comparison.json").read_text())
    assert meta["base"] == "small" and meta["scenarios"] == ["small", "closed", "small #2"]
    assert meta["files"] == [str(base), str(other), str(base)]
    assert meta["seeds"] == [7, 8, 9]
    assert [f["figure"] for f in meta["figures"]] == list(compare.FIGURE_KEYS)
    assert {f["unit"] for f in meta["figures"]} == {"share", "days", "min", "VND"}
    table = pl.read_parquet(out / "table.parquet")
    assert table.columns == [
        "scenario",
        "figure",
        "label",
        "unit",
        "mean",
        "diff_mean",
        "diff_lo",
        "diff_hi",
        "distinguishable",
        "n_seeds",
    ]
    assert table.height == 3 * len(compare.FIGURES)
    itself = table.filter(pl.col("scenario") == "small #2")
    assert (itself["diff_mean"] == 0).all() and not itself["distinguishable"].any()
    closed = {
        r["figure"]: r for r in table.filter(pl.col("scenario") == "closed").iter_rows(named=True)
    }
    assert (
        closed["cashless_share_run"]["diff_mean"] > 0
        and closed["cashless_share_run"]["distinguishable"]
    )
    assert closed["strategy_cost_vnd"]["diff_mean"] > 0  # the added drive costs money
    runs = pl.read_parquet(out / "runs.parquet")
    assert runs.height == 9 and set(compare.FIGURE_KEYS) <= set(runs.columns)
    series = pl.read_parquet(out / "timeseries.parquet")
    assert series.columns == [
        "scenario",
        "seed",
        "month",
        "period",
        "account_coverage",
        "cashless_share",
    ]
    assert series.height == 3 * 3 * 3
    assert (out / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "table.md").read_text(encoding="utf-8").splitlines()
    assert md[0] == "| figure | small (base) | closed | small #2 |"
    assert len([line for line in md if line.startswith("| ")]) == 1 + len(compare.FIGURES)
    cashless = next(line for line in md if line.startswith("| cashless share of payments, whole"))
    assert "**Δ +" in cashless.split(" | ")[2] and cashless.endswith("≈0 |")  # closed; itself
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind
    # the printed table: units, the zero marks, and the runtime
    assert (
        "≈0" in proc.stdout
        and " pp" in proc.stdout
        and "VND" in proc.stdout
        and "days" in proc.stdout
    )
    assert "9 runs in" in proc.stdout


def two_seed_runs(names: list[str]) -> pl.DataFrame:
    """Runs of `names` on seeds 1 and 2, every figure 0.5 then 0.6."""
    return pl.DataFrame(
        {
            "scenario": [n for n in names for _ in (1, 2)],
            "seed": [1, 2] * len(names),
            **{k: [0.5, 0.6] * len(names) for k in compare.FIGURE_KEYS},
        }
    )


def test_strategies_print_side_by_side_in_one_table() -> None:
    from rich.console import Console

    names = ["base", *(f"strategy_{k}" for k in range(7))]
    table = compare.comparison_table(two_seed_runs(names), names, [1, 2])
    console = Console(width=200, record=True)
    console.print(compare.table_for_console(table, names, 2, "title"))
    text = console.export_text()
    header = next(line for line in text.splitlines() if "strategy_0" in line)
    assert all(name in header for name in names[1:])  # every strategy in one row of headers
    assert text.count("title") == 1


def test_long_strategy_names_fold_in_an_80_column_terminal() -> None:
    """Hòa Bình's strategy names are long: in a terminal of 80 columns they wrap, never end in "…"."""
    from rich.console import Console

    names = ["hoa_binh_status_quo", "hoa_binh_chip_id_atms", "hoa_binh_digital_teams", "hoa_binh_home_delivery"]
    table = compare.comparison_table(two_seed_runs(names), names, [1, 2])
    console = Console(width=80, record=True)
    console.print(compare.table_for_console(table, names, 2, "title"))
    text = console.export_text()
    assert "…" not in text
    for name in names:  # each name's pieces, read down its column, give it back
        assert all(part in text for part in (name[:8], name[-6:])), name


def test_vnd_figures_print_in_one_readable_unit_per_row() -> None:
    assert compare.vnd_scale(70_467.0) == (1.0, "VND")
    assert compare.vnd_scale(2.58e9) == (1e9, "bn VND")
    assert compare.vnd_scale(-4.5e7) == (1e6, "M VND")
    assert compare._fmt(52.31e9, "VND", scale=(1e9, "bn VND")) == "52.31 bn VND"
    assert compare._fmt(-5.01e9, "VND", diff=True, scale=(1e9, "bn VND")) == "-5.01 bn VND"
    assert compare._fmt(1738.4, "VND", diff=True) == "+1,738 VND"
    assert compare._fmt(0.0123, "share", diff=True) == "+1.2 pp"
    assert compare._bound(1.29e9, "VND", (1e9, "bn VND")) == "1.29"


def test_one_seed_says_there_is_no_interval(tmp_path: Path) -> None:
    base, other = write_scenarios(tmp_path)
    proc = cli(
        "compare",
        str(base),
        str(other),
        "--seeds",
        "1",
        "--months",
        "2",
        "--out",
        str(tmp_path / "c"),
    )
    assert proc.returncode == 0, proc.stderr
    assert "With one seed there is no interval" in proc.stdout
    table = pl.read_parquet(tmp_path / "c" / "table.parquet")
    assert table["diff_lo"].is_nan().all() and not table["distinguishable"].any()


def test_compare_refuses_bad_input_cleanly(tmp_path: Path) -> None:
    base, other = write_scenarios(tmp_path)
    proc = cli("compare", str(base), str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "c"))
    assert proc.returncode == 2 and "missing.yaml: file not found" in proc.stderr
    assert "Traceback" not in proc.stderr
    short = yaml.safe_load(other.read_text())
    short["months"] = 2
    (tmp_path / "short.yaml").write_text(yaml.safe_dump(short), encoding="utf-8")
    proc = cli("compare", str(base), str(tmp_path / "short.yaml"), "--out", str(tmp_path / "c"))
    assert proc.returncode == 2 and "same start and months" in proc.stderr
    assert not (tmp_path / "c").exists()


def test_report_flag_without_the_report_module_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "welfare_sim.sim.report", None)  # as if welfare_sim.sim.report were not installed
    with pytest.raises(typer.Exit) as exit_info:
        compare_command._write_report(tmp_path, "en")
    assert exit_info.value.exit_code == 1


def test_default_folder_names_the_base_and_the_runs() -> None:
    a = validate_scenario(small(), "a")
    b = validate_scenario(small(seed=9), "b")
    one = compare.default_out([a, b], [1, 2], None)
    assert one.parent == Path("outputs") and one.name.startswith("compare-small-")
    assert one == compare.default_out([a, b], [1, 2], None)
    assert one != compare.default_out([a, b], [1, 3], None)


def test_a_group_change_that_prints_as_zero_is_not_called_one() -> None:
    from welfare_sim.sim.report.i18n import Lang

    row = {
        "coverage_change": 0.0001, "coverage_lo": 0.00005, "coverage_hi": 0.0002,  # +0.0 pp, above zero
        "unpaid_share_change": -0.02, "unpaid_share_lo": -0.03, "unpaid_share_hi": -0.01,
        "days_to_money_change": 0.5, "days_to_money_lo": -0.1, "days_to_money_hi": 1.1,
        "hours_per_month_change": float("nan"), "hours_per_month_lo": float("nan"), "hours_per_month_hi": float("nan"),
        "beneficiary_cost_change_vnd": -2.5e9, "beneficiary_cost_lo_vnd": -3e9, "beneficiary_cost_hi_vnd": -2e9,
    }
    lines = compare.gain_cell(Lang("en"), row, 5).split("\n")
    assert lines == [
        "[dim]coverage 0.0 pp ≈0[/]",
        "[bold]unpaid -2.0 pp[/]",
        "[dim]days +0.50 ≈0[/]",
        "hours –",
        "[bold]cost -2.50 bn VND[/]",
    ]
    # with one seed nothing is marked either way
    assert compare.gain_cell(Lang("en"), row, 1).split("\n")[1] == "unpaid -2.0 pp"
