"""`welfare-sim where`: communes ranked by effect per VND, and the scenario that applies the top N."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import yaml
from factory import small
from test_compare import cli

from welfare_sim.sim.experiments import compare, where
from welfare_sim.sim.scenario import load_scenario, validate_scenario

ROOT = Path(__file__).resolve().parents[1]


def known_world() -> dict[str, Any]:
    """Two small mountain communes (Hills) and, in the plains, one large commune far from any
    account: terrain-then-size sends the teams to the mountain first, but most unbanked live in
    the large commune (commune 1)."""
    data = small(months=3)
    town, hills = data["geography"]["districts"]
    town.update(
        beneficiaries=380,
        commune_beneficiaries=[40, 300, 40],
        terrain={"urban": 0.0, "rural": 1.0, "mountain": 0.0},
    )
    hills.update(
        beneficiaries=60, commune_beneficiaries=[30, 30], terrain={"urban": 0.0, "rural": 0.0, "mountain": 1.0}
    )
    data["interventions"]["drives"] = []
    return data


DRIVE = {
    "name": "wave",
    "start": "2023-01",
    "end": "2023-01",
    "teams": 1,
    "communes_per_team_per_month": 2,
    "reach": 0.9,
    "apply_prob": 0.9,
    "targeting": "remote_first",
}


def test_the_ranking_beats_the_terrain_then_size_order_where_the_answer_is_known() -> None:
    data = known_world()
    base = validate_scenario(data, "known")
    like = validate_scenario({**data, "interventions": {**data["interventions"], "drives": [DRIVE]}}, "like")
    seeds = [3, 4, 5]
    table, placed = where.rank_communes(base, "drives", seeds, like=like)
    assert table.height == 5 and table["rank"].to_list() == [1, 2, 3, 4, 5]
    assert table["commune"][0] == 1  # the large commune of unbanked comes first
    assert table["effect_per_million_dong"].is_sorted(descending=True)
    assert (table["effect_lo"] <= table["effect_mean"]).all() and (table["effect_mean"] <= table["effect_hi"]).all()
    assert placed["cost_per_commune_vnd"] == DRIVE_COST / 2
    top2 = table["commune"].head(2).to_list()

    ranked = {**DRIVE, "communes": top2}
    by_terrain = validate_scenario({**data, "name": "terrain", "interventions": {"drives": [DRIVE]}}, "t")
    by_rank = validate_scenario({**data, "name": "ranked", "interventions": {"drives": [ranked]}}, "r")
    names = ["base", "terrain", "ranked"]
    results = compare.run_all([base, by_terrain, by_rank], names, seeds)
    runs = compare.runs_frame(names, results)
    cost = {n: runs.filter(pl.col("scenario") == n)["strategy_cost_vnd"].to_list() for n in names}
    assert cost["terrain"] == cost["ranked"]  # the same two visits, the same money
    holders = {n: [r["counts"]["account_holders_last"] for r in results if names[r["index"]] == n] for n in names}
    gain = {n: [a - b for a, b in zip(holders[n], holders["base"], strict=True)] for n in ("terrain", "ranked")}
    assert all(r > t for r, t in zip(gain["ranked"], gain["terrain"], strict=True)), gain


DRIVE_COST = 30_000_000  # Drive.cost_per_team_month_vnd's default


ATM_LIKE = {
    "name": "po",
    "start": "2023-01",
    "communes_per_month": 1,
    "account_types": ["postal_ewallet", "mobile_money"],
    "targeting": "remote_first",
}


def test_drives_in_separate_communes_add_up_exactly() -> None:
    # a team's visit opens accounts in its own commune only: the top 2 together are the sum of the two
    data = known_world()
    base = validate_scenario(data, "known")
    like = validate_scenario({**data, "interventions": {**data["interventions"], "drives": [DRIVE]}}, "like")
    table, placed, results = where.rank_until_separated(base, "drives", 3, 2, like=like, max_seeds=10)
    checked = where.check_top(base, "drives", placed["strategy"], table, 2, results)
    assert checked["communes"] == table["commune"].head(2).to_list()
    assert checked["together"]["mean"] > 0
    assert checked["together_minus_sum"] == {"mean": 0.0, "lo": 0.0, "hi": 0.0}
    assert checked["together_in_top"] == checked["together"]  # nothing spills to the communes not visited
    assert checked["together_elsewhere"] == {"mean": 0.0, "lo": 0.0, "hi": 0.0}
    assert not checked["interact"] and checked["ratio_together_to_sum"] == 1.0
    assert "order_top" not in checked  # drives have no "first N of the order" to run


def test_seeds_are_added_until_the_top_communes_are_told_from_zero() -> None:
    data = known_world()
    base = validate_scenario(data, "known")
    like = validate_scenario({**data, "interventions": {**data["interventions"], "atm_points": [ATM_LIKE]}}, "like")
    five, _ = where.rank_communes(base, "commune_atm_points", [3, 4, 5, 6, 7], like=like)
    assert not five["separates"].head(2).all()  # five seeds leave one of the top 2 in doubt here
    table, placed, results = where.rank_until_separated(base, "commune_atm_points", 3, 2, like=like, max_seeds=20)
    assert placed["seeds"] == list(range(3, 13))  # one more block of five, then both are sure
    assert table["separates"].head(2).all()
    assert (table["separates"] == (table["effect_lo"] > 0)).all()
    # the seeds already run are kept: the same table as ranking over the ten seeds at once
    again, _ = where.rank_communes(base, "commune_atm_points", placed["seeds"], like=like)
    assert again.equals(table)
    # at the ceiling the list is given as it is, its doubtful communes marked
    capped, placed_capped, _ = where.rank_until_separated(
        base, "commune_atm_points", 3, 5, like=like, max_seeds=7, step=7
    )
    assert placed_capped["seeds"] == list(range(3, 10)) and not capped["separates"].all()


def test_the_top_n_check_is_the_top_n_scenario_against_the_base() -> None:
    data = known_world()
    base = validate_scenario(data, "known")
    like = validate_scenario({**data, "interventions": {**data["interventions"], "atm_points": [ATM_LIKE]}}, "like")
    seeds = list(range(3, 13))
    table, placed = where.rank_communes(base, "commune_atm_points", seeds, like=like)
    probe = compare.run_all(
        [base, validate_scenario(where.probe_scenario(base, "atm_points", placed["strategy"], 5), "p")],
        ["base", "probe"],
        seeds,
    )
    checked = where.check_top(base, "commune_atm_points", placed["strategy"], table, 2, probe)
    # the same figure the plain way: the top-2 scenario compared with the base, hours from the run counts
    top = {**data, "name": "top", "interventions": {**data["interventions"]}}
    top["interventions"]["atm_points"] = [where.placed_entry(placed["strategy"], "atm_points", checked["communes"])]
    runs = compare.run_all([base, validate_scenario(top, "top")], ["base", "top"], seeds)
    hours = {i: np.array([r["counts"]["beneficiary_hours"] for r in runs if r["index"] == i]) for i in (0, 1)}
    mean, lo, hi = compare.paired_interval(hours[0] - hours[1])
    assert checked["together"]["mean"] == pytest.approx(mean, rel=1e-9)
    assert checked["together"]["lo"] == pytest.approx(lo, rel=1e-9)
    # the ranked top 2 saves more hours than the first 2 of the strategy's own order (the mountain first)
    assert checked["ranked_beats_order"] and checked["order_top"]["mean"] < checked["together"]["mean"]
    parts = checked["together_in_top"]["mean"] + checked["together_elsewhere"]["mean"]
    assert parts == pytest.approx(checked["together"]["mean"], rel=1e-9)
    gap = checked["together_minus_sum"]
    assert checked["interact"] == (gap["lo"] > 0 or gap["hi"] < 0)


def test_where_writes_the_ranked_list_and_a_scenario_of_the_top_n(tmp_path: Path) -> None:
    data = known_world()
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    like = {
        "extends": "base.yaml",
        "name": "atm",
        "interventions": {
            "atm_points": [
                {
                    "name": "po",
                    "start": "2023-01",
                    "communes_per_month": 1,
                    "account_types": ["postal_ewallet", "mobile_money"],
                }
            ]
        },
    }
    (tmp_path / "atm.yaml").write_text(yaml.safe_dump(like, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "w"
    args = (
        "where",
        str(tmp_path / "base.yaml"),
        "--intervention",
        "commune_atm_points",
        "--like",
        str(tmp_path / "atm.yaml"),
        "--seeds",
        "2",
        "--top",
        "3",
        "--out",
        str(out),
    )
    proc = cli(*args)
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((out / "where.json").read_text())
    ranked = pl.read_csv(out / "ranked.csv")
    assert ranked.height == 5 and meta["communes"] == ranked["commune"].head(3).to_list()
    assert ranked["commune_name"].to_list()[0].split(" commune ")[0] in {"Town", "Hills"}
    assert "commune 1" in proc.stdout or "commune 2" in proc.stdout
    assert meta["seeds"] == [data["seed"], data["seed"] + 1] and meta["seeds_chosen"] == "given (--seeds)"
    assert meta["not_separated"] == ranked.head(3).filter(~pl.col("separates"))["commune"].to_list()
    check = meta["check"]
    assert check["communes"] == meta["communes"] and set(check) >= {"together", "sum_of_singles", "order_top"}
    assert "the top 3 together" in proc.stdout and "own order (remote_first) for 3 communes" in proc.stdout
    if meta["not_separated"]:
        assert "cannot be told from zero with 2 seeds" in proc.stderr
    written = load_scenario(out / meta["scenario_file"])
    placed = written.interventions.atm_points[-1]
    assert placed.communes == meta["communes"] and placed.account_types == ["postal_ewallet", "mobile_money"]
    # the top-N file applies the points in exactly those communes, in rank order
    result = compare.run_all([written], ["top"], [2])[0]
    assert result["strategies"]["atm_points_open"] > 0
    # run again into the same folder: replaced; into a folder of someone else's: refused, untouched
    assert cli(*args).returncode == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    proc = cli(*args[:-1], str(mine))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert (mine / "notes.txt").read_text() == "keep" and len(list(mine.iterdir())) == 1


def test_where_refuses_bad_input_cleanly(tmp_path: Path) -> None:
    data = known_world()
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    proc = cli("where", str(tmp_path / "base.yaml"), "--intervention", "atms", "--out", str(tmp_path / "w"))
    assert proc.returncode == 2 and "--intervention 'atms'" in proc.stderr and "commune_atm_points" in proc.stderr
    proc = cli(
        "where", str(tmp_path / "base.yaml"), "--like", str(tmp_path / "base.yaml"), "--out", str(tmp_path / "w")
    )
    assert proc.returncode == 2 and "has no atm_points strategy" in proc.stderr
    assert not (tmp_path / "w").exists()


def test_a_commune_that_does_not_exist_is_refused_with_the_range() -> None:
    data = known_world()
    data["interventions"]["drives"] = [{**DRIVE, "communes": [1, 9]}]
    try:
        validate_scenario(data, "bad.yaml")
    except Exception as exc:  # noqa: BLE001 - the scenario's own error, whatever its class
        text = str(getattr(exc, "problems", exc))
    else:
        raise AssertionError("commune 9 was accepted")
    assert "interventions.drives[0].communes" in text and "commune 9 does not exist" in text and "0 to 4" in text
