"""Each rollout strategy moves the figures its own way, through its mechanism, on small scenarios.

Every test runs a scenario with and without the strategy over the same seed. The random streams
are keyed by stable ids, so the two runs share their draws (common random numbers): where the
strategy does not reach, nothing changes, and that is asserted too.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from factory import small
from test_invariants import check_counts, check_money, check_once_and_bounds

from welfare_sim.models.demography import age_group_at
from welfare_sim.models.interventions import STRATEGY_COUNTS
from welfare_sim.sim.engine import build_province, simulate
from welfare_sim.sim.run import run_scenario
from welfare_sim.sim.scenario import ScenarioError, load_scenario, validate_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def world(**changes: Any) -> dict[str, Any]:
    """A small world with more people (a few thousand), no drive, and room to see effects."""
    data = small(**changes)
    data["interventions"] = {"drives": []}
    for district, counts in zip(
        data["geography"]["districts"], ([700, 500, 400], [500, 400]), strict=True
    ):
        district["communes"] = len(counts)
        district["beneficiaries"] = sum(counts)
        district["commune_beneficiaries"] = counts
        district["atms"] = max(district["atms"], 1)
    return data


def run(
    data: dict[str, Any], seed: int | None = None
) -> tuple[Any, pl.DataFrame, list[dict[str, int]]]:
    """(result, payments, strategy record of each month)."""
    scenario = validate_scenario(data, "tests/test_strategies.py")
    records: list[dict[str, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        result = run_scenario(scenario, seed=seed, payments_dir=Path(tmp))
        payments = pl.read_parquet(sorted(Path(tmp).glob("part-*.parquet")))
    simulate(scenario, seed=seed, on_month=lambda rec, _p: records.append(rec.strategies))
    return result, payments, records


def with_strategy(data: dict[str, Any], kind: str, block: dict[str, Any]) -> dict[str, Any]:
    out = {**data, "interventions": {**data["interventions"], kind: [block]}}
    return out


def has_account(frame: pl.DataFrame) -> pl.Expr:
    return pl.col("account_status").is_in(["open", "dormant"])


# --------------------------------------------------------------------------- drives


def test_drives_raise_coverage_where_they_go_and_nowhere_else() -> None:
    base = world(months=4)
    drive = {
        "name": "hills",
        "start": "2023-02",
        "end": "2023-03",
        "districts": ["Hills"],
        "teams": 1,
        "communes_per_team_per_month": 1,
        "targeting": "largest_first",
        "reach": 0.9,
        "apply_prob": 0.8,
    }
    _, p0, _ = run(base)
    _, p1, records = run({**base, "interventions": {"drives": [drive]}})
    last = p0["month"].max()
    visited = {3, 4}  # Town holds communes 0-2, Hills 3 (500 people, visited first) and 4 (400)

    def coverage(p: pl.DataFrame, communes: set[int]) -> float:
        rows = p.filter((pl.col("month") == last) & pl.col("commune").is_in(list(communes)))
        return float(rows.select(has_account(rows).mean()).item())

    assert coverage(p1, visited) > coverage(p0, visited) + 0.15
    # the teams met only people in the communes they visited, in the months they were there
    reached = p1.filter(pl.col("drive_reached"))
    assert set(reached["commune"].unique()) == visited
    assert set(reached["period"].dt.strftime("%Y-%m").unique()) == {"2023-02", "2023-03"}
    # Town shares no point with Hills: every row there is identical, person by person
    others = pl.col("district") == 0
    assert p0.filter(others).equals(p1.filter(others))
    assert [r["drive_team_months"] for r in records] == [0, 1, 1, 0]


def test_by_category_drives_go_first_where_that_category_lives_and_meet_only_it() -> None:
    data = world(months=2)
    drive = {
        "name": "merit",
        "start": "2023-01",
        "end": "2023-01",
        "teams": 1,
        "communes_per_team_per_month": 2,
        "targeting": "by_category",
        "categories": ["merit"],
        "reach": 1.0,
        "apply_prob": 1.0,
    }
    data["interventions"] = {"drives": [drive]}
    scenario = validate_scenario(data, "test")
    province = build_province(scenario, scenario.seed)
    campaign = province.strategies.drives[0]
    merit = province.people.category == 1
    per_commune = np.bincount(province.people.commune[merit], minlength=province.communes.n)
    order = campaign.visit_order
    assert (np.diff(per_commune[order]) <= 0).all()  # most merit beneficiaries first
    _, payments, _ = run(data)
    reached = payments.filter(pl.col("drive_reached"))
    assert reached.height > 0
    assert (reached["category"] == "merit").all()
    assert set(reached["commune"].unique()) == set(order[:2].tolist())
    with pytest.raises(ScenarioError, match="by_category needs `categories`"):
        validate_scenario(
            {**data, "interventions": {"drives": [{**drive, "categories": None}]}}, "test"
        )


def test_targeting_orders_the_communes_as_named() -> None:
    from welfare_sim.models.interventions import commune_order
    from welfare_sim.models.population import MOUNTAIN, RURAL, URBAN, Communes

    communes = Communes(
        district=np.zeros(6, np.int32),
        terrain=np.array([URBAN, MOUNTAIN, RURAL, MOUNTAIN, URBAN, RURAL], np.int8),
        beneficiaries=np.array([900, 100, 500, 300, 500, 50], np.int64),
        district_names=["D"],
    )
    every = np.arange(6)
    tiebreak = np.array([0.9, 0.5, 0.7, 0.1, 0.2, 0.3])
    # largest first; the two communes of 500 are ordered by the keyed draw (0.2 before 0.7)
    assert commune_order("largest_first", communes, every, tiebreak).tolist() == [0, 4, 2, 3, 1, 5]
    # mountain communes first (largest of them first), then the others largest first
    assert commune_order("remote_first", communes, every, tiebreak).tolist() == [3, 1, 0, 4, 2, 5]
    # random: the keyed draw alone
    assert commune_order("random", communes, every, tiebreak).tolist() == [3, 4, 5, 1, 2, 0]
    # by category: most beneficiaries of the category first
    merit = np.array([0, 40, 10, 40, 5, 60])
    got = commune_order("by_category", communes, every, tiebreak, merit).tolist()
    assert got == [5, 3, 1, 2, 4, 0]
    # only the candidates (the drive's districts) are visited
    assert commune_order(
        "largest_first", communes, np.array([1, 5, 2]), tiebreak[[1, 5, 2]]
    ).tolist() == [2, 1, 5]


# --------------------------------------------------------------------------- cash-out points


def travel_per_trip(p: pl.DataFrame, communes: list[int], since: str, types: list[str]) -> float:
    rows = p.filter(
        pl.col("commune").is_in(communes)
        & (pl.col("period").dt.strftime("%Y-%m") >= since)
        & pl.col("account_type").is_in(types)
        & (pl.col("withdrawals") > 0)
        & (pl.col("channel") == "account")
    )
    return float(rows["travel_min"].sum() / rows["trips"].sum())


def test_atm_points_cut_travel_time_in_the_communes_that_get_them() -> None:
    base = world(months=4)
    block = {
        "name": "po",
        "start": "2023-02",
        "communes_per_month": 1,
        "max_communes": 2,
        "districts": ["Hills"],
        "targeting": "largest_first",
        "account_types": ["postal_ewallet", "mobile_money"],
    }
    data = with_strategy(base, "atm_points", block)
    scenario = validate_scenario(data, "test")
    placement = build_province(scenario, scenario.seed).strategies.atm_points[0]
    got = placement.communes.tolist()
    assert got == [3, 4] and placement.open_month.tolist() == [
        1,
        2,
    ]  # a commune a month, largest first
    _, p0, _ = run(base)
    r1, p1, records = run(data)
    served = ["postal_ewallet", "mobile_money"]
    for commune, since in ((3, "2023-02"), (4, "2023-03")):
        assert travel_per_trip(p1, [commune], since, served) < 0.8 * travel_per_trip(
            p0, [commune], since, served
        )
    # bank customers there still go to the bank's ATM in town; and nothing changes before the start
    province = build_province(scenario, scenario.seed)
    who = np.flatnonzero(np.isin(province.people.commune, got))
    placement = province.strategies.atm_points[0]
    placement.on_month(3, province.points.active)
    for code, routed in ((0, False), (1, True), (2, True)):  # bank, mobile_money, postal_ewallet
        point = placement.route(who, province.people.commune[who], np.full(who.size, code))
        assert ((point >= 0) == routed).all()
    assert p1.filter(pl.col("month") == 0).equals(p0.filter(pl.col("month") == 0))
    # the other district shares no point with Hills: its rows do not change at all
    assert p1.filter(pl.col("district") == 0).equals(p0.filter(pl.col("district") == 0))
    # the points are open for cash-outs outside the payment window too
    late_visits = r1.waits.filter((pl.col("kind") == "atm") & (pl.col("day") > 10))["visits"].sum()
    assert late_visits > 0
    assert [r["atm_points_open"] for r in records] == [0, 1, 2, 2]
    assert records[1]["atm_points_vnd"] == 20_000_000 + 3_000_000  # conversion + first month


def test_mobile_money_agents_serve_mobile_money_holders_near_home() -> None:
    base = world(months=3)
    block = {
        "name": "ag",
        "start": "2023-01",
        "communes_per_month": 5,
        "agents_per_commune": 2,
        "travel_factor": 0.5,
        "cashout_fee_vnd": 3000,
    }
    r0, p0, _ = run(base)
    r1, p1, records = run(with_strategy(base, "agents", block))
    everywhere = [0, 1, 2, 3, 4]
    assert travel_per_trip(p1, everywhere, "2023-01", ["mobile_money"]) < 0.5 * travel_per_trip(
        p0, everywhere, "2023-01", ["mobile_money"]
    )
    # agents are extra points after the usual ones, and they were used
    n_usual = r0.points["point"].max()
    assert r1.points.filter(pl.col("point") > n_usual)["visits"].sum() > 0
    assert all(r["agents_open"] == 10 for r in records)
    assert all(r["agents_vnd"] == 10 * 1_000_000 for r in records)


# --------------------------------------------------------------------------- cash channel


def test_closing_the_cash_channel_raises_the_cashless_share() -> None:
    base = world(months=4, **{"assumptions.account_life.monthly_register_prob": 0.1})
    block = {"name": "close", "start": "2023-02", "districts": ["Town"]}
    r0, p0, _ = run(base)
    r1, p1, records = run(with_strategy(base, "cash_closure", block))
    assert (
        r1.summary["cashless_share"]["run_payments"]
        > r0.summary["cashless_share"]["run_payments"] + 0.05
    )
    # in Town from February, no account holder is paid in cash (home delivery excepted)
    closed = p1.filter(
        (pl.col("district") == 0) & (pl.col("period").dt.strftime("%Y-%m") >= "2023-02") & has_account(p1)
    )
    assert closed.height > 0
    assert not closed["channel"].is_in(["cash_commune", "cash_counter"]).any()
    assert sum(r["cash_closure_listed"] for r in records) > 0
    # Hills kept its cash channel, and its rows do not change
    assert p1.filter(pl.col("district") == 1).equals(p0.filter(pl.col("district") == 1))


def test_chip_id_enrolment_makes_accounts_that_cannot_mismatch() -> None:
    """Nobody opens an account by the usual route, and every usual account would mismatch; the
    chip ID enrols everyone paid in cash at a point, and their credits all land."""
    data = world(
        months=4,
        **{
            "population.chip_id_share": 1.0,
            "assumptions.initial_accounts.account_share": {"urban": 0, "rural": 0, "mountain": 0},
            "assumptions.opening.monthly_apply_prob": 0.0,
            "assumptions.account_life.credit_mismatch_prob": 1.0,
            "assumptions.account_life.monthly_dormancy_prob": 0.0,
            "assumptions.verification.db_mismatch_share": 0.0,
        },
    )
    block = {
        "name": "chip",
        "start": "2023-02",
        "enrol_prob": 1.0,
        "account_type": "postal_ewallet",
    }
    _, p, records = run(with_strategy(data, "chip_id_payment", block))
    enrolled = p.filter(has_account(p))
    assert enrolled.height > 0 and (enrolled["account_type"] == "postal_ewallet").all()
    assert enrolled["registered"].all()
    assert (p["status"] != "returned").all()  # no failed credit: the ID is the key
    # whoever was paid in cash at a point in February is paid into the account in March
    feb_cash = p.filter(
        (pl.col("period").dt.strftime("%Y-%m") == "2023-02") & pl.col("channel").is_in(["cash_commune", "cash_counter"])
    )
    march = p.filter(pl.col("period").dt.strftime("%Y-%m") == "2023-03").join(
        feb_cash.select("beneficiary_id"), on="beneficiary_id"
    )
    assert march.height == feb_cash.height > 0
    assert (march["channel"] == "account").all()
    assert (
        sum(r["chip_id_enrolled"] for r in records)
        == p.filter(pl.col("month") == 3).select(has_account(p).sum()).item()
    )
    assert records[0]["chip_id_enrolled"] == 0  # not before its start


def test_chip_id_refusals_last() -> None:
    data = world(
        months=4,
        **{
            "population.chip_id_share": 1.0,
            "assumptions.opening.monthly_apply_prob": 0.0,
            "assumptions.initial_accounts.account_share": {"urban": 0, "rural": 0, "mountain": 0},
        },
    )
    _, p, records = run(
        with_strategy(
            data, "chip_id_payment", {"name": "chip", "start": "2023-01", "enrol_prob": 0.3}
        )
    )
    enrolled = [r["chip_id_enrolled"] for r in records]
    # those asked in January and refusing are asked again each month and refuse again, so the
    # enrolments shrink to the newly asked (the share who agree is 0.3 once, not every month)
    assert enrolled[0] > 0 and enrolled[1] < 0.5 * enrolled[0]
    ever = p.filter(pl.col("month") == 3).select(has_account(p).mean()).item()
    assert 0.15 < ever < 0.4


def test_home_delivery_reaches_the_old_within_the_couriers_capacity() -> None:
    base = world(months=3, **{"assumptions.collection.home_delivery_takeup": 0.0})
    block = {
        "name": "home",
        "start": "2023-01",
        "couriers_per_district": 1,
        "deliveries_per_courier_day": 4,
        "request_prob": 1.0,
    }
    r0, p0, _ = run(base)
    r1, p1, records = run(with_strategy(base, "home_delivery", block))
    home = p1.filter(pl.col("channel") == "home")
    assert home.height > 0
    scenario = validate_scenario(base, "test")
    people = build_province(scenario, scenario.seed).people
    # people age: 80 by the run's last month (AGE_80_PLUS) is eligible from their birthday
    eligible = set(people.id[(age_group_at(people.born, 2) == 2) | people.immobile].tolist())
    assert set(home["beneficiary_id"].to_list()) <= eligible
    assert p0.filter(pl.col("channel") == "home").height == 0
    per_day = home.group_by("district", "month", "day_in_hand").len()
    assert per_day["len"].max() <= 4  # one courier, four homes a day
    assert per_day["len"].max() == 4  # and the capacity is used
    window_days = 10 - 2 + 1
    assert all(r["home_delivery_scheduled"] <= 2 * 4 * window_days for r in records)
    old = "aged_80_plus"
    assert (
        r1.summary["unpaid_by_subgroup"][old]["unpaid_share"]
        < r0.summary["unpaid_by_subgroup"][old]["unpaid_share"]
    )
    assert r1.summary["cost_vnd"]["state_fees"] > r0.summary["cost_vnd"]["state_fees"]


def test_fee_waiver_moves_cash_out_fees_from_beneficiaries_to_the_state() -> None:
    base = world(months=3)  # 1,100 VND per ATM or post-office cash-out (factory)
    scenario0 = validate_scenario(base, "test")
    scenario1 = validate_scenario(
        with_strategy(
            base, "fee_waivers", {"name": "fw", "start": "2023-02", "districts": ["Town"]}
        ),
        "test",
    )
    fees0, fees1, waived = [], [], []

    def keep(store: list, rec, _p) -> None:  # noqa: ANN001
        store.append(rec)

    recs0: list = []
    recs1: list = []
    simulate(scenario0, on_month=lambda r, p: keep(recs0, r, p))
    simulate(scenario1, on_month=lambda r, p: keep(recs1, r, p))
    for r0, r1 in zip(recs0, recs1, strict=True):
        fees0.append(int(r0.columns["fee_vnd"].sum()))
        fees1.append(int(r1.columns["fee_vnd"].sum()))
        waived.append(r1.strategies["fees_waived_vnd"])
        assert r0.ledger == r1.ledger  # the same payments: only who pays the fee changes
    assert fees0[0] == fees1[0] > 0 and waived[0] == 0
    assert all(f0 == f1 + w for f0, f1, w in zip(fees0, fees1, waived, strict=True))
    assert all(w > 0 for w in waived[1:])
    people = build_province(scenario1, scenario1.seed).people
    last = recs1[-1]
    in_hills = people.district[last.rows] == 1
    assert last.columns["fee_vnd"][in_hills].sum() > 0  # Hills still pays its fees
    assert last.columns["fee_vnd"][~in_hills].sum() == 0  # Town's are waived


def test_digital_teams_help_within_capacity_and_lift_opening() -> None:
    base = world(
        months=4,
        **{"assumptions.opening.success_prob": 0.4, "assumptions.opening.monthly_apply_prob": 0.2},
    )
    block = {
        "name": "dt",
        "start": "2023-01",
        "helps_per_team_per_month": 40,
        "helped_success_prob": 1.0,
        "helped_dormancy_factor": 0.0,
        "helped_reactivation_prob": 1.0,
    }
    r0, _, _ = run(base)
    r1, _, records = run(with_strategy(base, "digital_teams", block))
    assert all(0 < r["digital_teams_helped"] <= 5 * 40 for r in records)
    f0, f1 = r0.funnel, r1.funnel
    assert f1["applications_failed"].sum() < f0["applications_failed"].sum()
    assert f1["accounts_opened"].sum() > f0["accounts_opened"].sum()
    assert (
        r1.summary["account_coverage"]["last_month"] > r0.summary["account_coverage"]["last_month"]
    )
    assert all(r["digital_teams_vnd"] == 5 * 1_500_000 for r in records)


def test_fee_waiver_apply_multiplier_lifts_applications_only_where_waived() -> None:
    base = world(months=3)
    _, p0, _ = run(base)
    _, p1, _ = run(
        with_strategy(
            base,
            "fee_waivers",
            {"name": "fw", "start": "2023-01", "districts": ["Hills"], "apply_multiplier": 3.0},
        )
    )
    cols = ["beneficiary_id", "month", "account_status"]
    assert (
        p0.filter(pl.col("district") == 0)
        .select(cols)
        .equals(p1.filter(pl.col("district") == 0).select(cols))
    )
    hills = pl.col("district") == 1
    applied0 = p0.filter(hills & (pl.col("account_status") != "none")).height
    applied1 = p1.filter(hills & (pl.col("account_status") != "none")).height
    assert applied1 > applied0


# --------------------------------------------------------------------------- all together


ALL = {
    "drives": [
        {
            "name": "d",
            "start": "2023-01",
            "end": "2023-03",
            "teams": 1,
            "communes_per_team_per_month": 2,
            "targeting": "remote_first",
            "reach": 0.5,
            "apply_prob": 0.5,
        }
    ],
    "atm_points": [
        {"name": "po", "start": "2023-02", "communes_per_month": 2, "float_cap_vnd": 5_000_000}
    ],
    "agents": [
        {"name": "ag", "start": "2023-01", "communes_per_month": 1, "float_vnd_per_day": 3_000_000}
    ],
    "chip_id_payment": [{"name": "chip", "start": "2023-02"}],
    "home_delivery": [
        {
            "name": "home",
            "start": "2023-02",
            "couriers_per_district": 1,
            "deliveries_per_courier_day": 3,
        }
    ],
    "fee_waivers": [{"name": "fw", "start": "2023-03", "apply_multiplier": 1.5}],
    "digital_teams": [
        {"name": "dt", "start": "2023-01", "end": "2023-03", "helps_per_team_per_month": 10}
    ],
    "cash_closure": [
        {
            "name": "close",
            "start": "2023-04",
            "districts": ["Town"],
            "cash_after_failed_credit": True,
        }
    ],
    # changes the month only where new approvals arrive (a world with a demography)
    "enrolment_accounts": [{"name": "enrol", "start": "2023-02", "share": 0.8}],
}


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_money_is_conserved_with_every_strategy_on(seed: int) -> None:
    data = world(months=5, seed=seed, **{"assumptions.points.partial_payout": seed % 2 == 0})
    data["interventions"] = ALL
    result, payments, records = run(data)
    check_money(result, payments)
    check_once_and_bounds(payments)
    check_counts(result)
    assert set(records[0]) == set(STRATEGY_COUNTS)
    assert (
        sum(r["agents_open"] for r in records) > 0
        and sum(r["chip_id_enrolled"] for r in records) > 0
    )


def test_strategies_that_never_start_change_nothing() -> None:
    data = world(months=3)
    later = {
        kind: [{**blocks[0], "start": "2030-01", "end": "2030-02"}] for kind, blocks in ALL.items()
    }
    _, p0, _ = run(data)
    _, p1, _ = run({**data, "interventions": later})
    assert p0.equals(p1)


def test_unknown_districts_and_repeated_names_are_refused() -> None:
    data = world()
    data["interventions"] = {
        "atm_points": [
            {"name": "x", "start": "2023-01", "communes_per_month": 1, "districts": ["Atlantis"]}
        ]
    }
    with pytest.raises(
        ScenarioError, match=r"interventions\.atm_points\[0\]\.districts: names unknown district"
    ):
        validate_scenario(data, "test")
    data["interventions"] = {
        "cash_closure": [{"name": "x", "start": "2023-01"}, {"name": "x", "start": "2023-05"}]
    }
    with pytest.raises(ScenarioError, match="names must be unique"):
        validate_scenario(data, "test")
    # drives too: two unnamed drives would share their random streams
    drive = {
        "start": "2023-01",
        "end": "2023-02",
        "teams": 1,
        "communes_per_team_per_month": 1,
        "reach": 0.5,
        "apply_prob": 0.5,
    }
    data["interventions"] = {"drives": [drive, drive]}
    with pytest.raises(ScenarioError, match="drives: names must be unique; repeated: drive"):
        validate_scenario(data, "test")


# --------------------------------------------------------------------------- the Hòa Bình files


STRATEGY_FILES = sorted(p for p in SCENARIOS.glob("hoa_binh_*.yaml"))


def test_there_are_a_status_quo_and_at_least_four_strategies() -> None:
    names = [p.stem for p in STRATEGY_FILES]
    assert "hoa_binh_status_quo" in names
    assert len(names) >= 5


def test_status_quo_is_the_base_scenario() -> None:
    base = load_scenario(SCENARIOS / "hoa_binh.yaml").model_dump()
    quo = load_scenario(SCENARIOS / "hoa_binh_status_quo.yaml").model_dump()
    for key in ("name", "description"):
        base.pop(key), quo.pop(key)
    assert base == quo


@pytest.mark.parametrize("path", STRATEGY_FILES, ids=lambda p: p.stem)
def test_strategy_files_are_valid_differences_with_their_assumptions_commented(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[1].startswith("#") and "extends:" in text
    # every number written in the file says where it comes from, or that it is an assumption
    for line in text.splitlines():
        code = line.split("#", 1)[0]
        if re.search(r":\s*-?\d", code) and not re.search(r"start:|end:", code):
            assert "#" in line, (
                f"{path.name}: {line.strip()!r} needs a comment: its source or 'assumption'"
            )
    if path.stem != "hoa_binh_status_quo":
        quo = load_scenario(SCENARIOS / "hoa_binh_status_quo.yaml")
        assert scenario.interventions != quo.interventions  # a strategy adds something
        assert scenario.assumptions == quo.assumptions  # and changes no assumption of the base
