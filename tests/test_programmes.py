"""Every programme the post office pays, with its own amounts; people who age; the budget's entrants.

Each test runs the real population builder or the engine (no stand-ins):
* a life table's annual q(x) becomes the monthly chance whose twelve months compound back to q;
* merit allowances are the dated standard × each type's coefficient; a social pension is paid
  from the dated age; a second programme's amount adds to the first's;
* the monthly table shows each programme apart, and apart they add up to all together;
* people move up an age group at their birthday, and home delivery and mortality follow the group;
* the memory and money budget counts the run's expected new approvals.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import polars as pl
from factory import small
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_compare import run_with_payments
from test_population_flows import living, run_months

from welfare_sim.models.demography import age_group_at, monthly_death_prob
from welfare_sim.models.params import CATEGORIES, Demography, month_label, month_offset
from welfare_sim.models.population import build_beneficiaries, build_communes
from welfare_sim.models.programmes import MERIT, NO_SECOND, SOCIAL, SOCIAL_PENSION, age_months, programme_amounts
from welfare_sim.sim.budget import estimate, expected_entrants
from welfare_sim.sim.engine import simulate
from welfare_sim.sim.results import headline
from welfare_sim.sim.run import run_scenario
from welfare_sim.sim.scenario import validate_scenario
from welfare_sim.sim.streams import Streams

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])

STANDARD = [{"start": "2021-06", "vnd": 1624000}, {"start": "2023-07", "vnd": 2055000}]  # Decrees 75/2021, 55/2023
PROGRAMMES: dict[str, Any] = {
    "social_assistance": {"share": 0.4, "coefficients": {"1.0": 0.5, "1.5": 0.3, "2.0": 0.2}},
    "merit": {
        "share": 0.3,
        "amount": STANDARD,
        "types": {"martyrs_relatives": {"share": 0.5, "coefficient": 1.0}, "war_invalids": {"share": 0.5,
                                                                                             "coefficient": 1.6}},
        "also": {"social_assistance": 0.4},
    },
    "pension": {"share": 0.1, "amount": [{"start": "2022-01", "vnd": 3500000}]},
    "social_pension": {
        "share": 0.2,
        "min_age_years": [{"start": "2021-07", "years": 80}, {"start": "2023-04", "years": 75}],
        "amount": [{"start": "2021-07", "vnd": 360000}, {"start": "2023-04", "vnd": 500000}],
    },
}


def with_programmes(data: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    data["population"]["categories"] = {**copy.deepcopy(PROGRAMMES), **changes}
    return data


def people_of(data: dict[str, Any]):  # noqa: ANN201
    scenario = validate_scenario(data, "test")
    streams = Streams(scenario.seed)
    communes = build_communes(scenario.geography, streams)
    return scenario, build_beneficiaries(
        scenario.geography, scenario.population, communes, streams, scenario.months, scenario.start
    )


# --------------------------------------------------------------------------- life table


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_twelve_monthly_chances_compound_to_the_life_tables_annual_q(q_female: float, q_male: float) -> None:
    demo = Demography.model_validate({
        "female_share": 0.5,
        "annual_death_prob": {g: {"female": q_female, "male": q_male} for g in ("under_60", "age_60_79",
                                                                                "age_80_plus")},
    })
    group = np.array([0, 1, 2, 0, 1, 2], np.int8)
    female = np.array([True, True, True, False, False, False])
    monthly = monthly_death_prob(demo, group, female)
    q = np.where(female, q_female, q_male)
    survive_a_year = (1.0 - monthly) ** 12
    assert np.allclose(1.0 - survive_a_year, q, atol=1e-12)
    assert (monthly <= q + 1e-15).all()  # a month's chance is never more than the year's


# --------------------------------------------------------------------------- amounts


def test_merit_allowances_are_the_dated_standard_times_the_types_coefficient() -> None:
    scenario, people = people_of(with_programmes(small(months=12)))
    merit = people.category == MERIT
    assert set(np.unique(people.merit_coefficient[merit])) == {1.0, 1.6}
    # Decree 75/2021's standard until 2023-06, Decree 55/2023's from 2023-07, to the dong
    for label, month, amounts in (("2023-06", 5, {1624000, 2598400}), ("2023-07", 6, {2055000, 3288000})):
        first, _ = programme_amounts(people, scenario.population, label, month)
        assert set(np.unique(first[merit])) == amounts
        assert (first[merit & (people.merit_coefficient == 1.0)] == min(amounts)).all()


def test_a_second_programme_adds_its_own_amount_to_the_first() -> None:
    data = with_programmes(small(months=6))
    scenario, people = people_of(data)
    pop = scenario.population
    merit = people.category == MERIT
    both = merit & (people.second == SOCIAL)
    assert 0.25 < both.sum() / merit.sum() < 0.55  # the `also` share, 0.4
    assert (people.second[~merit] == NO_SECOND).all()  # only merit names a second programme
    first, second = programme_amounts(people, pop, "2023-03", 2)
    base = 500000  # base level from 2023-03
    assert (second[both] == np.rint(people.coefficient[both] * base)).all()
    assert (second[~both] == 0).all()
    # dropping the second programme leaves everyone's first amount as it was
    alone = with_programmes(small(months=6))
    del alone["population"]["categories"]["merit"]["also"]
    _, people_alone = people_of(alone)
    order = np.argsort(people_alone.id)
    first_alone, second_alone = programme_amounts(people_alone, validate_scenario(alone, "t").population,
                                                  "2023-03", 2)
    assert (second_alone == 0).all()
    assert (first[np.argsort(people.id)] == first_alone[order]).all()


def test_a_social_pension_is_paid_from_the_age_in_force_and_its_members_join_when_they_reach_it() -> None:
    # the social pension starts in 2023-04: before it, its members are not on the list
    data = with_programmes(small(months=6), social_pension={
        "share": 0.2,
        "min_age_years": [{"start": "2023-04", "years": 75}],
        "amount": [{"start": "2023-04", "vnd": 500000}],
    })
    scenario, people = people_of(data)
    sp = people.category == SOCIAL_PENSION
    assert sp.sum() > 20
    start = month_offset(scenario.start, "2023-04")
    assert (people.entry_month[sp & (people.entry_month < start)] < 0).sum() == 0  # nobody on it before
    assert (age_months(people.born[sp], start) >= 75 * 12).all()
    assert (people.entry_month[sp] >= start).all()
    months, _ = run_months(validate_scenario(data, "test"))
    for m in months:
        on = m["rows"][people.category[m["rows"]] == SOCIAL_PENSION]
        assert (on.size > 0) == (m["month"] >= start)


def test_a_wave_of_joiners_arrives_in_its_programme_and_months_with_its_ages_and_shifts_no_one_else() -> None:
    wave = {"start": "2023-03", "months": 2, "per_commune": 30.0, "min_age_years": 75, "max_age_years": 80}
    base = living(with_programmes(small(months=6)), entries_per_commune_month=2.0)
    data = copy.deepcopy(base)
    data["population"]["categories"]["social_pension"]["joiners"] = [wave]
    _, before = people_of(base)
    scenario, people = people_of(data)
    new = ~np.isin(people.id, before.id)
    n_communes = 5
    assert 60 < new.sum() < 240  # five communes × 30, about 150
    assert (people.category[new] == SOCIAL_PENSION).all()
    # approved in 2023-03 and 2023-04, but paid from 75 only from 2023-04: all join the list then
    assert set(np.unique(people.entry_month[new])) == {3}
    age = age_months(people.born[new], 3)
    assert ((age >= 75 * 12) & (age < 80 * 12 + 1)).all()  # drawn 75-79 on approval
    assert np.unique(people.id).size == people.n
    # everyone else keeps their id and every draw
    ia, ib = np.argsort(before.id), np.argsort(people.id[~new])
    for name in ("born", "category", "second", "coefficient", "entry_month", "female", "age_group"):
        assert (getattr(before, name)[ia] == getattr(people, name)[~new][ib]).all(), name
    # and the budget counts them
    assert expected_entrants(scenario, 6) - expected_entrants(validate_scenario(base, "t"), 6) >= 30 * n_communes
    months, _ = run_months(scenario)
    assert months[3]["funnel"]["entries"] >= new.sum()


def test_each_programme_apart_adds_up_to_all_of_them_together() -> None:
    data = living(with_programmes(small(months=6)), entries_per_commune_month=2.0)
    result = run_scenario(validate_scenario(data, "test"))
    m = result.monthly
    apart = pl.sum_horizontal([pl.col(f"entitled_{p}_vnd") for p in CATEGORIES])
    assert m.select((apart == pl.col("entitled_vnd")).all()).item()
    totals = m.select([pl.col(f"entitled_{p}_vnd").sum() for p in CATEGORIES]).row(0)
    assert all(t > 0 for t in totals)  # every programme is paid and shown
    # a person counts once in each programme they receive: their first one's rows count them all, and
    # only a second programme adds to the sum apart
    for p in CATEGORIES:
        rows = m.filter(pl.col("category") == p)
        assert (rows[f"recipients_{p}"] == rows["beneficiaries"]).all()
    recipients = pl.sum_horizontal([pl.col(f"recipients_{p}") for p in CATEGORIES])
    extra = m.select((recipients - pl.col("beneficiaries")).sum()).item()
    assert extra == m.filter(pl.col("category") == "merit")["recipients_social_assistance"].sum() > 0
    summary = headline(result)["programmes"]
    assert sum(v["entitled_vnd"] for k, v in summary.items() if k != "all") == summary["all"]["entitled_vnd"]
    assert summary["all"]["recipients_first_month"] <= sum(
        v["recipients_first_month"] for k, v in summary.items() if k != "all"
    )
    # merit rows also carry the social assistance their recipients receive second
    merit_rows = m.filter(pl.col("category") == "merit")
    assert merit_rows["entitled_social_assistance_vnd"].sum() > 0


def test_whoever_is_paid_by_two_programmes_is_owed_both_amounts() -> None:
    data = with_programmes(small(months=6))
    scenario = validate_scenario(data, "test")
    checked = 0

    def keep(rec, province) -> None:  # noqa: ANN001
        nonlocal checked
        people = province.people
        label = month_label(scenario.start, rec.month)
        first, second = programme_amounts(people, scenario.population, label, rec.month)
        rows = rec.rows
        entitled = rec.columns["entitled_vnd"]
        active = entitled > 0
        assert (entitled[active] == (first + second)[rows][active]).all()
        checked += int((active & (second[rows] > 0)).sum())

    simulate(scenario, on_month=keep)
    assert checked > 50


# --------------------------------------------------------------------------- ageing


def test_people_move_up_an_age_group_at_their_birthday_and_home_delivery_follows() -> None:
    data = living(small(months=24), entries_per_commune_month=0.0)
    data["assumptions"]["collection"]["home_delivery_takeup"] = 1.0
    data["population"]["immobile_share"] = 0.0
    _, people = people_of(data)
    group0 = age_group_at(people.born, 0)
    assert (group0 == people.age_group).all()
    turning = np.flatnonzero((group0 == 1) & (age_group_at(people.born, 23) == 2))
    assert turning.size > 0  # a uniform age over 60-79 puts about 1 in 10 at 80 within two years
    birthday = 80 * 12 + people.born[turning]  # the run month of the 80th birthday
    for month in (0, 5, 11, 23):
        g = age_group_at(people.born, month)
        assert ((g[turning] == 2) == (month >= birthday)).all()
    # the birth month is each person's own keyed draw: spread over the twelve months
    assert np.unique(np.mod(people.born, 12)).size == 12
    seen: dict[int, np.ndarray] = {}

    def keep(rec, province) -> None:  # noqa: ANN001
        seen[rec.month] = (province.home_takeup[turning].copy(), province._death_p[turning].copy())

    simulate(validate_scenario(data, "test"), on_month=keep)
    for month, (home, death_p) in seen.items():
        aged = month >= birthday
        assert (home == aged).all()  # eligible for home delivery from the 80th birthday
        expected = 1.0 - (1.0 - np.where(people.female[turning], 0.8, 0.9)) ** (1 / 12)
        younger = 1.0 - (1.0 - np.where(people.female[turning], 0.5, 0.6)) ** (1 / 12)
        assert np.allclose(death_p, np.where(aged, expected, younger))  # and die at the 80+ rate


def test_one_more_beneficiary_changes_no_one_elses_age_or_programmes() -> None:
    data = with_programmes(small(months=6))
    data["geography"]["districts"][0]["commune_beneficiaries"] = [30, 20]
    data["geography"]["districts"][0]["communes"] = 2
    data["geography"]["districts"][0]["beneficiaries"] = 50
    more = copy.deepcopy(data)
    more["geography"]["districts"][0]["commune_beneficiaries"][1] += 1
    more["geography"]["districts"][0]["beneficiaries"] += 1
    _, a = people_of(living(data))
    _, b = people_of(living(more))
    keep = np.isin(b.id, a.id)
    assert keep.sum() == a.n and b.n == a.n + 1
    ia, ib = np.argsort(a.id), np.argsort(b.id[keep])
    for name in ("born", "category", "second", "coefficient", "merit_coefficient", "entry_month", "female"):
        assert (getattr(a, name)[ia] == getattr(b, name)[keep][ib]).all(), name


# --------------------------------------------------------------------------- accounts at enrolment


def test_new_approvals_leave_enrolment_with_an_account_listed_for_payment_while_the_strategy_is_in_force() -> None:
    data = living(small(months=6), entries_per_commune_month=6.0)
    data["assumptions"]["initial_accounts"]["account_share"] = {"urban": 0.0, "rural": 0.0, "mountain": 0.0}
    data["interventions"] = {"enrolment_accounts": [
        {"name": "enrol", "start": "2023-03", "end": "2023-05", "districts": ["Town"], "share": 1.0,
         "cost_per_account_vnd": 30000}
    ]}
    scenario = validate_scenario(data, "test")
    seen: list[tuple[int, np.ndarray, np.ndarray, dict[str, int]]] = []

    def keep(rec, province) -> None:  # noqa: ANN001
        arrived = province.people.entry_month == rec.month
        seen.append((rec.month, arrived, province.accounts.has_account.copy(), dict(rec.strategies)))

    province = simulate(scenario, on_month=keep)
    town = province.people.district == 0
    opened = 0
    for month, arrived, has_account, counts in seen:
        new_in_town = int((arrived & town).sum())
        if month in range(2, 5):  # 2023-03 to 2023-05
            assert has_account[arrived & town].all()  # nobody had one (account share 0): all opened
            assert counts["enrolment_accounts_opened"] == new_in_town > 0  # and only in the districts it covers
        else:
            assert counts["enrolment_accounts_opened"] == 0  # outside its dates
        assert counts["enrolment_accounts_vnd"] == 30000 * counts["enrolment_accounts_opened"]
        opened += counts["enrolment_accounts_opened"]
    assert opened > 10
    # listed for payment at once: paid into the account in the month they arrive (bar a record
    # mismatch of the population database, or an account gone dormant that month)
    result, payments = run_with_payments(data)
    assert result.strategies["enrolment_accounts_opened"] == opened
    assert result.strategies["enrolment_accounts_vnd"] == 30000 * opened
    people = province.people
    arrivals = pl.DataFrame({
        "beneficiary_id": people.id, "month": people.entry_month.astype(np.int64), "town": town,
    }).filter(pl.col("town") & pl.col("month").is_between(2, 4))
    first = payments.join(arrivals, on=["beneficiary_id", "month"])
    assert first.height == arrivals.height
    assert (first["channel"] == "account").mean() > 0.85


# --------------------------------------------------------------------------- budget


def test_the_budget_counts_the_runs_expected_entrants() -> None:
    closed = validate_scenario(small(months=12), "test")
    open_ = validate_scenario(living(small(months=12), entries_per_commune_month=4.0), "test")
    assert expected_entrants(closed, 12) == 0
    added = expected_entrants(open_, 12)
    assert estimate(open_).beneficiaries == estimate(closed).beneficiaries + added
    assert estimate(open_).bytes > estimate(closed).bytes
    _, people = people_of(living(small(months=12), entries_per_commune_month=4.0))
    drawn = int((people.entry_month >= 0).sum())
    assert 0 < drawn <= added  # the estimate bounds what the run draws


def test_the_budgets_money_counts_the_types_coefficients_and_a_second_programme() -> None:
    alone = with_programmes(small(months=12))
    alone["population"]["categories"]["pension"]["amount"] = [{"start": "2022-01", "vnd": 1000}]
    both = copy.deepcopy(alone)
    del alone["population"]["categories"]["merit"]["also"]
    a, b = validate_scenario(alone, "test"), validate_scenario(both, "test")
    # the most one person is owed a month: merit at 1.6 × 2,055,000 = 3,288,000 VND (not the bare
    # standard), and a second programme's on top of it
    n = estimate(a).beneficiaries
    assert estimate(b).money_vnd - estimate(a).money_vnd == n * 3288000 * 12
