"""`welfare-sim where`: communes ranked by effect per VND, and the scenario that applies the top N."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
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
