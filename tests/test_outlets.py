"""Cash-out points for account holders (agents, commune post offices, ATMs), home couriers with a
capacity, proxies, and choices that respond to cost. Properties over random small worlds, read
from the engine's own day-by-day record, and hand-checked cases."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from factory import small
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_cash_logistics import random_small_world, run_days

from welfare_sim.models import behaviour, outlets
from welfare_sim.models.cashout import (
    AGENT,
    ATM,
    CLOSED,
    COMMUNE_POINT,
    COMMUNE_POST_OFFICE,
    FAILED,
    NO_CASH,
    PAID_PART,
    POST_OFFICE,
)
from welfare_sim.models.month.common import CH_HOME, ST_PAID, ST_UNCOLLECTED
from welfare_sim.models.params import ACCOUNT_TYPES, CostResponse
from welfare_sim.models.payment_run import MonthRecord, Province
from welfare_sim.sim.engine import simulate
from welfare_sim.sim.scenario import validate_scenario

PROPERTY = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KIND_CODE = {"atm": ATM, "post_office": POST_OFFICE, "agent": AGENT, "commune_post_office": COMMUNE_POST_OFFICE}


def outlet(share: float, **extra: Any) -> dict[str, Any]:
    return {
        "share_of_communes": share,
        "counters": 1,
        "open_min": 420,
        "close_min": 1200,
        "service_mean_min": 3,
        "downtime_prob": 0.0,
        "float_cover": 1.5,
        **extra,
    }


@st.composite
def outlet_worlds(draw: st.DrawFn) -> dict[str, Any]:
    """Small worlds with agents and commune post offices in some communes, ATMs with hours, other
    customers, failures and a reload schedule, and choices by cost."""
    data = random_small_world(draw, months=2, communes=5, beneficiaries=(30, 200))
    for district in data["geography"]["districts"]:
        district["atms"] = draw(st.integers(1, 3))
    a = data["assumptions"]
    a["initial_accounts"]["account_share"] = {"urban": 0.8, "rural": 0.6, "mountain": 0.5}
    a["initial_accounts"]["registered_share"] = 0.9
    a["points"]["partial_payout"] = draw(st.booleans())
    a["points"]["agent"] = outlet(
        draw(st.floats(0.0, 1.0)),
        per_commune=draw(st.integers(1, 2)),
        travel_factor=draw(st.floats(0.3, 1.5)),
        fee_vnd=draw(st.integers(0, 20_000)),
    )
    a["points"]["commune_post_office"] = outlet(draw(st.floats(0.0, 1.0)), open_weekdays=[0, 1, 2, 3, 4])
    first = draw(st.integers(0, 20))
    last = draw(st.integers(first + 1, 24))
    shares = np.zeros(24)
    shares[first:last] = draw(st.lists(st.floats(0.01, 1.0), min_size=last - first, max_size=last - first))
    shares /= shares.sum()
    shares = [round(x, 12) for x in shares]
    shares[first] = round(1.0 - sum(shares[first + 1 :]), 12)
    a["points"]["atm"].update(
        {
            "visit_hour_shares": shares,
            "other_customers_per_day": draw(st.floats(0, 40)),
            "other_withdrawal_vnd": 1_000_000,
            "replenish_weekdays": sorted(draw(st.sets(st.integers(0, 6), min_size=1))),
            "fail_prob": draw(st.floats(0, 0.5)),
            "fail_multipliers": {"age_80_plus": draw(st.floats(1, 3)), "disabled": draw(st.floats(1, 2))},
            "failed_to_counter_prob": draw(st.floats(0, 1)),
        }
    )
    a["cashout"]["point_by_account_type"] = {
        "bank": ["atm", "post_office"],
        "mobile_money": ["agent", "post_office"],
        "postal_ewallet": ["commune_post_office", "agent", "post_office"],
    }
    a["behaviour"] = {
        "choice_scale_vnd": draw(st.floats(1_000, 100_000)),
        "expected_wait_min": {"post_office": draw(st.floats(0, 60))},
        "retry_scale_vnd": draw(st.floats(1_000, 100_000)),
        "retry_reference_cost_vnd": 30_000,
    }
    return data


def simulated(data: dict[str, Any]) -> list[tuple[MonthRecord, Province]]:
    """Each month's record and the province as it stands at the month's end."""
    months: list[tuple[MonthRecord, Province]] = []
    simulate(validate_scenario(data, "test"), on_month=lambda r, p: months.append((r, p)))
    return months


def test_atm_visits_come_only_in_hours_with_a_share() -> None:
    cdf = np.cumsum([0] * 7 + [0.5, 0, 0.5] + [0] * 14)
    u = np.linspace(0.0, 1.0, 1001)[:-1]
    arrival = outlets.daytime_arrival(np.tile(cdf, (u.size, 1)), u, u[::-1])
    hour = (arrival // 60).astype(int)
    assert set(hour.tolist()) == {7, 9}
    assert (hour == 7).mean() == pytest.approx(0.5, abs=0.01)


@PROPERTY
@given(outlet_worlds())
def test_no_atm_visit_outside_the_daytime_hours_and_a_failed_visit_is_never_paid(data: dict[str, Any]) -> None:
    shares = np.array(data["assumptions"]["points"]["atm"]["visit_hour_shares"])
    atm_visits = 0
    failures = 0
    records = [record for record, _province in simulated(data)]
    for (province, days, _sched), record in zip(run_days(data), records, strict=True):
        month_failed = 0
        for _d, service, point in days:
            at_atm = province.points.kind[point] == ATM
            atm_visits += int(at_atm.sum())
            hour = np.floor(service.arrival_min[at_atm] / 60).astype(int)
            assert (shares[hour] > 0).all()
            failed = service.outcome == FAILED
            assert at_atm[failed].all()  # only machines fail
            assert (service.paid_vnd[failed] == 0).all()
            month_failed += int(failed.sum())
        # every failed visit is in the outputs, as a count per beneficiary
        assert int(record.columns["atm_failures"].sum()) == month_failed
        failures += month_failed
    assume(atm_visits > 0)


@PROPERTY
@given(outlet_worlds())
def test_at_every_kind_of_point_nobody_is_paid_on_a_closed_day_nor_served_after_closing(data: dict[str, Any]) -> None:
    for _province, days, _sched in run_days(data):
        for _d, service, point in days:
            paid = service.paid_vnd > 0
            assert service.point_open[point[paid]].all()
            # a visit to a closed point finds it closed: no queue, no cash, no turn at a counter
            shut = ~service.point_open[point]
            assert (service.outcome[shut] == CLOSED).all() and (service.wait_min[shut] == 0).all()
            served = service.outcome <= PAID_PART
            start = service.arrival_min[served] + service.wait_min[served]
            assert (start < service.close_min[point[served]]).all()


@PROPERTY
@given(outlet_worlds())
def test_account_holders_cash_out_only_at_the_kinds_their_account_type_can_use(data: dict[str, Any]) -> None:
    allowed = {
        ACCOUNT_TYPES.index(t): {KIND_CODE[k] for k in kinds} | {POST_OFFICE}
        for t, kinds in data["assumptions"]["cashout"]["point_by_account_type"].items()
    }
    seen = 0
    for province, _days, _sched in run_days(data):
        kinds = province.points.kind
        commune_of = province.points.commune
        chosen = province.cashout_point
        holders = np.flatnonzero(province.accounts.has_account)
        seen += int((province.withdrawals[holders] > 0).sum())
        for i in holders:
            k = kinds[chosen[i]]
            assert k in allowed[int(province.accounts.type[i])]
            if k in (AGENT, COMMUNE_POST_OFFICE):  # a commune outlet: the holder's own commune's
                assert commune_of[chosen[i]] == province.people.commune[i]
    assume(seen > 0)


def test_cash_planned_from_the_list_never_runs_short_at_commune_points_with_outlets_present() -> None:
    data = small(months=2)
    a = data["assumptions"]
    a["points"]["commune_point"].update({"downtime_prob": 0.0, "float_cover": 1.0})
    data["payment_run"]["cash_in_transit"] = {"max_vnd_per_run": 10**10, "runs_per_team_day": 1}
    a["points"]["agent"] = outlet(0.5)
    a["cashout"]["point_by_account_type"]["mobile_money"] = ["agent", "post_office"]
    visits = 0
    for province, days, _sched in run_days(data):
        for _d, service, point in days:
            at_commune = province.points.kind[point] == COMMUNE_POINT
            visits += int(at_commune.sum())
            assert not (service.outcome[at_commune] == NO_CASH).any()
    assert visits > 0


def test_a_reloaded_atm_gets_its_cassette_on_the_banks_days_and_keeps_what_is_left_otherwise() -> None:
    data = small(months=1)
    atm = data["assumptions"]["points"]["atm"]
    atm.update(
        {
            "downtime_prob": 0.0,
            "replenish_weekdays": [0],
            "other_customers_per_day": 20,
            "other_withdrawal_vnd": 1_000_000,
            "float_vnd_per_day": 30_000_000,
        }
    )
    ((province, days, _sched),) = run_days(data)
    at = np.flatnonzero(province.points.kind == ATM)
    left_before = None
    loaded = np.zeros(at.size, bool)
    for d, service, _point in days:
        cash = service.float_vnd[at]
        weekday = province.month_days(0)[d - 1].weekday()
        reload = (weekday == 0) | ~loaded
        # the cassette load on a reload day (never sized from the day's visitors), else what was left
        assert (cash[reload] == 30_000_000).all()
        if left_before is not None:
            assert (cash[~reload] == left_before[~reload]).all()
        loaded |= reload
        left_before = service.float_left_vnd[at]
    assert (left_before < 30_000_000).any()  # other customers took cash


def test_home_couriers_reach_at_most_their_capacity_a_day_and_the_rest_are_counted() -> None:
    data = small(months=2)
    data["assumptions"]["collection"]["home_delivery_takeup"] = 1.0
    data["assumptions"]["home"] = {"couriers_per_district": 1, "deliveries_per_courier_day": 2}
    window = data["payment_run"]["commune_window"]
    n_days = window["last_day"] - window["first_day"] + 1
    months: list[tuple[MonthRecord, np.ndarray, np.ndarray]] = []
    simulate(
        validate_scenario(data, "test"),
        on_month=lambda r, p: months.append((r, p.home.copy(), p.home_day.copy())),
    )
    unreached_total = 0
    for record, home, home_day in months:
        assert home.size > 0
        rows = record.rows
        channel = record.columns["channel"]
        status = record.columns["status"]
        at_home = rows[channel == CH_HOME]
        assert set(at_home.tolist()) == set(home.tolist())
        paid = (channel == CH_HOME) & (status == ST_PAID)
        unreached = (channel == CH_HOME) & (status == ST_UNCOLLECTED)
        # 2 districts, 1 courier each, 2 homes a day: at most 4 a day over the window
        assert int(paid.sum()) <= 2 * 2 * n_days
        assert int(paid.sum()) + int(unreached.sum()) == home.size
        assert (home_day[home_day >= 0] <= window["last_day"]).all()
        assert int(unreached.sum()) == int((home_day < 0).sum())
        unreached_total += int(unreached.sum())
    assert unreached_total > 0


def test_ten_million_people_are_not_paid_at_home_by_a_few_couriers() -> None:
    """The capacity is arithmetic, not sampled: 3 couriers × 15 homes × 9 days = 405 a district."""
    data = small(months=1)
    data["assumptions"]["collection"]["home_delivery_takeup"] = 1.0
    data["assumptions"]["home"] = {"couriers_per_district": 3, "deliveries_per_courier_day": 15}
    for district in data["geography"]["districts"]:
        district["beneficiaries"] = 3000
    months: list[MonthRecord] = []
    simulate(validate_scenario(data, "test"), on_month=lambda r, p: months.append(r))
    c = months[0].columns
    paid_home = int(((c["channel"] == CH_HOME) & (c["status"] == ST_PAID)).sum())
    assert paid_home == 2 * 405  # both districts have more home recipients than their couriers reach


def test_immobile_account_holders_use_a_proxy_a_home_service_or_keep_their_balance() -> None:
    data = small(months=1)
    data["assumptions"]["initial_accounts"] = {
        "account_share": {"urban": 1.0, "rural": 1.0, "mountain": 1.0},
        "registered_share": 1.0,
    }
    data["population"]["immobile_share"] = 0.5
    data["assumptions"]["cashout"]["mode_shares"] = {"all_at_once": 1.0}
    found = {}
    for fee in (None, 25_000):
        data["assumptions"]["home"] = {"proxy_prob": 0.5, "home_cashout_fee_vnd": fee}
        record, province = simulated(data)[0]
        immobile = province.people.immobile[record.rows]
        credited = record.columns["channel"] == 1
        home_cash = record.columns["home_cashouts"]
        trips = record.columns["trips"]
        found[fee] = (immobile, credited, home_cash, trips, record.columns["withdrawn_vnd"])
    immobile, credited, home_cash, trips, withdrawn = found[None]
    assert home_cash.sum() == 0
    stay = immobile & credited & (trips == 0) & (withdrawn == 0)
    assert stay.sum() > 0  # without a proxy and with no home service, the balance stays
    immobile, credited, home_cash, trips, withdrawn = found[25_000]
    at_home = home_cash > 0
    assert at_home.sum() > 0 and immobile[at_home].all() and (trips[at_home] == 0).all()
    assert (withdrawn[at_home] > 0).all()


@given(
    st.floats(0.01, 0.99),
    st.floats(0, 500_000),
    st.floats(0, 500_000),
    st.floats(1_000, 100_000),
)
def test_retrying_is_less_likely_the_more_the_trip_costs(base: float, c1: float, c2: float, scale: float) -> None:
    params = CostResponse(retry_scale_vnd=scale, retry_reference_cost_vnd=100_000)
    lo, hi = sorted((c1, c2))
    p_lo, p_hi = behaviour.retry_prob(base, np.array([lo]), params), behaviour.retry_prob(base, np.array([hi]), params)
    assert p_hi[0] <= p_lo[0]
    # a clearly dearer trip is retried strictly less often (within 30 scales of the reference, where
    # the chance is not yet too small for a double to tell apart)
    if hi - lo > scale / 10 and max(abs(lo - 100_000), abs(hi - 100_000)) < 30 * scale:
        assert p_hi[0] < p_lo[0]
    assert behaviour.retry_prob(base, np.array([100_000.0]), params)[0] == pytest.approx(base)


def test_the_choice_of_point_follows_its_cost() -> None:
    """Two options, the second 20,000 VND dearer: with a 20,000 VND scale it is chosen by 1/(1+e)."""
    n = 200_000
    cost = np.column_stack([np.full(n, 10_000.0), np.full(n, 30_000.0)])
    u = (np.arange(n) + 0.5) / n
    pick = behaviour.choose(cost, np.ones((n, 2), bool), 20_000.0, u)
    assert (pick == 1).mean() == pytest.approx(1 / (1 + np.e), abs=1e-3)
    # an unavailable option is never chosen, however cheap
    available = np.column_stack([np.zeros(n, bool), np.ones(n, bool)])
    assert (behaviour.choose(cost, available, 20_000.0, u) == 1).all()
    # no scale: the first available in the listed order
    assert (behaviour.choose(cost[:, ::-1], np.ones((n, 2), bool), None, u) == 0).all()


def test_a_dear_agent_loses_its_customers_to_the_post_office() -> None:
    data = small(months=1)
    a = data["assumptions"]
    a["initial_accounts"] = {"account_share": {"urban": 1.0, "rural": 1.0, "mountain": 1.0}, "registered_share": 1.0}
    a["opening"]["type_shares"] = {"mobile_money": 1.0}
    a["cashout"]["point_by_account_type"]["mobile_money"] = ["agent", "post_office"]
    a["behaviour"] = {"choice_scale_vnd": 10_000}
    share = {}
    for fee in (0, 500_000):
        a["points"]["agent"] = outlet(1.0, fee_vnd=fee)
        p = simulated(data)[0][1]
        kinds = p.points.kind[p.cashout_point[p.withdrawals > 0]]
        share[fee] = float((kinds == AGENT).mean())
    assert share[0] > 0.5 and share[500_000] < 0.01


def test_compiled_daytime_hours_equal_daytime_arrival():
    # the cash-out points draw ATM arrival hours with a compiled count of the hour shares below
    # the draw; it must give the very numbers of outlets.daytime_arrival on the gathered rows
    from welfare_sim.models import cashout

    if cashout._hours is None:
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(3)
    cdf = np.cumsum(rng.dirichlet(np.full(24, 0.5), size=40), axis=1)
    cdf[:, -1] = 1.0
    cdf[::4] = 1.0  # points whose visits are not by hour
    cdf[1, :6] = 0.0  # hours with no share are never drawn
    points = type("P", (), {"hour_cdf": cdf})()
    point = rng.integers(0, 40, 30_000)
    u_hour, u_within = rng.random(30_000), rng.random(30_000)
    u_hour[:20] = 0.0
    got = cashout._daytime_arrival(points, point, u_hour, u_within)
    assert got.tobytes() == outlets.daytime_arrival(cdf[point], u_hour, u_within).tobytes()
    assert (got[point == 1] >= 6 * 60).all()
