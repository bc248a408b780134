"""A living population: deaths, new approvals, monthly verification and re-application.

Properties, each checked against the rows of a real run (the engine, not a stand-in):
* money is conserved to the dong with deaths, entries and recoveries, and what was paid after a
  death is exactly what the rows of the dead show;
* nobody dead is paid later than the detection lag allows;
* every new approval arrives in its month, with draws of its own;
* one more beneficiary changes nothing for the others, with entries and deaths.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import polars as pl
from factory import scenarios, small
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_compare import crn_world, one_more, run_with_payments

from welfare_sim.models.month.common import DEAD, PENDING
from welfare_sim.sim.engine import simulate
from welfare_sim.sim.scenario import Scenario, validate_scenario

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# high rates, so that a few months of a small world see many deaths, entries and re-applications
DEMOGRAPHY: dict[str, Any] = {
    "female_share": 0.6,
    "annual_death_prob": {
        "under_60": {"female": 0.3, "male": 0.4},
        "age_60_79": {"female": 0.5, "male": 0.6},
        "age_80_plus": {"female": 0.8, "male": 0.9},
    },
    "detection_lag_months": 2,
    "proxy_collect_share": 0.5,
    "entries_per_commune_month": 4.0,
    "reapply_prob": 0.3,
}


def living(data: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    data["population"]["demography"] = {**copy.deepcopy(DEMOGRAPHY), **changes}
    return data


def run_months(scenario: Scenario) -> tuple[list[dict[str, Any]], Any]:
    """Each month's ledger, funnel and rows (index, paid), and the province at the end."""
    months: list[dict[str, Any]] = []

    def keep(rec, province) -> None:  # noqa: ANN001
        months.append(
            {
                "month": rec.month,
                "ledger": dict(rec.ledger),
                "funnel": dict(rec.funnel),
                "rows": rec.rows.copy(),
                "paid": rec.columns["paid_vnd"].copy(),
            }
        )

    province = simulate(scenario, on_month=keep)
    return months, province


@st.composite
def living_scenarios(draw: st.DrawFn) -> Scenario:
    scenario = draw(scenarios())
    data = scenario.model_dump(mode="json")
    demo = {
        "female_share": draw(st.floats(0.0, 1.0)),
        "annual_death_prob": {
            g: {"female": draw(st.floats(0.0, 1.0)), "male": draw(st.floats(0.0, 1.0))}
            for g in ("under_60", "age_60_79", "age_80_plus")
        },
        "detection_lag_months": draw(st.integers(0, 4)),
        "proxy_collect_share": draw(st.floats(0.0, 1.0)),
        "entries_per_commune_month": draw(st.floats(0.0, 6.0)),
        "reapply_prob": draw(st.floats(0.0, 1.0)),
    }
    data["population"]["demography"] = demo
    data["assumptions"]["verification"]["monthly_mismatch_prob"] = draw(st.floats(0.0, 0.5))
    return validate_scenario(data, "test")


@SETTINGS
@given(living_scenarios())
def test_money_is_conserved_with_deaths_entries_and_recoveries(scenario: Scenario) -> None:
    months, province = run_months(scenario)
    death = province.death_month
    carried = 0
    paid_after, recovered, written_off = 0, 0, 0
    for m in months:
        led = m["ledger"]
        due = led["owed_start"] + led["suspended_start"] + led["entitled"]
        out = (
            led["credited"] + led["paid_cash_commune"] + led["paid_cash_counter"] + led["paid_home"]
            + led["forfeited"] + led["owed_end"] + led["suspended_end"]
        )
        assert due == out
        assert led["balance_start"] + led["credited"] == led["withdrawn"] + led["recovered"] + led["balance_end"]
        assert led["after_death_start"] == carried
        # what was paid after a death, from the rows of the dead, is the ledger's line
        rows = m["rows"]
        dead_rows = (death[rows] >= 0) & (death[rows] <= m["month"])
        assert int(m["paid"][dead_rows].sum()) == led["paid_after_death"]
        assert led["after_death_start"] + led["paid_after_death"] == (
            led["recovered"] + led["written_off"] + led["after_death_end"]
        )
        assert led["recovered"] >= 0 and led["written_off"] >= 0
        carried = led["after_death_end"]
        paid_after += led["paid_after_death"]
        recovered += led["recovered"]
        written_off += led["written_off"]
    assert paid_after == recovered + written_off + carried


@SETTINGS
@given(living_scenarios())
def test_no_payment_to_the_dead_later_than_the_detection_lag(scenario: Scenario) -> None:
    lag = scenario.population.demography.detection_lag_months
    months, province = run_months(scenario)
    death = province.death_month
    for m in months:
        rows = m["rows"]
        dead = death[rows] >= 0
        since = m["month"] - death[rows]
        # on the list only until the database shows the death, and so never paid later
        assert (since[dead] < lag).all()
        assert (m["paid"][dead & (since >= lag)] == 0).all()
    known = (death >= 0) & (death + lag < len(months))
    assert (province.state[known] == DEAD).all()


@SETTINGS
@given(living_scenarios())
def test_every_new_approval_joins_the_list_in_its_month_and_the_count_follows_the_flows(scenario: Scenario) -> None:
    lag = scenario.population.demography.detection_lag_months
    months, province = run_months(scenario)
    entry, death = province.people.entry_month, province.death_month
    before = int((entry < 0).sum())  # on the list at the start (none has died yet)
    for m in months:
        on_list = np.zeros(province.people.n, bool)
        on_list[m["rows"]] = True
        arriving = entry == m["month"]
        known_dead = (death >= 0) & (death + lag <= m["month"])  # with no lag, off the list the month they die
        assert on_list[arriving & ~known_dead].all()
        assert not on_list[entry > m["month"]].any()
        f = m["funnel"]
        assert f["entries"] == int(arriving.sum())
        # the list moves by exactly its flows: joins and returns in, stops and detected deaths out
        assert m["rows"].size <= before + f["entries"] + f["reapplications"]
        before = m["rows"].size


def test_the_dead_are_paid_for_no_longer_than_the_lag_and_the_money_is_recovered_or_written_off() -> None:
    data = living(small(months=8), detection_lag_months=3, entries_per_commune_month=0.0, reapply_prob=0.0)
    months, province = run_months(validate_scenario(data, "test"))
    funnel = [m["funnel"] for m in months]
    ledger = [m["ledger"] for m in months]
    assert sum(f["deaths"] for f in funnel) > 50
    assert sum(f["deaths_detected"] for f in funnel) > 0
    assert sum(f["deaths_detected"] for f in funnel[:3]) == 0  # nobody known dead before the lag
    assert sum(x["paid_after_death"] for x in ledger) > 0
    assert sum(x["recovered"] for x in ledger) > 0 and sum(x["written_off"] for x in ledger) > 0
    # a closed population's count can only fall: every death is one fewer by the lag's end
    counts = [m["rows"].size for m in months]
    assert counts[-1] < counts[0]


def test_new_approvals_arrive_in_their_month_with_ids_of_their_own() -> None:
    data = living(small(months=6), annual_death_prob={g: {"female": 0.0, "male": 0.0} for g in (
        "under_60", "age_60_79", "age_80_plus")})
    months, province = run_months(validate_scenario(data, "test"))
    people = province.people
    entry = people.entry_month
    assert np.unique(people.id).size == people.n
    newcomers = entry >= 0
    # five communes × six months × four a month: about 120 expected
    assert 60 < newcomers.sum() < 200
    for m in months:
        on_list = np.zeros(people.n, bool)
        on_list[m["rows"]] = True
        assert m["funnel"]["entries"] == int((entry == m["month"]).sum())
        assert on_list[entry == m["month"]].all()  # everyone approved this month is on the list
        assert not on_list[entry > m["month"]].any()  # and nobody before their month
    # with no deaths, the count grows by the approvals (less stops)
    assert months[-1]["rows"].size > months[0]["rows"].size
    assert (province.state[entry >= len(months)] == PENDING).all()


def test_stopped_beneficiaries_reapply_and_changed_records_are_held() -> None:
    data = living(small(months=8), entries_per_commune_month=0.0, reapply_prob=0.5)
    a = data["assumptions"]
    a["collection"]["monthly_absent_prob"] = 0.6
    a["collection"]["resume_prob"] = 0.0
    data["payment_run"]["suspend_after_months"] = 1
    data["payment_run"]["stop_after_suspended_months"] = 1
    a["verification"]["monthly_mismatch_prob"] = 0.2
    months, _ = run_months(validate_scenario(data, "test"))
    assert sum(m["funnel"]["reapplications"] for m in months) > 0
    assert all(m["funnel"]["records_changed"] > 0 for m in months)


def test_with_entries_and_deaths_one_more_beneficiary_changes_only_the_waits() -> None:
    data = living(crn_world(ample=True), entries_per_commune_month=3.0)
    data["seed"] = 10
    _, before = run_with_payments(data)
    _, after = run_with_payments(one_more(data, district=1, commune=1))
    newcomer = 4 * (1 << 24) + 60
    assert after.filter(pl.col("beneficiary_id") == newcomer).height > 0
    entrants = before.filter(pl.col("beneficiary_id") % (1 << 24) >= (1 << 23))
    assert entrants.height > 0  # new approvals are among the others, and keep everything too
    after = after.filter(pl.col("beneficiary_id") != newcomer)
    queue_only = ["wait_min", "time_cost_vnd"]
    assert after.height == before.height
    assert after.drop(queue_only).equals(before.drop(queue_only))
