"""What a strategy buys: Fieller's interval, the ranking, combined strategies and who gains."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import yaml
from factory import small
from scipy import stats
from test_compare import cli

from welfare_sim.sim.experiments import compare, effects
from welfare_sim.sim.scenario import validate_scenario

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- Fieller


def test_fieller_of_an_exact_ratio_is_that_ratio() -> None:
    effect = np.array([10.0, 14.0, 9.0, 12.0, 11.0])
    ratio, lo, hi = effects.fieller(2500.0 * effect, effect)
    assert ratio == pytest.approx(2500.0) and lo == pytest.approx(2500.0) and hi == pytest.approx(2500.0)


def test_fieller_bounds_are_where_the_t_test_of_cost_minus_theta_effect_turns() -> None:
    rng = np.random.default_rng(3)
    effect = rng.normal(100.0, 15.0, 6)
    cost = 40.0 * effect + rng.normal(0.0, 900.0, 6)
    ratio, lo, hi = effects.fieller(cost, effect)
    crit = stats.t.ppf(0.975, 5)

    def t_stat(theta: float) -> float:
        d = cost - theta * effect
        return abs(d.mean()) / (d.std(ddof=1) / math.sqrt(d.size))

    assert lo < ratio < hi
    assert t_stat(lo) == pytest.approx(crit, rel=1e-9) and t_stat(hi) == pytest.approx(crit, rel=1e-9)
    assert t_stat(ratio) < crit and t_stat(lo - 1.0) > crit and t_stat(hi + 1.0) > crit


def test_fieller_covers_the_true_ratio_95_times_in_100() -> None:
    # correlated noise in cost and effect, five seeds: the case a naive interval gets wrong
    rng = np.random.default_rng(11)
    true_ratio, n, reps = 2000.0, 5, 4000
    cov = [[1.0, 0.8], [0.8, 1.0]]
    z = rng.multivariate_normal([0.0, 0.0], cov, size=(reps, n))
    effect = 50.0 + 12.0 * z[..., 1]
    cost = true_ratio * 50.0 + 30_000.0 * z[..., 0]
    covered = bounded = 0
    for k in range(reps):
        _, lo, hi = effects.fieller(cost[k], effect[k])
        if math.isfinite(lo):
            bounded += 1
            covered += lo <= true_ratio <= hi
    assert bounded > 0.9 * reps
    assert 0.93 <= covered / bounded <= 0.97


def test_fieller_is_unbounded_when_the_effect_cannot_be_told_from_zero() -> None:
    effect = np.array([3.0, -2.0, 1.0, -1.5, 0.5])
    ratio, lo, hi = effects.fieller(np.array([10.0, 12.0, 9.0, 11.0, 10.0]), effect)
    assert math.isfinite(ratio) and math.isnan(lo) and math.isnan(hi)
    ratio, lo, hi = effects.fieller(np.array([5.0]), np.array([1.0]))
    assert ratio == 5.0 and math.isnan(lo)


# --------------------------------------------------------------------------- ranking


def synthetic_counts() -> pl.DataFrame:
    seeds = [1, 2, 3, 4]
    rows = []
    plans = {
        "base": (0.0, 0.0, 0.0),
        "cheap": (1_000_000.0, 100.0, 0.0),  # 10,000 VND per account holder
        "dear": (5_000_000.0, 100.0, 0.0),  # 50,000 VND per account holder
        "free": (-200_000.0, 20.0, 0.0),  # gains and saves money
        "useless": (3_000_000.0, -5.0, 0.0),  # loses account holders
    }
    for name, (cost, holders, _) in plans.items():
        for k, seed in enumerate(seeds):
            wobble = (k - 1.5) * 0.01
            rows.append(
                {
                    "scenario": name,
                    "seed": seed,
                    "account_holders_last": 1000 + int(holders) + (k if name != "base" else 0),
                    "beneficiaries_last": 2000,
                    "unpaid_payments": 500,
                    "beneficiary_hours": 900.0,
                    "state_cost_vnd": int(10_000_000 + cost * (1 + wobble)),
                    "beneficiary_cost_vnd": 7_000_000,
                }
            )
    return pl.DataFrame(rows)


def test_ranking_puts_dominant_first_then_cheapest_per_unit_and_no_gain_last() -> None:
    names = ["base", "cheap", "dear", "free", "useless"]
    ce = effects.cost_effectiveness(synthetic_counts(), names)
    ranked = effects.ranking(ce, "cost_per_account_holder")
    assert ranked["scenario"].to_list() == ["free", "cheap", "dear", "useless"]
    assert ranked["verdict"].to_list() == ["dominant", "gains", "gains", "no_gain"]
    cheap = ranked.filter(pl.col("scenario") == "cheap").row(0, named=True)
    assert cheap["ratio_lo_vnd"] < cheap["ratio_vnd"] < cheap["ratio_hi_vnd"]
    assert 9_000 < cheap["ratio_vnd"] < 11_000
    assert math.isnan(ranked.filter(pl.col("scenario") == "useless")["ratio_vnd"][0])
    # no strategy saves an unpaid payment: all are no_gain on that measure
    unpaid = ce.filter(pl.col("measure") == "cost_per_unpaid_avoided")
    assert set(unpaid["verdict"]) == {"no_gain"}
    with pytest.raises(ValueError, match="rank by"):
        effects.ranking(ce, "coverage")


def test_best_within_budget_takes_the_largest_gain_it_can_afford() -> None:
    names = ["base", "cheap", "dear", "free", "useless"]
    ce = effects.cost_effectiveness(synthetic_counts(), names)
    assert effects.best_within_budget(ce, "cost_per_account_holder", 2_000_000)["scenario"] == "cheap"
    assert effects.best_within_budget(ce, "cost_per_account_holder", 0)["scenario"] == "free"
    assert effects.best_within_budget(ce, "cost_per_unpaid_avoided", 10**12) is None


# --------------------------------------------------------------------------- combined strategies


def world() -> dict[str, Any]:
    return small(months=3)


ATM = {"name": "po", "start": "2023-01", "communes_per_month": 5, "districts": ["Hills"]}
DRIVE = {
    "name": "d",
    "start": "2023-01",
    "end": "2023-02",
    "teams": 1,
    "communes_per_team_per_month": 2,
    "reach": 0.9,
    "apply_prob": 0.9,
    "districts": ["Hills"],
}


def test_a_combination_is_run_as_one_scenario_with_both_strategies() -> None:
    base = validate_scenario(world(), "base")
    a_data, b_data, both_data = world(), world(), world()
    a_data["name"], b_data["name"] = "a", "b"
    a_data["interventions"]["atm_points"] = [ATM]
    b_data["interventions"]["drives"] = [*b_data["interventions"]["drives"], DRIVE]
    both_data["interventions"]["atm_points"] = [ATM]
    both_data["interventions"]["drives"] = [*both_data["interventions"]["drives"], DRIVE]
    a, b = validate_scenario(a_data, "a"), validate_scenario(b_data, "b")
    merged = effects.merge_strategies(base, [a, b, a], "a + b")
    assert merged["interventions"]["atm_points"] == [
        validate_scenario(both_data, "x").model_dump(mode="json")["interventions"]["atm_points"][0]
    ]
    combined = validate_scenario(merged, "combined")
    by_hand = validate_scenario({**both_data, "name": "a + b", "description": merged["description"]}, "hand")
    assert combined.model_dump(mode="json") == by_hand.model_dump(mode="json")
    runs = compare.run_all([combined, by_hand, a, b, base], ["c", "h", "a", "b", "base"], [7, 8])
    frame = compare.runs_frame(["c", "h", "a", "b", "base"], runs)
    c, h = (frame.filter(pl.col("scenario") == n).drop("scenario") for n in ("c", "h"))
    assert c.equals(h)
    # merged, not added: the combination's figures are not the sum of the two effects
    key = "beneficiary_cost_total_vnd"
    value = {n: frame.filter(pl.col("scenario") == n)[key].to_numpy() for n in ("c", "a", "b", "base")}
    assert not np.array_equal(value["c"] - value["base"], (value["a"] - value["base"]) + (value["b"] - value["base"]))


def test_two_strategies_of_one_name_cannot_be_combined() -> None:
    base = validate_scenario(world(), "base")
    one, two = world(), world()
    one["interventions"]["atm_points"] = [ATM]
    two["interventions"]["atm_points"] = [{**ATM, "communes_per_month": 1}]
    with pytest.raises(ValueError, match="another atm_points named 'po'"):
        effects.merge_strategies(base, [validate_scenario(one, "1"), validate_scenario(two, "2")], "x")


# --------------------------------------------------------------------------- who gains


def test_a_strategy_in_one_district_changes_nothing_in_the_other() -> None:
    base = validate_scenario(world(), "base")
    data = world()
    data["name"] = "hills"
    data["interventions"]["atm_points"] = [ATM]
    data["interventions"]["drives"] = [*data["interventions"]["drives"], DRIVE]
    strategy = validate_scenario(data, "hills")
    names = ["base", "hills"]
    runs = compare.run_all([base, strategy], names, [7, 8, 9])
    gains = effects.gains_table(effects.groups_frame(names, runs), names)
    district = {r["group_name"]: r for r in gains.filter(pl.col("group_level") == "district").iter_rows(named=True)}
    assert set(district) == {"Town", "Hills"}
    town, hills = district["Town"], district["Hills"]
    # nobody in Town is visited or gets a point; only queues it shares with Hills (its ATMs) may move
    for m in ("coverage", "unpaid_share"):
        assert town[f"{m}_change"] == 0.0 and town[f"{m}_lo"] == 0.0, m
    assert abs(town["hours_per_month_change"]) < 0.01 * abs(hills["hours_per_month_change"])
    assert hills["coverage_change"] > 0 and hills["hours_per_month_change"] != 0
    communes = gains.filter(pl.col("group_level") == "commune")
    assert communes.height == 5 and set(communes["district_name"]) == {"Town", "Hills"}
    groups = set(gains.filter(pl.col("group_level") == "subgroup")["group"])
    assert groups == {"aged_80_plus", "disabled", "ethnic_minority", "mountain_communes"}
    assert set(gains.filter(pl.col("group_level") == "programme")["group"]) <= {"social_assistance", "merit", "pension"}


def test_subgroup_sums_are_the_sums_of_their_members_payment_rows(tmp_path: Path) -> None:
    from welfare_sim.sim.run import run_scenario

    sc = validate_scenario(small(months=4), "small")
    result = run_scenario(sc, payments_dir=tmp_path)
    rows = pl.concat([pl.read_parquet(part) for part in sorted(tmp_path.glob("part-*.parquet"))])
    unpaid = pl.col("status").cast(pl.String).is_in(["held", "returned", "uncollected", "suspended"])
    paid = (
        pl.col("channel").cast(pl.String).is_in(["cash_commune", "cash_counter"])
        | ((pl.col("channel").cast(pl.String).is_in(["account", "home"])) & (pl.col("status") == "paid"))
    )
    members = {
        "all": pl.lit(True),
        "disabled": pl.col("disabled"),
        "ethnic_minority": pl.col("ethnic_minority"),
        "mountain_communes": pl.col("terrain") == "mountain",
    }
    sub = result.subgroups
    assert sub.filter(pl.col("subgroup") == "mountain_communes")["beneficiaries"].sum() > 0
    for key, member in members.items():
        want = (
            rows.filter(member)
            .group_by("month")
            .agg(
                beneficiaries=pl.len().cast(pl.Int64),
                unpaid=unpaid.sum().cast(pl.Int64),
                payments=paid.sum().cast(pl.Int64),
                money_in_hand=pl.col("days_to_money").is_not_null().sum().cast(pl.Int64),
                days_to_money_total=pl.col("days_to_money").sum().cast(pl.Int64),
                beneficiary_cost_vnd=(pl.col("travel_cost_vnd") + pl.col("time_cost_vnd") + pl.col("fee_vnd")).sum(),
                travel_min_total=pl.col("travel_min").sum(),
                wait_min_total=pl.col("wait_min").sum(),
            )
            .sort("month")
        )
        got = sub.filter(pl.col("subgroup") == key).sort("month").select(want.columns)
        assert got.drop("travel_min_total", "wait_min_total").equals(want.drop("travel_min_total", "wait_min_total"))
        for col in ("travel_min_total", "wait_min_total"):
            np.testing.assert_allclose(got[col].to_numpy(), want[col].to_numpy(), rtol=1e-12)
    # every figure of the whole province is the month table's too, to the dong
    everyone = sub.filter(pl.col("subgroup") == "all").sort("month")
    month = result.monthly.group_by("month").agg(
        pl.col("beneficiaries", "unpaid", "with_account").sum(),
        (pl.col("travel_cost_vnd") + pl.col("time_cost_vnd") + pl.col("beneficiary_fees_vnd")).sum().alias("cost"),
    ).sort("month")
    assert everyone["beneficiary_cost_vnd"].to_list() == month["cost"].to_list()
    assert everyone["with_account"].to_list() == month["with_account"].to_list()
    assert int(everyone["money_in_hand"].sum()) == result.summary["days_to_money"]["payments_counted"]


def test_every_subgroup_of_who_gains_has_days_hours_and_cost() -> None:
    base = validate_scenario(world(), "base")
    data = world()
    data["name"] = "hills"
    data["interventions"]["atm_points"] = [ATM]
    strategy = validate_scenario(data, "hills")
    names = ["base", "hills"]
    runs = compare.run_all([base, strategy], names, [7, 8, 9])
    gains = effects.gains_table(effects.groups_frame(names, runs), names)
    part = gains.filter(pl.col("group_level") == "subgroup")
    assert set(part["group"]) == set(effects.GAINS_SUBGROUPS)
    for col in ("days_to_money_change", "hours_per_month_change", "beneficiary_cost_change_vnd"):
        assert part[col].is_finite().all(), col
    # a mountain commune is mountain throughout: the subgroup (from the subgroups table) is the sum of
    # its communes' rows (from the month table), in every run
    from welfare_sim.sim.run import run_scenario

    places = run_scenario(base, months=1).places
    mountain = [str(c) for c in places.filter(pl.col("terrain") == "mountain")["commune"]]
    assert mountain
    for (scenario, seed), one in effects.groups_frame(names, runs).group_by("scenario", "seed"):
        sub = one.filter(pl.col("key") == "mountain_communes").row(0, named=True)
        picked = one.filter((pl.col("level") == "commune") & pl.col("key").is_in(mountain))
        assert sub["beneficiary_months"] == picked["beneficiary_months"].sum() > 0
        assert sub["beneficiary_cost_vnd"] == picked["beneficiary_cost_vnd"].sum(), (scenario, seed)
        assert sub["unpaid"] == picked["unpaid"].sum(), (scenario, seed)
        assert sub["hours"] == pytest.approx(picked["hours"].sum(), rel=1e-12), (scenario, seed)
    # a subgroup's change is its own runs' paired difference, seed by seed
    frame = effects.groups_frame(names, runs).filter(pl.col("key") == "disabled").sort("scenario", "seed")
    days = (frame["days_weighted"] / frame["days_counted"]).to_numpy().reshape(2, 3)
    mean, lo, hi = effects.paired_interval(days[1] - days[0])
    row = part.filter(pl.col("group") == "disabled").row(0, named=True)
    assert row["days_to_money_change"] == pytest.approx(mean) and row["days_to_money_lo"] == pytest.approx(lo)


# --------------------------------------------------------------------------- the command


def write_plans(tmp: Path) -> list[Path]:
    base = world()
    (tmp / "base.yaml").write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    atm = {"extends": "base.yaml", "name": "atm", "interventions": {"atm_points": [ATM]}}
    drive = {"extends": "base.yaml", "name": "drive", "interventions": {"drives+": [DRIVE]}}
    late = {"extends": "base.yaml", "name": "late", "interventions": {"atm_points": [{**ATM, "start": "2024-01"}]}}
    for name, data in (("atm", atm), ("drive", drive), ("late", late)):
        (tmp / f"{name}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return [tmp / f"{n}.yaml" for n in ("base", "atm", "drive", "late")]


def test_compare_ranks_finds_the_best_plan_within_a_budget_and_warns(tmp_path: Path) -> None:
    paths = write_plans(tmp_path)
    out = tmp_path / "cmp"
    proc = cli("compare", *map(str, paths), "--seeds", "3", "--out", str(out), "--budget", "10000000000", "--report")
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((out / "comparison.json").read_text())
    assert "drive + atm" in meta["scenarios"] or "atm + drive" in meta["scenarios"]
    ce = pl.read_parquet(out / "cost_effectiveness.parquet")
    assert set(ce["measure"]) == set(effects.MEASURES)
    answer = meta["recommendation"]
    best = ce.filter((pl.col("measure") == "cost_per_account_holder") & (pl.col("gain_mean") > 0))
    best = best.filter(pl.col("state_cost_mean_vnd") <= 10**10).sort(
        "gain_mean", "state_cost_mean_vnd", descending=[True, False]
    )
    assert answer["best"] == best["scenario"][0]
    assert [w["kind"] for w in meta["warnings"]] == ["starts_after_end"] and meta["warnings"][0]["scenario"] == "late"
    assert "late: atm_points 'po' starts 2024-01, after the run ends" in proc.stderr
    assert "part 1 of" not in proc.stdout
    assert "ranked by cost_per_account_holder" in proc.stdout
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.index('id="answer"') < html.index('id="cost-effectiveness"') < html.index('id="headline"')
    assert "starts after the run ends" in html and 'id="gains"' in html
    assert answer["best"] in html.split('id="answer"')[1].split("</section>")[0]


def test_rank_by_must_be_a_known_figure(tmp_path: Path) -> None:
    paths = write_plans(tmp_path)
    proc = cli("compare", *map(str, paths[:2]), "--rank-by", "coverage", "--out", str(tmp_path / "c"))
    assert proc.returncode == 2 and "--rank-by 'coverage'" in proc.stderr and "cost_per_hour_saved" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "c").exists()


def test_a_strategy_that_reaches_nobody_gets_a_warning() -> None:
    base = validate_scenario(world(), "base")
    data = copy.deepcopy(world())
    data["name"] = "nowhere"
    # commune 0 lies in Town, the strategy in Hills: no commune is left for it
    data["interventions"]["atm_points"] = [{**ATM, "communes": [0]}]
    nowhere = validate_scenario(data, "nowhere")
    names = ["base", "nowhere"]
    runs = compare.run_all([base, nowhere], names, [7, 8])
    warnings = effects.strategy_warnings([base, nowhere], names, None, compare.strategies_frame(names, runs))
    assert [w["kind"] for w in warnings] == ["reaches_nobody"]
    assert "reach nobody" in warnings[0]["text"]
    # the same strategy in a commune of Hills reaches someone: no warning
    data["interventions"]["atm_points"] = [{**ATM, "communes": [4]}]
    there = validate_scenario(data, "there")
    runs = compare.run_all([base, there], names, [7, 8])
    assert effects.strategy_warnings([base, there], names, None, compare.strategies_frame(names, runs)) == []


def test_the_api_comparison_carries_what_each_strategy_buys(tmp_path: Path) -> None:
    import welfare_sim

    data = world()
    data["name"] = "hills"
    data["interventions"]["drives"] = [*data["interventions"]["drives"], DRIVE]
    base_path, hills_path = tmp_path / "base.yaml", tmp_path / "hills.yaml"
    base_path.write_text(yaml.safe_dump(world()), encoding="utf-8")
    hills_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    cmp = welfare_sim.compare(base_path, [hills_path], seeds=3)
    ce = cmp.cost_effectiveness
    assert set(ce["measure"]) == set(effects.MEASURES) and set(ce["scenario"]) == {"hills"}
    holders = ce.filter(pl.col("measure") == "cost_per_account_holder").row(0, named=True)
    assert holders["gain_mean"] > 0 and holders["state_cost_mean_vnd"] > 0
    assert cmp.ranking("cost_per_account_holder")["scenario"].to_list() == ["hills"]
    assert cmp.recommendation()["best"] == "hills" and cmp.warnings == []
    assert cmp.gains.filter(pl.col("group_level") == "district").height == 2


def test_who_is_left_behind_is_judged_on_the_criterion_s_own_figure() -> None:
    nan = math.nan

    def row(group: str, coverage: tuple[float, float, float], hours: tuple[float, float, float]) -> dict:
        return {
            "scenario": "s",
            "group_level": "subgroup",
            "group": group,
            "group_name": group,
            "coverage_change": coverage[0],
            "coverage_lo": coverage[1],
            "coverage_hi": coverage[2],
            "unpaid_share_change": 0.0,
            "unpaid_share_lo": 0.0,
            "unpaid_share_hi": 0.0,
            "hours_per_month_change": hours[0],
            "hours_per_month_lo": hours[1],
            "hours_per_month_hi": hours[2],
        }

    gains = pl.DataFrame(
        [
            row("disabled", (-0.02, -0.03, -0.01), (nan, nan, nan)),  # fewer accounts; hours not recorded
            row("mountain_communes", (0.05, 0.04, 0.06), (0.4, 0.2, 0.6)),  # more accounts, longer trips
            row("aged_80_plus", (0.01, -0.01, 0.03), (-0.5, -0.7, -0.3)),
        ]
    )
    by_accounts = effects.left_behind(gains, "s", "cost_per_account_holder")
    assert [(r["group"], r["how"]) for r in by_accounts] == [("disabled", "worse")]
    by_hours = effects.left_behind(gains, "s", "cost_per_hour_saved")
    assert [(r["group"], r["how"]) for r in by_hours] == [("mountain_communes", "worse")]
    better = gains.with_columns(pl.lit(-0.2).alias("hours_per_month_lo"), pl.lit(-0.1).alias("hours_per_month_hi"))
    assert effects.left_behind(better, "s", "cost_per_hour_saved") == []
