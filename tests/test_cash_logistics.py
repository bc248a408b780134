"""Cash logistics as the post office runs them: the commune payment schedule, cash planned from
the list, and queues that close on time. Properties over random small worlds, each read from
the engine's own day-by-day record (the points open, the cash delivered, every visit)."""

from __future__ import annotations

from typing import Any

import numpy as np
from factory import small
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from welfare_sim.models.cashout import COMMUNE_POINT, NO_CASH, PAID_PART
from welfare_sim.models.month.common import NO_DAY
from welfare_sim.models.payment_run import MonthRecord, Province
from welfare_sim.sim.engine import simulate
from welfare_sim.sim.scenario import validate_scenario

PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def random_small_world(draw: st.DrawFn, months: int, communes: int, beneficiaries: tuple[int, int]) -> dict[str, Any]:
    """The small world with a drawn seed, up to `months` months, and districts of up to `communes`
    communes holding a drawn number of beneficiaries."""
    data = small()
    data["seed"] = draw(st.integers(0, 2**31))
    data["months"] = draw(st.integers(1, months))
    for district in data["geography"]["districts"]:
        district["communes"] = draw(st.integers(1, communes))
        district["beneficiaries"] = draw(st.integers(*beneficiaries))
    return data


@st.composite
def scheduled_worlds(draw: st.DrawFn, cash_covers: bool) -> dict[str, Any]:
    """Small worlds with a random payment schedule. `cash_covers`: cash planned from the list
    covers it (cover >= 1, escorted runs never the limit) and commune points never go down."""
    data = random_small_world(draw, months=3, communes=6, beneficiaries=(20, 200))
    for district in data["geography"]["districts"]:
        district["post_offices"] = draw(st.integers(1, 2))
    first = draw(st.integers(2, 8))
    last = draw(st.integers(first, 12))
    run = data["payment_run"]
    run["commune_window"] = {"first_day": first, "last_day": last}
    run["counter_window"] = {"first_day": last + 1, "last_day": draw(st.integers(last + 1, 28))}
    run["schedule"] = {
        "teams_per_post_office": draw(st.integers(1, 3)),
        "communes_per_team_day": draw(st.integers(1, 3)),
        "days_per_commune": draw(st.integers(1, 3)),
        "move_min": draw(st.floats(0, 120)),
        "late_share": draw(st.floats(0, 0.5)),
    }
    a = data["assumptions"]
    a["collection"]["mean_first_delay_days"] = draw(st.floats(0, 4))
    a["collection"]["retry_prob"] = draw(st.floats(0, 1))
    a["points"]["partial_payout"] = draw(st.booleans())
    point = a["points"]["commune_point"]
    point["open_weekdays"] = sorted(draw(st.sets(st.integers(0, 6), min_size=1)))
    point["service_mean_min"] = draw(st.floats(1, 30))
    if cash_covers:
        point["float_cover"] = draw(st.floats(1.0, 3.0))
        point["downtime_prob"] = 0.0
        run["cash_in_transit"] = {"max_vnd_per_run": 10**10, "runs_per_team_day": 1}
    else:
        point["float_cover"] = draw(st.floats(0.2, 3.0))
        point["downtime_prob"] = draw(st.floats(0, 0.3))
        run["cash_in_transit"] = {
            "max_vnd_per_run": draw(st.integers(1, 50)) * 1_000_000,
            "runs_per_team_day": draw(st.integers(1, 3)),
        }
    return data


def run_days(data: dict[str, Any], records: list | None = None) -> list[tuple[Province, list, np.ndarray]]:
    """Run the world; for each month, the province, its day records (day, service, point) and
    its schedule (commune x payment days); `records` collects each month's strategy record."""
    scenario = validate_scenario(data, "hypothesis")
    months: list[tuple[Province, list, np.ndarray]] = []

    def keep(record: MonthRecord, province: Province) -> None:
        months.append((province, list(province._point_days), province.sched_days.copy()))
        if records is not None:
            records.append(record.strategies)

    simulate(scenario, on_month=keep)
    return months


@PROPERTY
@given(scheduled_worlds(cash_covers=True))
def test_cash_planned_from_the_list_never_runs_out_at_a_commune_point(data: dict[str, Any]) -> None:
    commune_visits = 0
    for province, days, _sched in run_days(data):
        for _d, service, point in days:
            at_commune = province.points.kind[point] == COMMUNE_POINT
            commune_visits += int(at_commune.sum())
            assert not (service.outcome[at_commune] == NO_CASH).any()
    assume(commune_visits > 0)  # a world where nobody went to a commune point shows nothing


@PROPERTY
@given(scheduled_worlds(cash_covers=False))
def test_nobody_is_paid_or_goes_on_a_closed_day_and_commune_points_pay_on_their_days(data: dict[str, Any]) -> None:
    for province, days, sched in run_days(data):
        communes = province.communes.n
        for d, service, point in days:
            paid = service.paid_vnd > 0
            assert service.point_open[point[paid]].all()
            # a commune point is open (and has cash) only on its scheduled days
            scheduled = (sched == d).any(axis=1)
            assert not service.point_open[:communes][~scheduled].any()
            assert not (service.float_vnd[:communes][~scheduled] > 0).any()
            # and trips to a commune point are made only on its days; to any point, only on a
            # day it was to open (a point found closed is down, which nobody foresees)
            at_commune = point < communes
            assert scheduled[point[at_commune]].all()
            assert (service.point_open | service.point_down)[point].all()


@PROPERTY
@given(scheduled_worlds(cash_covers=False))
def test_a_served_visit_starts_before_its_point_closes(data: dict[str, Any]) -> None:
    for _province, days, _sched in run_days(data):
        for _d, service, point in days:
            served = service.outcome <= PAID_PART
            start = service.arrival_min[served] + service.wait_min[served]
            assert (start < service.close_min[point[served]]).all()


def test_the_schedule_fits_teams_into_the_commune_window() -> None:
    """Hand-checked: 5 communes, 1 post office x 2 teams, 1 commune a team-day, 2 days each,
    window days 2-10 all open: communes 0,1 on days 2-3, communes 2,3 on days 4-5, commune 4 on
    days 6-7; the second district (2 communes) on days 2-3."""
    data = small(months=1)
    data["geography"]["districts"][0]["communes"] = 5
    data["payment_run"]["schedule"] = {"teams_per_post_office": 2, "communes_per_team_day": 1, "days_per_commune": 2}
    province: list[Province] = []
    simulate(validate_scenario(data, "test"), on_month=lambda record, p: province.append(p))
    assert province[0].sched_days.tolist() == [[2, 3], [2, 3], [4, 5], [4, 5], [6, 7], [2, 3], [2, 3]]
    # too small a window: the communes that do not fit get no commune day
    data["payment_run"]["commune_window"] = {"first_day": 2, "last_day": 4}
    province.clear()
    simulate(validate_scenario(data, "test"), on_month=lambda record, p: province.append(p))
    assert province[0].sched_days[4].tolist() == [NO_DAY, NO_DAY]
    assert province[0].sched_days[2].tolist() == [4, NO_DAY]
    assert np.array_equal(province[0].team_of[[0, 1, 2, 3, 4]], [0, 1, 0, 1, -1])


def test_escorted_runs_cap_the_cash_a_team_carries_and_only_then_does_a_commune_point_run_short() -> None:
    data = small(months=2)
    point = data["assumptions"]["points"]["commune_point"]
    point["downtime_prob"] = 0.0
    point["float_cover"] = 1.0
    limit = {"max_vnd_per_run": 1_000_000, "runs_per_team_day": 2, "cost_per_run_vnd": 300_000}
    data["payment_run"]["cash_in_transit"] = limit
    records: list[dict[str, int]] = []
    short = 0
    for province, days, _sched in run_days(data, records):
        communes = province.communes.n
        for _d, service, point_of in days:
            cash = service.float_vnd[:communes]
            team = province.team_of
            carried = np.bincount(team[cash > 0], weights=cash[cash > 0], minlength=province.n_teams)
            assert (carried <= 2 * limit["max_vnd_per_run"]).all()
            short += int((service.outcome[point_of < communes] == NO_CASH).sum())
    assert short > 0
    runs = [r["cash_in_transit_runs"] for r in records]
    assert all(n > 0 for n in runs)
    assert [r["cash_in_transit_cost_vnd"] for r in records] == [n * 300_000 for n in runs]


def test_a_team_serving_two_communes_a_day_splits_the_day_and_moves_between_them() -> None:
    """One team, two communes a day, an hour's move: Town's communes 0 and 1 share day 2 (07:30 to
    11:00, then 12:00 to 16:30), commune 2 has day 3 in the morning session."""
    data = small(months=1)
    data["payment_run"]["schedule"] = {
        "teams_per_post_office": 1, "communes_per_team_day": 2, "days_per_commune": 1, "move_min": 60,
    }
    province: list[Province] = []
    simulate(validate_scenario(data, "test"), on_month=lambda record, p: province.append(p))
    p = province[0]
    assert p.sched_days[:3, 0].tolist() == [2, 2, 3]
    hours = p._day_points
    assert hours.open_min[:3].tolist() == [450.0, 720.0, 450.0]
    assert hours.close_min[:3].tolist() == [660.0, 990.0, 660.0]
    assert p.team_of[:3].tolist() == [0, 0, 0]
    assert p.points.close_min[:3].tolist() == [990.0] * 3  # the points' own hours are unchanged
