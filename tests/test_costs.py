"""One cost model: what the state and the beneficiaries pay, the same in `run` and `compare`;
failed credits by cause; post-office cash counted once."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from tests.factory import small
from welfare_sim.models.cashout import POST_OFFICE
from welfare_sim.models.payment_run import MonthRecord, Province
from welfare_sim.sim.engine import simulate
from welfare_sim.sim.experiments import compare
from welfare_sim.sim.run import run_scenario
from welfare_sim.sim.scenario import validate_scenario


def strategy_world(**changes: Any) -> dict[str, Any]:
    """A world where the charged fees differ from the scenario-wide fee: agents with their own
    fee, a waiver in one district, and ATM points (strategy spending)."""
    data = small(**{"months": 3, **changes})
    data["interventions"]["agents"] = [
        {"name": "ag", "start": "2023-01", "communes_per_month": 5, "agents_per_commune": 2, "cashout_fee_vnd": 3000}
    ]
    data["interventions"]["fee_waivers"] = [{"name": "fw", "start": "2023-02", "districts": ["Town"]}]
    data["interventions"]["atm_points"] = [{"name": "po", "start": "2023-02", "communes_per_month": 3}]
    return data


def run_with_payments(data: dict[str, Any]) -> tuple[Any, pl.DataFrame]:
    scenario = validate_scenario(data, "tests/test_costs.py")
    with tempfile.TemporaryDirectory() as tmp:
        result = run_scenario(scenario, payments_dir=Path(tmp))
        payments = pl.read_parquet(sorted(Path(tmp).glob("part-*.parquet")))
    return result, payments


def months_of(data: dict[str, Any]) -> list[tuple[MonthRecord, Province, list, list, np.ndarray]]:
    """Each month's record with the province's day records, new cash per day and team per commune."""
    out = []

    def keep(rec: MonthRecord, province: Province) -> None:
        out.append((rec, province, list(province._point_days), list(province._delivered_days), province.team_of.copy()))

    simulate(validate_scenario(data, "tests/test_costs.py"), on_month=keep)
    return out


# --------------------------------------------------------------------------- run and compare agree


def test_run_and_compare_report_the_same_costs_to_the_dong() -> None:
    for model in ("fee", "bottom_up"):
        data = strategy_world(**{"assumptions.costs.model": model})
        scenario = validate_scenario(data, "test")
        (one,) = compare.run_all([scenario], ["s"], [scenario.seed])
        fig = one["figures"]
        result, payments = run_with_payments(data)
        cost = result.summary["cost_vnd"]
        assert cost["state_strategies"] > 0  # strategy spending is in the run's state cost
        assert fig["state_cost_total_vnd"] == cost["state_total"]
        assert fig["beneficiary_cost_total_vnd"] == cost["beneficiary_total"]
        assert fig["strategy_cost_vnd"] == cost["state_strategies"]
        assert cost["state_total"] == (
            cost["state_fees"] + cost["state_staff"] + cost["state_cash_transport"] + cost["state_strategies"]
        )
        # the beneficiaries' fees are the fees charged: an agent's own fee, none where waived
        charged = int(payments["fee_vnd"].sum())
        assert cost["beneficiary_fees"] == charged
        flat = int(payments["withdrawals"].sum()) * data["assumptions"]["costs"]["withdrawal_fee_vnd"]
        assert charged != flat


def test_the_fee_model_charges_the_fee_and_the_bottom_up_model_the_staff_and_runs_never_both() -> None:
    fee = run_with_payments(strategy_world())[0]
    bottom = run_with_payments(strategy_world(**{"assumptions.costs.model": "bottom_up"}))[0]
    f, b = fee.summary["cost_vnd"], bottom.summary["cost_vnd"]
    assert f["state_staff"] == f["state_cash_transport"] == 0
    assert b["state_staff"] > 0 and b["state_cash_transport"] > 0
    # the same run otherwise: the cost model changes no draw
    assert fee.summary["payments"] == bottom.summary["payments"]
    cash_payments = int(fee.monthly["paid_in_cash"].sum())
    per_cash = small()["assumptions"]["costs"]["fee_per_cash_payment_vnd"]
    # the fee per cash payment is charged in the fee model only (transactions >= cash payments)
    assert f["state_fees"] - b["state_fees"] >= cash_payments * per_cash > 0


def test_bottom_up_staff_are_paid_once_per_team_day_and_runs_as_the_model_counts_them() -> None:
    # two communes per team-day: a team-day charged per commune would count it twice
    data = small(
        **{
            "assumptions.costs.model": "bottom_up",
            "payment_run.schedule": {"communes_per_team_day": 2, "teams_per_post_office": 1},
        }
    )
    staff_per_team_day = data["assumptions"]["costs"]["staff_per_team_day_vnd"]
    per_run = 500_000  # the default cost of an escorted run
    office_day = data["assumptions"]["costs"]["cash_transport_per_point_day_vnd"]
    shared = 0
    for rec, province, days, delivered, team_of in months_of(data):
        communes = province.communes.n
        team_days = set()
        for (d, service, _point), _new in zip(days, delivered, strict=True):
            with_cash = np.flatnonzero(service.float_vnd[:communes] > 0)
            team_days |= {(int(team_of[c]), d) for c in with_cash}
            shared += len(with_cash) - len({int(team_of[c]) for c in with_cash})
        pts = rec.points
        commune = pts["kind"] == 0
        assert int(pts["staff_cost_vnd"].sum()) == len(team_days) * staff_per_team_day
        assert int(pts["staff_cost_vnd"][~commune].sum()) == 0
        runs = rec.strategies["cash_in_transit_runs"]
        office_days = sum(int(((new > 0) & (province.points.kind == POST_OFFICE)).sum()) for new in delivered)
        assert int(pts["cash_transport_cost_vnd"][commune].sum()) == runs * per_run
        assert int(pts["cash_transport_cost_vnd"][~commune].sum()) == office_days * office_day
    assert shared > 0  # some team-day did serve two communes


def test_points_table_keeps_point_months_with_cash_or_costs_but_no_visitors() -> None:
    data = strategy_world(**{"assumptions.costs.model": "bottom_up"})
    records = months_of(data)
    result, _ = run_with_payments(data)
    pts = result.points
    assert pts.filter((pl.col("visits") == 0) & (pl.col("float_vnd") > 0)).height > 0
    for column in ("float_vnd", "staff_cost_vnd", "cash_transport_cost_vnd", "paid_vnd"):
        assert int(pts[column].sum()) == sum(int(rec.points[column].sum()) for rec, *_ in records), column


# --------------------------------------------------------------------------- failed credits by cause


def test_failed_credits_by_cause_sum_and_match_the_account() -> None:
    data = small(
        months=4,
        **{
            "assumptions.account_life.credit_mismatch_prob": 0.3,
            "assumptions.account_life.monthly_dormancy_prob": 0.2,
            "assumptions.account_life.monthly_reactivation_prob": 0.0,
        },
    )
    result, payments = run_with_payments(data)
    m = result.monthly
    causes = ("failed_credits_mismatch", "failed_credits_dormant", "failed_credits_other")
    assert (m.select(pl.sum_horizontal(causes)).to_series() == m["failed_credits"]).all()
    assert all(int(m[c].sum()) > 0 for c in causes[:2])
    returned = pl.col("status") == "returned"
    # a cause exactly for the returned credits
    assert payments.filter(returned)["failed_credit_cause"].is_in(["none"]).sum() == 0
    assert (payments.filter(~returned)["failed_credit_cause"] == "none").all()
    # a dormant account's credit is returned as dormant unless its data also mismatched; "other"
    # never for an open or dormant account
    failed = payments.filter(returned)
    assert (failed.filter(pl.col("failed_credit_cause") == "dormant_account")["account_status"] == "dormant").all()
    assert failed.filter(
        (pl.col("failed_credit_cause") == "other") & pl.col("account_status").is_in(["open", "dormant"])
    ).is_empty()
    by_cause = payments.group_by("month", "failed_credit_cause").len()
    for cause, column in zip(("data_mismatch", "dormant_account", "other"), causes, strict=True):
        want = by_cause.filter(pl.col("failed_credit_cause") == cause)["len"].sum()
        assert int(m[column].sum()) == want
    summary = result.summary["failed_credits"]
    assert summary["data_mismatch"] + summary["dormant_account"] + summary["other"] == summary["count"]


# --------------------------------------------------------------------------- post-office cash counted once


def test_post_office_cash_kept_overnight_is_delivered_once() -> None:
    carried = 0
    for rec, province, days, _delivered, _team in months_of(small(months=3)):
        office = province.points.kind == POST_OFFICE
        # from the day records alone: each open day the office has its day's cash on hand; what
        # its safe held from the evening before is not delivered again
        safe = np.zeros(int(office.sum()), np.int64)
        new_cash = np.zeros_like(safe)
        on_hand_total = np.zeros_like(safe)
        for _d, service, _p in days:
            is_open = service.point_open[office]
            on_hand = service.float_vnd[office].astype(np.int64)
            new_cash += np.where(is_open, np.maximum(on_hand - safe, 0), 0)
            on_hand_total += on_hand
            safe = np.where(is_open, service.float_left_vnd[office], safe)
        delivered = rec.points["float_vnd"][office]
        assert (delivered == new_cash).all()
        # delivered covers what was paid and what the safes held at the month's end
        assert (delivered >= rec.points["paid_vnd"][office] + safe).all()
        carried += int((on_hand_total - new_cash).sum())
        led = rec.ledger
        assert led["float_delivered"] == led["float_paid"] + led["float_returned"]
    assert carried > 0  # cash was kept overnight, so counting it each day would overstate delivery
